"""The commented configuration file `papercycle config init` writes: every key of `[daemon]`
and of a `[[models]]` entry, its default and what it means.

The `[daemon]` keys are written with their default values (so the file loads back to the
defaults, and a user edits a value rather than uncomments a line); the model keys are a
commented example, followed by the embedded default model when it is installed (what a first
run would register). The defaults come from the dataclasses in config.py, the meanings from
here: a key added there without a meaning here fails `render` (and its test).
"""

from __future__ import annotations

from dataclasses import fields

import tomli_w
from papercycle.daemon.config import (
    BACKENDS,
    DEFAULT_SAMPLING,
    FORMATS,
    KV_CACHE_TYPES,
    ROLES,
    SAMPLING_KEYS,
    DaemonSettings,
    ModelConfig,
)

DAEMON_MEANINGS = {
    "keep_alive": "seconds a model stays loaded after its last use",
    "memory_budget_mb": "loaded models (weights + KV cache) must fit in this many MiB",
    "max_queue": "jobs waiting beyond this get a 'busy' answer",
    "transport": '"ipc" (a private socket) or "tcp" (127.0.0.1 with a token)',
    "listen": 'e.g. "tcp://0.0.0.0:5555": other interfaces, only when asked (warns)',
    "heartbeat_timeout": "reserved: not read by this version",
    "exit_after_idle": "stop after this many seconds without a request (0: never)",
    "max_message_bytes": "largest request the daemon reads",
    "watch_debounce": "seconds of quiet after file changes before a review update",
    "paper_review_threshold": "share of the paper's words changed that triggers a full review",
    "kv_state_budget_mb": "MiB of saved KV states (prompt prefixes reused) per model file",
    "kv_state_min_tokens": "prompts shorter than this are not saved",
    "project_idle_timeout": "seconds before an open project nobody asks about is closed (0: never)",
}

MODEL_MEANINGS = {
    "name": "the name commands and editors use",
    "path": "the GGUF file (llama backend)",
    "role": " | ".join(ROLES),
    "format": "the review format it was trained on: " + " | ".join(FORMATS),
    "n_ctx": "context length in tokens (the paper and the answer must fit)",
    "n_threads": "CPU threads for decoding (0: this machine's physical cores)",
    "n_threads_batch": "CPU threads for reading the prompt (0: as n_threads)",
    "flash_attn": "llama.cpp's flash attention (off: slower on CPU, measured; try on a GPU)",
    "kv_cache_type": f"KV cache keys and values: {' | '.join(KV_CACHE_TYPES)} (quantized: less "
    "memory, needs flash_attn)",
    "n_gpu_layers": "layers offloaded to the GPU (needs a GPU build of llama.cpp; -1: all)",
    "backend": " | ".join(BACKENDS) + ' (an OpenAI-compatible server at "url")',
    "url": 'http backend: base URL, e.g. "http://gpu-box:8080/v1"',
    "api_model": "http backend: the model name the server expects",
    "api_key": "http backend: the server's key (prefer api_key_env: keeps it out of this file)",
    "api_key_env": "http backend: the environment variable that holds the server's key",
    "max_parallel": "http backend: requests sent to the server at once",
    "structured": "force the format's layout with a grammar (untrained or tiny models)",
    "sampling": "[models.sampling] table: " + ", ".join(SAMPLING_KEYS),
    "hf_repo": "set by `papercycle models pull`: the Hugging Face repository",
    "revision": "set by `papercycle models pull`: the commit it was pinned to",
}

HEADER = """\
# papercycle's configuration (written by `papercycle config init`; every key, its default and
# its meaning). Models are added by `papercycle models pull NAME` / `papercycle models add`,
# which rewrite this file without these comments. A project's own `.papercycle.toml` chooses
# among these models with [review] model = "NAME" / section_model = "NAME".
"""


def _value(value: object) -> str:
    """A value as TOML writes it (strings quoted, floats with their point)."""
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def render(models: list[ModelConfig] | None = None) -> str:
    """The commented template; `models` (the embedded default, when installed) are written as
    real entries after the commented example."""
    defaults = DaemonSettings()
    lines = [HEADER, "[daemon]"]
    for item in fields(DaemonSettings):
        setting = f"{item.name} = {_value(getattr(defaults, item.name))}"
        lines.append(f"{setting:<32} # {DAEMON_MEANINGS[item.name]}")
    lines += [
        "",
        "[trust]",
        "# projects in these folders may declare their own [[models]] (`papercycle trust PATH`)",
        "folders = []",
        "",
        "# One [[models]] table per model. An example (remove the leading '# ' to use it):",
    ]
    example = ModelConfig(name="my-reviewer", path="/models/my-reviewer-Q4_K_M.gguf")
    for item in fields(ModelConfig):
        if item.name == "sampling":
            continue
        value = getattr(example, item.name)
        lines.append(f"# {item.name + ' = ' + _value(value):<40} # {MODEL_MEANINGS[item.name]}")
    lines.append(f"# [models.sampling]{'':<22} # {MODEL_MEANINGS['sampling']}")
    for key, value in DEFAULT_SAMPLING.items():
        lines.append(f"# {key} = {_value(value)}")
    for model in models or []:
        lines += ["", tomli_w.dumps({"models": [model.to_toml()]}).rstrip()]
    return "\n".join(lines) + "\n"
