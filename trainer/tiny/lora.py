"""A LoRA adapter with random (non-zero) weights for a tiny model, to test adapter export.

peft initialises LoRA's B matrix to zero, which makes a fresh adapter a no-op that any
conversion would "match"; random initialisation makes a wrong conversion visible.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def build_tiny_lora(base_dir: Path, out_dir: Path, rank: int = 8, seed: int = 0) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(base, config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_" in name:  # small enough that the merged model stays close to the base
                parameter.mul_(0.5)
    model.save_pretrained(out_dir)
    # peft records the base as the absolute path it was loaded from, which makes two builds
    # in two clones differ; beside its base, the adapter names it relative to itself
    # (trainer/export/checkpoint.py reads it so)
    config_file = out_dir / "adapter_config.json"
    config = json.loads(config_file.read_text())
    config["base_model_name_or_path"] = os.path.relpath(base_dir, out_dir)
    # peft keeps target_modules as a set: written in the order of this process's string hashes
    config["target_modules"] = sorted(config["target_modules"])
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    card = out_dir / "README.md"  # peft's model card names the base too
    if card.exists():
        card.write_text(card.read_text().replace(str(base_dir), config["base_model_name_or_path"]))
    return out_dir
