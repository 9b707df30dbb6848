"""What a Hugging Face checkpoint's config.json says about the RAM it will need once it is a
GGUF: its parameter count (from the size of its weights and their type), its attention shape
and the context it was trained for. Used for repositories the catalogue does not know, before
their weights are downloaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CheckpointSize:
    params: int
    shape: tuple[int, int, int] | None  # (n_layer, n_kv_heads, head_dim)
    context: int | None


def read(config_file: Path, weights_bytes: int) -> CheckpointSize:
    """`weights_bytes`: the size of its *.safetensors files (listed by the Hub)."""
    try:
        config = json.loads(config_file.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"config.json is not JSON ({error})") from None
    if not isinstance(config, dict):
        raise ValueError("config.json is not a JSON object")
    # a multimodal checkpoint keeps its language model's settings under text_config
    text = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    values = {**config, **text}
    dtype = values.get("dtype") or values.get("torch_dtype") or "bfloat16"
    params = weights_bytes // (4 if dtype == "float32" else 2)
    trained = values.get("max_position_embeddings")
    context = trained if isinstance(trained, int) and trained > 0 else None
    return CheckpointSize(params, _shape(values), context)


def _shape(values: dict) -> tuple[int, int, int] | None:
    layers, heads = values.get("num_hidden_layers"), values.get("num_attention_heads")
    kv_heads = values.get("num_key_value_heads") or heads
    head_dim = values.get("head_dim")
    if not head_dim and isinstance(values.get("hidden_size"), int) and isinstance(heads, int):
        head_dim = values["hidden_size"] // heads
    shape = (layers, kv_heads, head_dim)
    return shape if all(isinstance(v, int) and v > 0 for v in shape) else None
