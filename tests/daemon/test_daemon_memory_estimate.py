"""The RAM a model needs before it is downloaded (daemon/models/memory_estimate.py): weights
from parameters × bits per weight, the KV cache from the attention shape, checked against the
real SmolLM2 GGUF and the daemon loader's own estimate."""

from __future__ import annotations

from pathlib import Path

import pytest
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.models import catalogue, checkpoint_size
from papercycle.daemon.models.memory_estimate import (
    kv_cache_bytes,
    memory_need,
    weights_bytes,
)
from papercycle.daemon.models.registry import estimate_memory


def test_weights_follow_bits_per_weight() -> None:
    assert weights_bytes(8_000_000_000, "Q4_K_M") == 4_850_000_000
    assert weights_bytes(8_000_000_000, "q8_0") == 8_500_000_000
    assert weights_bytes(14_000_000_000, "F16") == 28_000_000_000
    with pytest.raises(ValueError, match="unknown quantization 'Q3_X'"):
        weights_bytes(1, "Q3_X")


def test_kv_cache_of_a_llama_3_1_8b_at_50k_tokens() -> None:
    # 2 (K and V) × 32 layers × 8 KV heads × 128 × 50,000 tokens × 2 bytes (f16)
    assert kv_cache_bytes(32, 8, 128, 50_000) == 6_553_600_000
    need = catalogue.find("cyclereviewer-8b").memory("Q4_K_M")
    assert (need.weights, need.kv_cache, need.n_ctx) == (4_850_000_000, 6_553_600_000, 50_000)
    assert need.total == 11_403_600_000
    assert need.describe() == "10.6 GiB RAM (4.5 GiB weights + 6.1 GiB KV cache at 50,000 tokens)"
    # a shorter context needs a smaller cache, the same weights
    assert catalogue.find("cyclereviewer-8b").memory("Q4_K_M", 8192).kv_cache == 1_073_741_824


def test_an_unknown_shape_is_said_not_guessed() -> None:
    need = catalogue.find("deepreviewer-7b").memory("Q4_K_M")
    assert need.kv_cache is None and need.total == need.weights
    assert "unknown KV cache" in need.describe()
    assert memory_need(10, "F16", 4096, None, weights=123).total == 123


def test_the_catalogue_shape_matches_the_real_file(smollm2_gguf: Path) -> None:
    """SmolLM2's catalogue shape gives the KV cache the daemon's loader computes from the GGUF's
    own metadata, and its weights estimate is near the file's size."""
    entry = catalogue.find("smollm2-135m-instruct")
    model = ModelConfig(name="s", path=str(smollm2_gguf), n_ctx=entry.context)
    file_size = smollm2_gguf.stat().st_size
    need = entry.memory("Q4_1")
    assert estimate_memory(model) - file_size == need.kv_cache
    assert 0.75 < need.weights / file_size < 1.25


def test_a_checkpoint_without_an_entry_is_sized_from_its_config(
    tiny_models, tiny_gguf, tmp_path: Path
) -> None:
    """A repository the catalogue does not know: its parameter count from the size of its
    weights, its shape and context from config.json, the same KV cache the loader computes
    once it is a GGUF."""
    folder = tiny_models.hf("llama")
    size = checkpoint_size.read(
        folder / "config.json", (folder / "model.safetensors").stat().st_size
    )
    # 2 × (2048 × 256) embeddings + 2 layers × 786,944 + a norm of 256, float32
    assert abs(size.params - 2_622_720) / 2_622_720 < 0.001
    assert (size.shape, size.context) == ((2, 2, 64), 2048)
    model = ModelConfig(name="t", path=str(tiny_gguf), n_ctx=2048)
    assert estimate_memory(model) - tiny_gguf.stat().st_size == kv_cache_bytes(*size.shape, 2048)
    broken = tmp_path / "config.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match=r"config\.json is not JSON"):
        checkpoint_size.read(broken, 1)
