"""What a directory holds: a Hugging Face checkpoint, a LoRA adapter, or neither."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from papercycle.trainer.export.errors import ExportError

# HF architectures whose conversion this project tests (the bases of public reviewer and
# researcher models: Llama-3.1, Mistral-Nemo/Large, Qwen2.5, Phi-3/Phi-4).
SUPPORTED_ARCHITECTURES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "llama",
    "Qwen2ForCausalLM": "qwen2",
    "Phi3ForCausalLM": "phi3",
}


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    architecture: str  # the HF class name, e.g. LlamaForCausalLM
    adapter_base: Path | None = None  # set when `path` is a LoRA adapter

    @property
    def is_adapter(self) -> bool:
        return self.adapter_base is not None


def read_checkpoint(path: Path, base: Path | None = None) -> Checkpoint:
    """Classify `path`, or raise ExportError saying what is wrong with it."""
    if not path.is_dir():
        raise ExportError(f"{path}: not a directory (expected a Hugging Face checkpoint)")
    if (path / "adapter_config.json").exists():
        adapter = _read_json(path / "adapter_config.json")
        base = base or Path(adapter.get("base_model_name_or_path") or "")
        if str(base) and not base.is_absolute() and (path / base / "config.json").exists():
            base = (path / base).resolve()  # a base named relative to the adapter's folder
        if not base or not (base / "config.json").exists():
            raise ExportError(
                f"{path}: LoRA adapter whose base model {str(base) or '(unnamed)'} is not a local "
                "checkpoint; pass --base HF_DIR"
            )
        return Checkpoint(path, read_checkpoint(base).architecture, adapter_base=base)
    if not (path / "config.json").exists():
        raise ExportError(f"{path}: not a Hugging Face checkpoint (no config.json)")
    config = _read_json(path / "config.json")
    architectures = config.get("architectures") or []
    if not architectures:
        raise ExportError(f"{path}/config.json: no 'architectures' entry")
    architecture = architectures[0]
    if architecture not in SUPPORTED_ARCHITECTURES:
        supported = ", ".join(sorted(SUPPORTED_ARCHITECTURES))
        raise ExportError(
            f"{path}: unsupported architecture {architecture} (supported: {supported})"
        )
    if not any(path.glob("*.safetensors")) and not any(path.glob("*.bin")):
        raise ExportError(f"{path}: no weights (*.safetensors or *.bin)")
    return Checkpoint(path, architecture)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExportError(f"{path}: unreadable JSON ({error})") from None


# llama.cpp marks Phi-3's SentencePiece tokens by looking them up whenever the model's *name*
# contains "phi3"/"phi-3", and fails to load a model that lacks them (a Phi-4-style BPE
# vocabulary). Such a checkpoint is converted under a name that does not trigger that rule.
_PHI3_NAME_TOKENS = ("<s>", "</s>", "<unk>")


def gguf_model_name(checkpoint_dir: Path) -> str | None:
    """A model name to pass to the converter, or None to keep the converter's own choice."""
    name = checkpoint_dir.name
    if not re.search(r"phi-?3", name, re.IGNORECASE):
        return None
    if _read_json(checkpoint_dir / "config.json").get("architectures") != ["Phi3ForCausalLM"]:
        return None
    tokenizer_json = checkpoint_dir / "tokenizer.json"
    vocab = (
        _read_json(tokenizer_json).get("model", {}).get("vocab", {})
        if tokenizer_json.exists()
        else {}
    )
    if not vocab or all(token in vocab for token in _PHI3_NAME_TOKENS):
        return None
    return re.sub(r"phi-?3", "phi", name, flags=re.IGNORECASE)
