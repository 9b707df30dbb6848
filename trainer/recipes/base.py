"""What every recipe shares: the model and output, LoRA, the optimiser schedule, precision,
checkpoints and resumption, and the final export to GGUF.

A recipe's config class extends `RecipeConfig` with its own fields; the trl argument object
is built from it by `trl_args`, so recipes hold configuration, not training loops.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from papercycle.trainer.config import ConfigError, existing, in_range, positive


@dataclass(kw_only=True)
class RecipeConfig:
    # a Hugging Face checkpoint directory (the policy / the model to fine-tune), or
    # `gguf:<path or catalogue name>`: a GGUF, dequantized once into output_dir/base-from-gguf
    model: Path
    output_dir: Path
    # LoRA (peft); `qlora` loads the base in 4 bits (bitsandbytes, CUDA only).
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    qlora: bool = False
    learning_rate: float = 1e-5
    max_steps: int = -1  # -1: run num_epochs
    max_minutes: float | None = None  # stop (and save) after this much training time
    num_epochs: float = 1.0
    batch_size: int = 1
    gradient_accumulation_steps: int = 1
    max_length: int = 2048
    # auto / null: bf16 and gradient checkpointing on a GPU, fp32 and none on CPU.
    precision: Literal["auto", "bf16", "fp32"] = "auto"
    gradient_checkpointing: bool | None = None
    seed: int = 0
    logging_steps: int = 10
    save_steps: int = 500
    save_total_limit: int = 2
    resume: bool = True  # continue from the last checkpoint in output_dir when there is one
    export: bool = True
    export_quant: str = "Q4_K_M"
    export_verify: bool = True
    pre_tokenizer: str | None = None  # llama.cpp pre-tokenizer for self-trained vocabularies
    served_name: str | None = None  # the name printed in `papercycle models add NAME ...`

    role: str = "researcher"  # what `papercycle models add --role` the result is served as

    def check(self) -> None:
        from papercycle.trainer.recipes.gguf_base import gguf_path, is_gguf_base

        if is_gguf_base(self.model):
            gguf_path(self.model)
        else:
            existing("model", self.model, what="Hugging Face checkpoint directory")
            if not (Path(self.model) / "config.json").exists():
                raise ConfigError(f"model: {self.model} has no config.json (not a checkpoint)")
        for name in ("learning_rate", "batch_size", "gradient_accumulation_steps", "max_length"):
            positive(name, getattr(self, name))
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError(f"max_steps: must be positive or -1, got {self.max_steps}")
        in_range("lora_dropout", self.lora_dropout, 0.0, 1.0)
        if self.qlora and not self.lora:
            raise ConfigError("qlora: needs lora: true")
        from papercycle.trainer.export.quant_types import normalize_quant

        try:
            self.export_quant = normalize_quant(self.export_quant)
        except ValueError as error:
            raise ConfigError(f"export_quant: {error}") from None


def preflight(config: RecipeConfig, say=print) -> None:
    """Checks that need the machine (not the file), still before any model is loaded; a GGUF
    base is turned into the checkpoint the recipe trains (`config.model` then points to it)."""
    import torch

    cuda = torch.cuda.is_available()
    if config.precision == "bf16" and not cuda and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        raise ConfigError("precision: bf16 needs a GPU or a CPU with bf16 units; use auto or fp32")
    if config.qlora:
        if not cuda:
            raise ConfigError("qlora: 4-bit loading (bitsandbytes) needs a CUDA GPU")
        try:
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise ConfigError("qlora: bitsandbytes is not installed") from None
    from papercycle.trainer.recipes.gguf_base import (
        base_checkpoint_dir,
        is_gguf_base,
        materialize,
    )

    if is_gguf_base(config.model):  # written once (main process); every rank then reads it
        from papercycle.trainer.recipes.ranks import Ranks

        Ranks().main_only(materialize, config.model, Path(config.output_dir), say)
        config.model = base_checkpoint_dir(Path(config.output_dir))


def use_bf16(config: RecipeConfig) -> bool:
    import torch

    return config.precision == "bf16" or (config.precision == "auto" and torch.cuda.is_available())


def use_checkpointing(config: RecipeConfig) -> bool:
    import torch

    if config.gradient_checkpointing is None:
        return torch.cuda.is_available()
    return config.gradient_checkpointing


def trl_args(cls, config: RecipeConfig, checkpoint_dir: Path, **extra):
    """A trl `*Config` with the shared settings; `extra` holds the recipe's own."""
    import torch

    bf16 = use_bf16(config)
    return cls(
        output_dir=str(checkpoint_dir),
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        num_train_epochs=config.num_epochs,
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        bf16=bf16,
        fp16=False,
        **_checkpointing(cls, use_checkpointing(config)),
        use_cpu=not torch.cuda.is_available(),
        report_to="none",
        seed=config.seed,
        disable_tqdm=True,
        **extra,
    )


def time_budget(minutes: float | None):
    """A Trainer callback that ends training (with a final save) after `minutes`, so a run on
    a shared or bounded machine keeps its budget whatever its speed turns out to be."""
    if minutes is None:
        return None
    import time

    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.deadline = time.monotonic() + minutes * 60

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() >= self.deadline:
                control.should_training_stop = True
                control.should_save = True
            return control

    return TimeBudget()


def _checkpointing(cls, on: bool) -> dict:
    # transformers 5.2x renamed gradient_checkpointing to activation_checkpointing (the old
    # name warns); trl's configs carry whichever their transformers has.
    fields = getattr(cls, "__dataclass_fields__", {})
    name = (
        "activation_checkpointing"
        if "activation_checkpointing" in fields
        else "gradient_checkpointing"
    )
    return {name: on}


def load_model(config: RecipeConfig, path: Path | None = None):
    """The model to train (fp32 on CPU, bf16 on GPU; 4-bit base for QLoRA)."""
    import torch
    from transformers import AutoModelForCausalLM

    # On CPU bf16 is autocast over fp32 weights (the Trainer's CPU AMP): AdamW's updates of a
    # small model vanish in bf16 weights.
    bf16_weights = use_bf16(config) and torch.cuda.is_available()
    kwargs: dict = {"dtype": torch.bfloat16 if bf16_weights else torch.float32}
    if config.qlora:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    return AutoModelForCausalLM.from_pretrained(path or config.model, **kwargs)


def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def peft_config(config: RecipeConfig):
    if not config.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        task_type="CAUSAL_LM",
    )


def last_checkpoint(checkpoint_dir: Path, say=print) -> str | None:
    """The newest complete checkpoint. The Trainer writes trainer_state.json last, so a
    checkpoint without a readable one was cut off mid-save (a crash) and is skipped."""
    if not checkpoint_dir.is_dir():
        return None
    numbered = []
    for path in checkpoint_dir.glob("checkpoint-*"):
        suffix = path.name.removeprefix("checkpoint-")
        if path.is_dir() and suffix.isdigit():
            numbered.append((int(suffix), path))
    for _, path in sorted(numbered, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text())
        except (OSError, ValueError):
            say(f"skipping {path.name}: incomplete (interrupted while saving)")
            continue
        return str(path)
    return None


def is_main_process() -> bool:
    # Under accelerate/torchrun every rank runs the recipe; only rank 0 exports and prints
    # (recipes/ranks.py holds the barrier the other ranks wait at).
    return os.environ.get("RANK", "0") == "0"


def save_final(trainer, tokenizer, source: Path, out: Path, ranks=None) -> Path:
    """Save the trained model (or adapter) with a tokenizer llama.cpp's converter reads right.

    Every rank calls `trainer.save_model`: under ZeRO-3 it gathers the sharded weights through
    the accelerator's state dict (a `model.save_pretrained` there would write one rank's
    shards) and writes them once; the tokenizer files are written by the main process."""
    from papercycle.trainer.recipes.ranks import Ranks

    ranks = ranks or Ranks()
    trainer.save_model(str(out))
    ranks.main_only(lambda: _save_tokenizer(tokenizer, source, out))
    return out


def _save_tokenizer(tokenizer, source: Path, out: Path) -> None:
    tokenizer.save_pretrained(str(out))
    copy_tokenizer_flags(source, out)
    manifest = source / "papercycle-tiny.json"
    if manifest.exists():  # keeps the pre-tokenizer name of a tiny model with its offspring
        (out / manifest.name).write_text(manifest.read_text())


def save_policy(trainer, tokenizer, config: RecipeConfig, source: Path, out: Path, ranks) -> Path:
    """The trained policy as a full checkpoint in `out` (the next iteration samples from it):
    saved through `trainer.save_model` on every rank (ZeRO-3 safe, as in `save_final`); a LoRA
    adapter is then merged into its base by the main process alone."""
    if not config.lora:
        return save_final(trainer, tokenizer, Path(config.model), out, ranks)
    adapter = out.with_name(out.name + "-adapter")
    trainer.save_model(str(adapter))
    ranks.main_only(lambda: _merge_adapter(source, adapter, out, tokenizer, config))
    return out


def _merge_adapter(source: Path, adapter: Path, out: Path, tokenizer, config: RecipeConfig):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    # merged in full precision whatever the training loaded (a 4-bit QLoRA base cannot merge)
    base = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, str(adapter)).merge_and_unload()
    merged.save_pretrained(str(out))
    _save_tokenizer(tokenizer, Path(config.model), out)


def copy_tokenizer_flags(source: Path, target: Path) -> None:
    # transformers 5 drops add_bos_token/add_eos_token on save; the converter reads them.
    path = source / "tokenizer_config.json"
    if not path.exists():
        return
    flags = {
        k: v
        for k, v in json.loads(path.read_text()).items()
        if k in ("add_bos_token", "add_eos_token")
    }
    if flags:
        config_path = target / "tokenizer_config.json"
        config_path.write_text(json.dumps(json.loads(config_path.read_text()) | flags, indent=2))


def pre_tokenizer_of(config: RecipeConfig) -> str | None:
    if config.pre_tokenizer:
        return config.pre_tokenizer
    manifest = Path(config.model) / "papercycle-tiny.json"
    if manifest.exists():
        return json.loads(manifest.read_text()).get("pre_tokenizer")
    return None


@dataclass
class RecipeResult:
    model_dir: Path
    gguf: Path | None = None
    metrics: dict = field(default_factory=dict)
    serve_command: str | None = None


def export_result(
    config: RecipeConfig, model_dir: Path, *, reviewer_format: str | None = None, say=print
) -> RecipeResult:
    """Export `model_dir` to a verified GGUF and print the line that serves it."""
    result = RecipeResult(model_dir)
    if not config.export or not is_main_process():
        return result
    from papercycle.trainer.export.pipeline import ExportOptions, export_model

    name = config.served_name or Path(config.output_dir).name
    output = Path(config.output_dir) / f"{name}-{config.export_quant}.gguf"
    options = ExportOptions(
        quant=config.export_quant,
        pre_tokenizer=pre_tokenizer_of(config),
        verify=config.export_verify,
    )
    say(f"exporting {model_dir} to {output} ({config.export_quant})")
    exported = export_model(model_dir, output, options, step=lambda s: say(f"  {s}"))
    if exported.report is not None:
        say(exported.report.render())
    result.gguf = exported.output
    command = f"papercycle models add {name} {exported.output.resolve()} --role {config.role}"
    if reviewer_format:
        command += f" --review-format {reviewer_format}"
    result.serve_command = command
    trained_for = model_dir / "papercycle-reviewer.json"
    if trained_for.exists():
        modes = ", ".join(json.loads(trained_for.read_text())["modes"])
        say(f"trained for review mode(s): {modes}")
    say(f"serve it with:\n  {command}")
    return result
