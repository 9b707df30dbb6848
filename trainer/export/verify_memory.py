"""How much RAM verification needs, in which precision it runs, and when it is skipped.

Verification holds the Hugging Face model in RAM (torch), runs the probes, frees it, and then
loads the GGUF in llama.cpp's own process: the two are never resident together, so its peak
is the larger of the two sides. In float32 an 8B model alone is ~32 GB, more than a laptop
has; in its checkpoint's 16-bit type it is ~16 GB. The precision is picked before anything is
loaded, from the parameter count (read from the checkpoint's file headers, not its weights)
and the memory the system has available now; when not even 16 bits fit, verification is
skipped with a line that says why and how to run it elsewhere, instead of being killed.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from papercycle.trainer.export.errors import ExportError

# The safetensors format caps its JSON header at 100 MB: a larger length is a damaged file.
HEADER_LIMIT = 100_000_000
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
# The probes are a few hundred tokens: their logits are small next to the weights, but a
# 128k vocabulary makes them count (positions x vocabulary x 4 bytes, held twice).
PROBE_POSITIONS = 600
# torch, transformers and the tokenizer in the exporting process, measured at ~0.6 GB here;
# llama.cpp's worker process with its libraries at ~0.2 GB.
TORCH_RUNTIME = 700 * 2**20
LLAMA_RUNTIME = 300 * 2**20
# Weights and runtime are not all of it (allocator slack, activations): 10% on top.
MARGIN = 1.10


@dataclass(frozen=True)
class VerifyPlan:
    """The precision verification runs in (None: skipped), and the numbers it was chosen by."""

    dtype: str | None
    parameters: int
    need_bytes: int  # estimated peak in `dtype` (or in the smallest precision, when skipped)
    available_bytes: int | None  # None: unknown (not Linux): verification is attempted
    skip_reason: str | None = None


def plan_verification(
    hf_dir: Path, gguf_bytes: int, *, requested: str = "auto", limit_bytes: int | None = None
) -> VerifyPlan:
    """Pick the reference precision: `requested` ("auto": the checkpoint's own type, or 16 bits
    when float32 does not fit) if the estimated peak fits `limit_bytes` (default: the memory
    available now), else None with the reason."""
    parameters = checkpoint_parameters(hf_dir)
    vocab_size = _read_config(hf_dir).get("vocab_size")
    vocab_size = vocab_size if isinstance(vocab_size, int) else None
    available = limit_bytes if limit_bytes is not None else available_memory()
    stored = checkpoint_dtype(hf_dir)
    if requested != "auto":
        candidates = [requested]
    elif stored == "float32":
        candidates = ["float32", "bfloat16"]
    else:
        candidates = [stored]
    for dtype in candidates:
        need = estimate_peak(parameters, dtype, gguf_bytes, vocab_size)
        if available is None or need <= available:
            return VerifyPlan(dtype, parameters, need, available)
    smallest = candidates[-1]
    need = estimate_peak(parameters, smallest, gguf_bytes, vocab_size)
    assert available is not None
    reason = (
        f"verification skipped: it needs about {_gib(need)} of RAM (a "
        f"{parameters / 1e9:.1f}B-parameter model in {smallest}, then the GGUF) and "
        f"{_gib(available)} {'are allowed' if limit_bytes is not None else 'are available'}"
    )
    return VerifyPlan(None, parameters, need, available, reason)


def estimate_peak(parameters: int, dtype: str, gguf_bytes: int, vocab_size: int | None) -> int:
    """max(HF side, llama.cpp side): the HF model is freed before the GGUF is loaded."""
    logits = PROBE_POSITIONS * (vocab_size or 32_000) * 4 * 2
    hf_side = parameters * DTYPE_BYTES[dtype] + logits + TORCH_RUNTIME
    # the exporting process keeps its runtime and the HF logits while the worker runs
    llama_side = gguf_bytes + 2 * logits + LLAMA_RUNTIME + TORCH_RUNTIME
    return int(max(hf_side, llama_side) * MARGIN)


def checkpoint_dtype(hf_dir: Path) -> str:
    """The checkpoint's stored type (config.json), one of DTYPE_BYTES (float32 if unknown)."""
    config = _read_config(hf_dir)
    dtype = str(config.get("dtype") or config.get("torch_dtype") or "float32")
    return dtype if dtype in DTYPE_BYTES else "float32"


def checkpoint_parameters(hf_dir: Path) -> int:
    """The parameter count from the safetensors headers (no weights read); for `.bin`
    checkpoints, their size divided by the stored type's width."""
    total = 0
    files = sorted(hf_dir.glob("*.safetensors"))
    for path in files:
        try:
            with path.open("rb") as handle:
                (length,) = struct.unpack("<Q", handle.read(8))
                if length > HEADER_LIMIT:
                    raise ValueError(length)
                header = json.loads(handle.read(length))
            for name, tensor in header.items():
                if name != "__metadata__":
                    count = 1
                    for size in tensor["shape"]:
                        count *= int(size)
                    total += count
        except (OSError, struct.error, ValueError, KeyError, TypeError, AttributeError):
            raise ExportError(f"{path}: unreadable safetensors header") from None
    if files:
        return total
    width = DTYPE_BYTES[checkpoint_dtype(hf_dir)]
    return sum(path.stat().st_size for path in hf_dir.glob("*.bin")) // width


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo (what can be used without swapping), or None."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_config(hf_dir: Path) -> dict:
    try:
        return json.loads((hf_dir / "config.json").read_text())
    except (OSError, ValueError):
        return {}


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"
