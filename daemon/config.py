"""The daemon's TOML configuration: settings and the models it may serve, by name.

User file: `<config dir>/config.toml`. A project's `.papercycle.toml` picks among the user's
models the ones its reviews use (`[review]`). Its own `[[models]]` tables (a GGUF path to load,
an HTTP endpoint to send the paper to) count only in a folder the user trusts (`[trust]
folders`, `papercycle trust PATH`, as VS Code's workspace trust): a cloned project is
untrusted input, and elsewhere they are ignored with a warning that says how to trust it.

```toml
[daemon]
keep_alive = 300          # seconds a model stays loaded after its last use
memory_budget_mb = 8192   # loaded models (weights + KV cache) must fit
max_queue = 16            # jobs waiting beyond this get a "busy" answer
transport = "ipc"         # "ipc" or "tcp" (127.0.0.1 with a token)
listen = ""               # e.g. "tcp://0.0.0.0:5555": other interfaces, only when asked (warns)

[trust]
folders = ["/home/me/papers"]   # projects in these folders may declare their own [[models]]

[[models]]
name = "deepreviewer-7b"
path = "/models/deepreviewer-7b-Q4_K_M.gguf"
role = "reviewer"         # reviewer | researcher | grader
format = "deepreviewer"   # cyclereviewer | deepreviewer | aiscientist | openreviewer | section
n_ctx = 16384
n_threads = 8             # 0 (default): this machine's physical cores
n_threads_batch = 0       # prompt reading; 0: as n_threads
flash_attn = false        # llama.cpp's flash attention (slower on CPU here: measured)
kv_cache_type = "f16"     # f16 | q8_0 | q4_0 (quantized: needs flash_attn)
n_gpu_layers = 0
backend = "llama"         # or "http" with url = "http://gpu-box:8080/v1"
# http only: api_key_env = "VLLM_API_KEY" (or api_key = "..."), max_parallel = 4
[models.sampling]
temperature = 0.4
max_tokens = 4096
```
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w
from papercycle.private import write_private

ROLES = ("reviewer", "researcher", "grader")
FORMATS = ("cyclereviewer", "deepreviewer", "aiscientist", "openreviewer", "section")
BACKENDS = ("llama", "http")
SAMPLING_KEYS = {
    "temperature": float,
    "top_p": float,
    "top_k": int,
    "min_p": float,
    "repeat_penalty": float,
    "max_tokens": int,
    "seed": int,
}
DEFAULT_SAMPLING = {"temperature": 0.4, "top_p": 0.95, "max_tokens": 2048, "seed": 0}
# llama.cpp's KV cache element types (ggml type ids, as llama_context_params.type_k/type_v take)
KV_CACHE_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}

# settings added later, left out of saved files at their defaults (older files stay as they were)
_QUIET_DEFAULTS = {
    "n_threads_batch": 0,
    "max_parallel": 4,
    "flash_attn": False,
    "kv_cache_type": "f16",
}

log = logging.getLogger(__name__)
_logged: set[str] = set()


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the file and the entry."""


@dataclass
class ModelConfig:
    name: str
    path: str = ""
    role: str = "reviewer"
    format: str = "section"
    n_ctx: int = 4096
    # 0: the physical cores (models/threads.py), not llama-cpp-python's cpu_count // 2
    n_threads: int = 0
    n_threads_batch: int = 0  # prompt reading; 0: as n_threads
    # Flash attention: off, measured. On this CPU build (AVX2) it read a 12k-token prompt
    # slower than without (SmolLM2, 2 cores, quiet: 79 vs 99 tok/s) and decoded slower after
    # a review-sized prompt (bench/laptop_bench.py --part long / attention, docs/benchmarks.md
    # "Fast on a real laptop"); a GPU build may gain from it
    flash_attn: bool = False
    # The KV cache's element type for keys and values; a quantized cache (q8_0 halves its
    # memory) needs flash attention in llama.cpp
    kv_cache_type: str = "f16"
    n_gpu_layers: int = 0
    backend: str = "llama"
    url: str = ""  # http backend: base URL of an OpenAI-compatible API (".../v1")
    api_model: str = ""  # http backend: the model name the server expects
    # http backend: the key a server started with --api-key expects, sent as a Bearer token;
    # `api_key_env` names an environment variable holding it (kept out of the file)
    api_key: str = ""
    api_key_env: str = ""
    # http backend: requests sent to it at once (llama-server --parallel, vLLM batch)
    max_parallel: int = 4
    # Constrain full reviews with a grammar of the format's skeleton (headings, numeric
    # scores). Off for real reviewers (their own layout is what they were trained on); on
    # for untrained/tiny models, whose free text would parse to nothing.
    structured: bool = False
    sampling: dict[str, Any] = field(default_factory=dict)
    # Where `papercycle models pull` got the file: the Hugging Face repository and the commit
    # it was pinned to (empty for files the user added)
    hf_repo: str = ""
    revision: str = ""

    def settings(self) -> dict[str, Any]:
        return {**DEFAULT_SAMPLING, **self.sampling}

    def to_toml(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v not in ("", {}) or k == "name"}
        for key, default in _QUIET_DEFAULTS.items():  # written only when set otherwise
            if out.get(key) == default:
                del out[key]
        return out

    @classmethod
    def from_toml(cls, data: dict[str, Any], where: str) -> ModelConfig:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
            raise ConfigError(f"{where}: every [[models]] entry needs a name")
        name = data["name"]
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"{where}: model {name!r}: unknown key(s) {', '.join(unknown)}")
        model = cls(**data)
        model.validate(where)
        return model

    def validate(self, where: str = "config") -> None:
        label = f"{where}: model {self.name!r}"
        if self.role not in ROLES:
            raise ConfigError(f"{label}: role {self.role!r} is not one of {', '.join(ROLES)}")
        if self.format not in FORMATS:
            raise ConfigError(f"{label}: format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"{label}: backend {self.backend!r} is not llama or http")
        if self.backend == "llama" and not self.path:
            raise ConfigError(f"{label}: no GGUF path")
        if self.backend == "http" and not self.url:
            raise ConfigError(f"{label}: the http backend needs a url")
        numbers = (
            ("n_ctx", self.n_ctx),
            ("n_threads", self.n_threads),
            ("n_threads_batch", self.n_threads_batch),
            ("max_parallel", self.max_parallel),
        )
        for key, value in numbers:
            low = {"n_ctx": 256, "max_parallel": 1}.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{label}: {key} = {value!r} is not a usable number")
        if not isinstance(self.flash_attn, bool):
            raise ConfigError(f"{label}: flash_attn = {self.flash_attn!r} is not true or false")
        if self.kv_cache_type not in KV_CACHE_TYPES:
            raise ConfigError(
                f"{label}: kv_cache_type = {self.kv_cache_type!r} is not one of "
                + ", ".join(KV_CACHE_TYPES)
            )
        if self.kv_cache_type != "f16" and not self.flash_attn:
            raise ConfigError(
                f"{label}: kv_cache_type = {self.kv_cache_type!r} needs flash_attn = true "
                "(llama.cpp quantizes the V cache only with flash attention)"
            )
        for key, value in self.sampling.items():
            kind = SAMPLING_KEYS.get(key)
            if kind is None:
                raise ConfigError(f"{label}: unknown sampling setting {key!r}")
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(f"{label}: sampling {key} = {value!r} is not a number")


@dataclass
class DaemonSettings:
    keep_alive: float = 300.0
    memory_budget_mb: int = 8192
    max_queue: int = 16
    transport: str = "ipc"
    listen: str = ""
    heartbeat_timeout: float = 10.0
    # Stop after this many seconds without any request (0: never). Tests and CI set it, so a
    # daemon whose test run was killed does not linger.
    exit_after_idle: float = 0.0
    max_message_bytes: int = 16 * 1024 * 1024
    # Incremental review (sessions/, watch.py, models/kv_state.py)
    watch_debounce: float = 1.5  # seconds of quiet after file changes before an update
    paper_review_threshold: float = 0.05  # share of the paper's words changed -> full review
    kv_state_budget_mb: int = 1024  # saved KV states (per model file)
    kv_state_min_tokens: int = 256  # contexts shorter than this are not saved
    # An open project nobody subscribes to and nobody asked about for this long is closed
    # (its watcher stopped): a client that died without closing it (0: never)
    project_idle_timeout: float = 600.0


@dataclass
class Config:
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    models: dict[str, ModelConfig] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)  # project: default model per role
    path: Path | None = None
    trusted: list[str] = field(default_factory=list)  # [trust] folders (user file only)
    warnings: list[str] = field(default_factory=list)  # a project's settings that were ignored
    # [severities]: read by the CLI and the language server (daemon/severity.py), kept here
    # only so that saving the file keeps it
    severities: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        config = cls(path=path)
        if path.is_file():
            data = _read(path)
            config.merge(data, str(path), allow_daemon=True)
            config.trusted = _trusted_folders(data.get("trust"), path)
            if isinstance(data.get("severities"), dict):
                config.severities = dict(data["severities"])
        return config

    def trusts(self, folder: Path) -> bool:
        """`folder` is one the user trusts, or inside one (symlinks resolved)."""
        real = folder.resolve()
        return any(real.is_relative_to(Path(t).resolve()) for t in self.trusted)

    def with_project(self, project_dir: Path | None) -> Config:
        """This configuration with a project's `.papercycle.toml` choices on top (and its own
        models when the user trusts the folder); `warnings` says what was ignored."""
        if project_dir is None:
            return self
        file = project_dir / ".papercycle.toml"
        if not file.is_file():
            return self
        merged = Config(
            self.daemon, dict(self.models), dict(self.review), self.path, list(self.trusted)
        )
        data = _read(file)
        declared = data.get("models")
        if declared and not self.trusts(project_dir):
            data = {key: value for key, value in data.items() if key != "models"}
            names = [m.get("name", "?") for m in declared if isinstance(m, dict)]
            merged.warnings.append(
                f"{file}: [[models]] {', '.join(map(str, names)) or '(unnamed)'} ignored: an "
                "untrusted project may only choose among your configured models; if you "
                f"trust this folder, run `papercycle trust {project_dir}`"
            )
            if merged.warnings[-1] not in _logged:  # once per daemon, not once per review
                _logged.add(merged.warnings[-1])
                log.warning("%s", merged.warnings[-1])
        merged.merge(data, str(file), allow_daemon=False)
        return merged

    def merge(self, data: dict[str, Any], where: str, *, allow_daemon: bool) -> None:
        daemon = data.get("daemon")
        if daemon is not None and allow_daemon:
            names = {f.name for f in fields(DaemonSettings)}
            for key, value in daemon.items():
                if key not in names:
                    raise ConfigError(f"{where}: [daemon] unknown key {key!r}")
                setattr(self.daemon, key, value)
            if self.daemon.transport not in ("ipc", "tcp"):
                raise ConfigError(f"{where}: [daemon] transport must be ipc or tcp")
        models = data.get("models", [])
        if not isinstance(models, list):
            raise ConfigError(f"{where}: models must be an array of tables ([[models]])")
        for entry in models:
            model = ModelConfig.from_toml(entry, where)
            if model.path and not Path(model.path).is_absolute():
                model.path = str((Path(where).parent / model.path).absolute())
            self.models[model.name] = model
        review = data.get("review")
        if isinstance(review, dict):
            self.review.update(review)

    def model_for(self, name: str | None, role: str = "reviewer", fmt: str | None = None):
        """The model named `name`, or this project's choice for `role`, or the only/first model
        of that role (of format `fmt` when given)."""
        if name:
            if name not in self.models:
                known = ", ".join(sorted(self.models)) or "none configured"
                raise ConfigError(f"no model named {name!r} (known: {known})")
            return self.models[name]
        chosen = self.review.get("section_model" if fmt == "section" else "model")
        if isinstance(chosen, str) and chosen in self.models:
            return self.models[chosen]
        candidates = [m for m in self.models.values() if m.role == role]
        if fmt is not None:
            preferred = [m for m in candidates if m.format == fmt]
            candidates = preferred or candidates
        if not candidates:
            raise ConfigError(
                f"no {role} model configured: get one with `papercycle models pull NAME` "
                "(`papercycle models catalogue` lists them) or `papercycle models add NAME PATH`"
            )
        return candidates[0]

    def save(self, path: Path | None = None) -> None:
        """Write the user file (models and daemon settings), atomically."""
        target = path or self.path
        if target is None:
            raise ConfigError("no configuration file to write")
        data: dict[str, Any] = {}
        if self.daemon != DaemonSettings():
            data["daemon"] = {
                k: v for k, v in asdict(self.daemon).items() if getattr(DaemonSettings(), k) != v
            }
        data["models"] = [m.to_toml() for m in self.models.values()]
        if self.review:  # the user's own choices survive `models add` and `trust`
            data["review"] = dict(self.review)
        if self.trusted:
            data["trust"] = {"folders": list(self.trusted)}
        if self.severities:
            data["severities"] = dict(self.severities)
        write_private(target, tomli_w.dumps(data))


def _trusted_folders(table: Any, where: Path) -> list[str]:
    if table is None:
        return []
    folders = table.get("folders") if isinstance(table, dict) else None
    if not isinstance(folders, list) or not all(isinstance(f, str) and f for f in folders):
        raise ConfigError(f"{where}: [trust] folders must be a list of folder paths")
    return [str(Path(f).expanduser().absolute()) for f in folders]


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
