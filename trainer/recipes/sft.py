"""`sft-reviewer` and `sft-researcher`: trl's SFTTrainer on chat examples in serving format.

The loss is on assistant turns only: the chat template marks them with `{% generation %}`,
which trl turns into an assistant mask. Reviewer and researcher differ only in their data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from papercycle.trainer.config import ConfigError, existing, in_range
from papercycle.trainer.recipes.base import (
    RecipeConfig,
    RecipeResult,
    export_result,
    last_checkpoint,
    load_model,
    load_tokenizer,
    peft_config,
    preflight,
    save_final,
    time_budget,
    trl_args,
)


@dataclass(kw_only=True)
class SFTRecipeConfig(RecipeConfig):
    data: Path
    # iclr2017 | iclr2022 | review-5k | deepreview-13k (reviewer); research-14k | chat (researcher)
    data_adapter: str = "review-5k"
    split: Literal["train", "test", "all"] = "train"
    test_fraction: float = 0.1
    reviewer_format: Literal["cyclereviewer", "deepreviewer", "openreviewer"] = "cyclereviewer"
    # DeepReviewer's mode the model learns: fast (from human reviews), or standard / best
    # (from DeepReview-13K records that carry the reasoning); written into the model's metadata
    reviewer_mode: Literal["fast", "standard", "best"] = "fast"
    max_paper_tokens: int | None = None  # papers (user turns) longer than this are cut
    min_reviews: int = 1
    max_examples: int | None = None
    assistant_only_loss: bool = True
    packing: bool = False

    def check(self) -> None:
        super().check()
        existing("data", self.data, what="dataset file or directory")
        in_range("test_fraction", self.test_fraction, 0.0, 0.9)
        from papercycle.trainer.data import ADAPTERS

        if self.data_adapter not in ADAPTERS:
            raise ConfigError(
                f"data_adapter: {self.data_adapter!r} is not one of {', '.join(ADAPTERS)}"
            )


@dataclass(kw_only=True)
class SFTReviewerConfig(SFTRecipeConfig):
    role: str = "reviewer"


@dataclass(kw_only=True)
class SFTResearcherConfig(SFTRecipeConfig):
    data_adapter: str = "research-14k"
    role: str = "researcher"


def trained_modes(config: SFTRecipeConfig) -> list[str]:
    """The daemon's names for the review modes: a format other than DeepReviewer has one
    whole-paper mode, `standard` (daemon/engine/review.py FORMAT_MODES)."""
    if config.reviewer_format != "deepreviewer":
        return ["standard"]
    return [config.reviewer_mode]


def write_reviewer_metadata(model_dir: Path, config: SFTRecipeConfig) -> None:
    """`papercycle-reviewer.json` beside the weights: the format and the review modes this
    checkpoint was trained for (a Fast-only model asked for Standard writes no reasoning)."""
    import json

    from papercycle.trainer.export.reviewer_metadata import SIDECAR

    metadata = {"format": config.reviewer_format, "modes": trained_modes(config)}
    (model_dir / SIDECAR).write_text(json.dumps(metadata, indent=2))


def run_sft(config: SFTRecipeConfig, say=print) -> RecipeResult:
    preflight(config, say)
    from datasets import Dataset
    from papercycle.trainer.data import chat_examples
    from trl import SFTConfig, SFTTrainer

    tokenizer = load_tokenizer(config.model)
    examples, report = chat_examples(
        config.data_adapter,
        config.data,
        tokenizer=tokenizer,
        split=config.split,
        test_fraction=config.test_fraction,
        reviewer_format=config.reviewer_format,
        max_paper_tokens=config.max_paper_tokens,
        min_reviews=config.min_reviews,
        max_examples=config.max_examples,
        reviewer_mode=config.reviewer_mode if config.reviewer_format == "deepreviewer" else "fast",
    )
    say(f"data: {report.render()}")
    if not examples:
        raise ConfigError(f"data: no training examples in {config.data} (split {config.split})")
    dataset = Dataset.from_list([{"messages": e["messages"]} for e in examples])

    checkpoints = Path(config.output_dir) / "checkpoints"
    args = trl_args(
        SFTConfig,
        config,
        checkpoints,
        max_length=config.max_length,
        assistant_only_loss=config.assistant_only_loss,
        packing=config.packing,
    )
    trainer = SFTTrainer(
        model=load_model(config),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config(config),
    )
    if config.max_minutes is not None:
        trainer.add_callback(time_budget(config.max_minutes))
    if len(trainer.train_dataset) == 0:
        raise ConfigError(
            f"max_length: {config.max_length} tokens leave no assistant token in any example "
            "(raise max_length or lower max_paper_tokens)"
        )
    resume = last_checkpoint(checkpoints, say) if config.resume else None
    if resume:
        say(f"resuming from {resume}")
    output = trainer.train(resume_from_checkpoint=resume)
    model_dir = save_final(
        trainer, tokenizer, Path(config.model), Path(config.output_dir) / "model"
    )
    if config.role == "reviewer":
        write_reviewer_metadata(model_dir, config)
    tokens = max((e.get("num_tokens", 0) for e in trainer.state.log_history), default=0)
    runtime = output.metrics.get("train_runtime") or float("nan")
    say(
        f"trained {output.global_step} steps, final loss {output.training_loss:.4f}, "
        f"{tokens / runtime:.0f} tokens/s; saved {model_dir}"
    )
    result = export_result(
        config,
        model_dir,
        reviewer_format=config.reviewer_format if config.role == "reviewer" else None,
        say=say,
    )
    result.metrics = {
        "steps": output.global_step,
        "train_loss": output.training_loss,
        **{k: v for k, v in output.metrics.items() if isinstance(v, int | float)},
        "examples": report.examples,
        "tokens": sum(report.lengths),
        "trained_tokens": tokens,
        "tokens_per_second": tokens / runtime,
    }
    return result
