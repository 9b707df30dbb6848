"""How much RAM and disk a model needs before it is downloaded: weights from the parameter count
and the quantization's bits per weight, plus the KV cache at a context length.

Weights: parameters × bits per weight / 8. The bits per weight are llama.cpp's averages over a
whole model (K-quants keep some tensors at a higher type, so Q4_K_M averages ≈ 4.85, not 4.5).
KV cache: 2 (keys and values) × layers × KV heads × head size × context × 2 bytes, the f16 cache
llama.cpp allocates by default for the whole context when a model is loaded. The daemon's
loader (registry.estimate_memory) measures the same two terms from a GGUF file on disk.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

# Average bits per weight of each quantization over a whole model.
BITS_PER_WEIGHT = {
    "Q4_K_M": 4.85,
    "Q4_1": 5.0,
    "Q5_K_M": 5.7,
    "Q8_0": 8.5,
    "F16": 16.0,
    "BF16": 16.0,
    "F32": 32.0,
}
# The quantizations the catalogue offers (`papercycle export --quant`), smallest first.
OFFERED = ("Q4_K_M", "Q5_K_M", "Q8_0", "F16")
KV_BYTES_PER_ELEMENT = 2  # llama.cpp's default f16 KV cache


def bits_per_weight(quant: str) -> float:
    try:
        return BITS_PER_WEIGHT[quant.upper()]
    except KeyError:
        raise ValueError(
            f"unknown quantization {quant!r} (choose from {', '.join(OFFERED)})"
        ) from None


def weights_bytes(params: int, quant: str) -> int:
    return round(params * bits_per_weight(quant) / 8)


def kv_cache_bytes(n_layer: int, n_kv_heads: int, head_dim: int, n_ctx: int) -> int:
    return 2 * n_layer * n_kv_heads * head_dim * n_ctx * KV_BYTES_PER_ELEMENT


@dataclass(frozen=True)
class MemoryNeed:
    """RAM a model needs loaded: weights plus KV cache (None when its shape is unknown)."""

    weights: int
    kv_cache: int | None
    n_ctx: int

    @property
    def total(self) -> int:
        return self.weights + (self.kv_cache or 0)

    def describe(self) -> str:
        kv = (
            f"{gib(self.kv_cache)} KV cache at {self.n_ctx:,} tokens"
            if self.kv_cache is not None
            else "an unknown KV cache (attention shape not known)"
        )
        return f"{gib(self.total)} RAM ({gib(self.weights)} weights + {kv})"


def memory_need(
    params: int,
    quant: str,
    n_ctx: int,
    shape: tuple[int, int, int] | None,
    weights: int | None = None,
) -> MemoryNeed:
    """RAM to serve `params` parameters at `quant` with an `n_ctx` KV cache; `shape` is
    (n_layer, n_kv_heads, head_dim), None when unknown; `weights` replaces the estimate when
    the file's size is known."""
    kv = kv_cache_bytes(*shape, n_ctx) if shape else None
    return MemoryNeed(weights if weights is not None else weights_bytes(params, quant), kv, n_ctx)


def machine_ram() -> int | None:
    """Physical memory of this machine (bytes), None where the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(path: Path) -> int:
    """Free bytes on the file system that holds `path` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


def gib(size: int | None) -> str:
    if size is None:
        return "?"
    if size < 2**20:
        return f"{size / 2**10:.0f} KiB"
    if size < 2**30:
        return f"{size / 2**20:.0f} MiB"
    return f"{size / 2**30:.1f} GiB"
