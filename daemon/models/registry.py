"""Models by name: checking them, loading them lazily, keeping them warm, unloading them.

At most one model per role is resident (a second reviewer evicts the first), loaded models
must fit the memory budget (idle models of other roles are evicted to make room), and a model
unused for `keep_alive` seconds is unloaded by `sweep()`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papercycle.daemon.config import Config, ModelConfig
from papercycle.daemon.models.backend import Backend, GenerationError
from papercycle.daemon.models.gguf_metadata import GGUFError, GGUFMetadata, read_gguf_metadata

log = logging.getLogger(__name__)

# Architectures the bundled llama.cpp loads and that reviewer/researcher models use; a GGUF of
# another architecture (a vision tower, an embedding model, a LoRA adapter) is refused at add.
SUPPORTED_ARCHITECTURES = {
    "llama",
    "qwen2",
    "qwen3",
    "qwen2moe",
    "qwen3moe",
    "mistral3",
    "phi3",
    "phi4",
    "gemma",
    "gemma2",
    "gemma3",
    "olmo",
    "olmo2",
    "deepseek2",
    "granite",
    "command-r",
    "cohere2",
    "mixtral",
    "internlm2",
    "exaone",
}
MIN_CONTEXT = 256


class ModelError(RuntimeError):
    """A model that cannot be used; the message names it and the numbers."""


@dataclass
class Loaded:
    config: ModelConfig
    backend: Backend
    loaded_at: float
    last_used: float
    busy: int = 0


def identity(model: ModelConfig) -> dict[str, Any]:
    """What decides a model's outputs, for cache keys: the file (path, size, mtime) or the
    endpoint."""
    if model.backend == "http":
        return {"url": model.url, "model": model.api_model}
    try:
        stat = Path(model.path).stat()
    except OSError as error:
        raise ModelError(f"model {model.name!r}: {model.path}: {error.strerror}") from None
    return {
        "path": str(Path(model.path).resolve()),
        "size": stat.st_size,
        "mtime": stat.st_mtime_ns,
    }


def check_model(model: ModelConfig) -> GGUFMetadata | None:
    """Missing, corrupt, wrong-architecture files and impossible context lengths, named."""
    if model.backend == "http":
        return None
    try:
        meta = read_gguf_metadata(Path(model.path))
    except GGUFError as error:
        raise ModelError(f"model {model.name!r}: {error}") from None
    if meta.is_adapter:
        raise ModelError(
            f"model {model.name!r}: {model.path} is a LoRA adapter, not a model "
            "(merge it first: papercycle export ADAPTER -o merged.gguf)"
        )
    if meta.architecture not in SUPPORTED_ARCHITECTURES:
        raise ModelError(
            f"model {model.name!r}: architecture {meta.architecture!r} is not a supported "
            f"text model (supported: {', '.join(sorted(SUPPORTED_ARCHITECTURES))})"
        )
    if meta.context_length and model.n_ctx > meta.context_length:
        raise ModelError(
            f"model {model.name!r}: n_ctx {model.n_ctx} tokens is more than the "
            f"{meta.context_length} tokens it was trained for; set n_ctx <= {meta.context_length}"
        )
    if model.n_ctx < MIN_CONTEXT:
        raise ModelError(f"model {model.name!r}: n_ctx {model.n_ctx} is below {MIN_CONTEXT}")
    kv_bytes, memory = meta.kv_cache_bytes(model.n_ctx), machine_memory()
    if kv_bytes is not None and memory is not None and kv_bytes > memory:
        # a header claiming a 4-billion-token context must not become a 100 GiB allocation
        raise ModelError(
            f"model {model.name!r}: n_ctx {model.n_ctx} needs a KV cache of about "
            f"{kv_bytes / 2**30:,.1f} GiB, more than this machine's {memory / 2**30:,.1f} GiB "
            "of memory; set a smaller n_ctx (--n-ctx)"
        )
    if not meta.chat_template:
        raise ModelError(
            f"model {model.name!r}: {model.path} has no chat template (tokenizer.chat_template)"
        )
    return meta


def estimate_memory(model: ModelConfig) -> int:
    """Weights (the file) plus an f16 KV cache for n_ctx tokens."""
    if model.backend == "http":
        return 0
    meta = read_gguf_metadata(Path(model.path))
    return meta.file_size + (meta.kv_cache_bytes(model.n_ctx) or 0)


def machine_memory() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


EventSink = Callable[[str, dict[str, Any]], None]


class Registry:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.loaded: dict[str, Loaded] = {}
        self._tokenizers: dict[str, Any] = {}
        self._lock = threading.RLock()
        # saved KV states per model file and context size (models/kv_state.py); they outlive
        # an unload, so a reloaded model still skips the prefix it had read
        self._snapshots: dict[tuple, Any] = {}
        # prompt tokens evaluated by unloaded backends (the live ones count their own)
        self._evaluated_before = 0

    @property
    def budget_bytes(self) -> int:
        return int(self.config.daemon.memory_budget_mb) * 1024 * 1024

    def count_tokens(self, model: ModelConfig, text: str) -> int | None:
        if model.backend == "http":
            return None
        from papercycle.daemon.models.llama_backend import Tokenizer

        key = str(identity(model))
        with self._lock:
            tokenizer = self._tokenizers.get(key)
            if tokenizer is None:
                check_model(model)
                tokenizer = self._tokenizers[key] = Tokenizer(model.path)
        return tokenizer.count(text)

    def acquire(self, model: ModelConfig, on_event: EventSink) -> Loaded:
        """The model loaded and marked busy (release it with `release`)."""
        with self._lock:
            entry = self.loaded.get(model.name)
            if entry is not None and entry.config != model:
                self._unload(model.name)  # its configuration changed
                entry = None
            if entry is None:
                entry = self._load(model, on_event)
            entry.busy += 1
            entry.last_used = time.monotonic()
            return entry

    def release(self, entry: Loaded) -> None:
        with self._lock:
            entry.busy -= 1
            entry.last_used = time.monotonic()

    def _load(self, model: ModelConfig, on_event: EventSink) -> Loaded:
        if model.backend == "http":
            from papercycle.daemon.models.http_backend import HttpBackend, resolve_api_key

            try:
                key = resolve_api_key(model.name, model.api_key, model.api_key_env)
            except GenerationError as error:
                raise ModelError(str(error)) from None
            backend: Backend = HttpBackend(
                model.url,
                model.api_model,
                model.n_ctx,
                api_key=key,
                max_parallel=model.max_parallel,
            )
            entry = Loaded(model, backend, time.monotonic(), time.monotonic())
            self.loaded[model.name] = entry
            return entry
        check_model(model)
        same = self._same_weights(model)
        if same is not None:
            # Another name for the same file and context (e.g. the paper and the section
            # reviewer), whatever its threads: one llama.cpp object, so one copy of the weights
            # and a KV cache that is shared, not evicted.
            entry = Loaded(model, same.backend, time.monotonic(), time.monotonic())
            self.loaded[model.name] = entry
            return entry
        need = estimate_memory(model)
        for name, other in list(self.loaded.items()):
            if other.config.role == model.role and other.busy == 0:
                self._unload(name)  # one resident model per role
        used = sum({id(e.backend): e.backend.memory_bytes for e in self.loaded.values()}.values())
        for name, other in sorted(self.loaded.items(), key=lambda kv: kv[1].last_used):
            if used + need <= self.budget_bytes:
                break
            if other.busy == 0:
                used -= other.backend.memory_bytes
                self._unload(name)
        if used + need > self.budget_bytes:
            raise ModelError(
                f"model {model.name!r} needs about {need / 2**20:.0f} MiB (weights + KV cache "
                f"for {model.n_ctx} tokens) but {max(0, self.budget_bytes - used) / 2**20:.0f} "
                f"MiB of the {self.budget_bytes / 2**20:.0f} MiB memory budget are free"
            )
        on_event("loading", {"model": model.name, "path": model.path, "bytes": need})
        started = time.monotonic()
        from papercycle.daemon.models.gpu_support import gpu_layers_problem
        from papercycle.daemon.models.llama_backend import LlamaBackend

        problem = gpu_layers_problem(model.n_gpu_layers, model.name)
        if problem:
            log.warning("%s", problem)

        try:
            backend = LlamaBackend(
                model.path,
                model.n_ctx,
                model.n_threads,
                model.n_gpu_layers,
                need,
                snapshots=self._snapshots_for(model),
                n_threads_batch=model.n_threads_batch,
                flash_attn=model.flash_attn,
                kv_cache_type=model.kv_cache_type,
            )
        except GenerationError as error:
            raise ModelError(f"model {model.name!r}: {error}") from None
        seconds = time.monotonic() - started
        on_event("loaded", {"model": model.name, "seconds": round(seconds, 3)})
        entry = Loaded(model, backend, time.monotonic(), time.monotonic())
        self.loaded[model.name] = entry
        return entry

    @staticmethod
    def _weights(model: ModelConfig) -> tuple:
        # Not the thread counts: two names for one file differing only in threads share the
        # first one's llama.cpp object (one copy of the weights; its threads). Attention and
        # KV cache type make another context, so another load.
        return (
            str(Path(model.path).resolve()),
            model.n_ctx,
            model.n_gpu_layers,
            model.flash_attn,
            model.kv_cache_type,
        )

    def _same_weights(self, model: ModelConfig) -> Loaded | None:
        if model.backend != "llama":
            return None
        for other in self.loaded.values():
            if other.config.backend == "llama" and self._weights(other.config) == self._weights(
                model
            ):
                return other
        return None

    def _snapshots_for(self, model: ModelConfig) -> Any:
        from papercycle.daemon.models.kv_state import Snapshots

        # a KV state fits only a context with the same cache layout (type; V transposed or not
        # depends on flash attention)
        key = (str(identity(model)), model.n_ctx, model.flash_attn, model.kv_cache_type)
        snaps = self._snapshots.get(key)
        if snaps is None:
            daemon = self.config.daemon
            snaps = self._snapshots[key] = Snapshots(
                int(getattr(daemon, "kv_state_budget_mb", 1024)) * 1024 * 1024,
                int(getattr(daemon, "kv_state_min_tokens", 256)),
            )
        return snaps

    def _unload(self, name: str) -> None:
        entry = self.loaded.pop(name, None)
        if entry is None:
            return
        if any(other.backend is entry.backend for other in self.loaded.values()):
            return  # still served under another name
        self._evaluated_before += getattr(entry.backend, "prompt_tokens_evaluated", 0)
        entry.backend.close()

    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens llama.cpp evaluated since the daemon started (after prefix reuse)."""
        with self._lock:
            live = {id(e.backend): e.backend for e in self.loaded.values()}
            return self._evaluated_before + sum(
                getattr(b, "prompt_tokens_evaluated", 0) for b in live.values()
            )

    def kv_states(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"model": key[0], "n_ctx": key[1], **snaps.status()}
                for key, snaps in self._snapshots.items()
            ]

    def sweep(self, now: float | None = None) -> list[str]:
        """Unload models idle for longer than keep_alive; returns their names."""
        now = time.monotonic() if now is None else now
        gone = []
        with self._lock:
            for name, entry in list(self.loaded.items()):
                if entry.busy == 0 and now - entry.last_used > self.config.daemon.keep_alive:
                    self._unload(name)
                    gone.append(name)
        return gone

    def unload_all(self) -> None:
        with self._lock:
            for name in list(self.loaded):
                self._unload(name)
            self._tokenizers.clear()

    def status(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return [
                {
                    "name": name,
                    "role": e.config.role,
                    "backend": e.config.backend,
                    "memory_bytes": e.backend.memory_bytes,
                    "n_ctx": e.backend.n_ctx,
                    "prompt_tokens_evaluated": getattr(e.backend, "prompt_tokens_evaluated", None),
                    "prompt_tokens_reused": getattr(e.backend, "prompt_tokens_reused", None),
                    "threads": getattr(e.backend, "threads", lambda: None)(),
                    "busy": e.busy > 0,
                    "idle_seconds": round(now - e.last_used, 1),
                    "unload_in": None
                    if e.busy
                    else max(0.0, round(self.config.daemon.keep_alive - (now - e.last_used), 1)),
                }
                for name, e in self.loaded.items()
            ]
