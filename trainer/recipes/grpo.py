"""`rubric-grpo`: trl's GRPOTrainer with the rubric reward of a frozen copy of the policy.

Goals and rubrics come with the data (`goal` + `rubric` fields) or are extracted from the
papers' text by the same frozen grader (`formats.rubric.extract_rubric`) before training.
A reward that never varies within a group gives GRPO zero advantage, so nothing is learned:
the run reports the reward's spread and says so when it is zero.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path

from papercycle.trainer.config import ConfigError, existing, in_range, positive
from papercycle.trainer.recipes.base import (
    RecipeConfig,
    RecipeResult,
    export_result,
    last_checkpoint,
    load_model,
    load_tokenizer,
    peft_config,
    pre_tokenizer_of,
    preflight,
    save_final,
    trl_args,
)
from papercycle.trainer.recipes.ranks import Ranks


@dataclass(kw_only=True)
class RubricGRPOConfig(RecipeConfig):
    data: Path  # records with goal + rubric, or with a paper text to extract them from
    grader: Path | None = None  # a GGUF; default: the initial policy, exported and frozen
    grader_quant: str = "f16"
    grader_n_ctx: int = 8192
    grader_temperature: float = 0.0
    max_rubric_items: int = 8
    max_goal_chars: int = 400
    max_item_chars: int = 200
    extract_max_tokens: int = 1024
    max_paper_chars: int = 20000  # the part of a paper the rubric is extracted from
    num_generations: int = 4
    max_completion_length: int = 1024
    temperature: float = 1.0
    beta: float = 0.0  # KL weight (trl's default: none)
    max_examples: int | None = None
    learning_rate: float = 1e-6

    def check(self) -> None:
        super().check()
        existing("data", self.data, what="dataset of goals and rubrics, or papers")
        existing("grader", self.grader, what="grader GGUF")
        if self.num_generations < 2:
            raise ConfigError(
                f"num_generations: GRPO compares samples within a group; need at least 2, got {self.num_generations}"
            )
        positive("max_completion_length", self.max_completion_length)
        in_range("temperature", self.temperature, 0.0, 2.0)
        positive("max_rubric_items", self.max_rubric_items)
        if (self.batch_size * self.gradient_accumulation_steps) % self.num_generations:
            raise ConfigError(
                f"batch_size: batch_size x gradient_accumulation_steps "
                f"({self.batch_size * self.gradient_accumulation_steps}) must be a multiple of "
                f"num_generations ({self.num_generations})"
            )


def load_goals(config: RubricGRPOConfig, generate) -> list[dict]:
    """Goal and rubric per record: as given, or extracted from the paper by the grader."""
    from papercycle.formats.rubric import RubricLimits, extract_rubric
    from papercycle.trainer.data.records import maybe_json, read_records

    rows = []
    for record in read_records(config.data)[: config.max_examples]:
        # the released data names them Goal / Rubric; lower case is accepted too
        rubric = maybe_json(record.get("Rubric") or record.get("rubric"))
        goal = record.get("Goal") or record.get("goal")
        if not (goal and rubric):
            text = next(
                (
                    record[k]
                    for k in ("paper_context", "text", "paper", "abstract")
                    if record.get(k)
                ),
                None,
            )
            if text is None:
                raise ConfigError(
                    f"data: record {record.get('id')!r} has neither goal+rubric nor a paper text"
                )
            limits = RubricLimits(
                max_items=config.max_rubric_items,
                max_goal_chars=config.max_goal_chars,
                max_item_chars=config.max_item_chars,
            )
            extracted = extract_rubric(
                text[: config.max_paper_chars],
                lambda m, g: generate(m, g, config.extract_max_tokens),
                limits,
            )
            goal, rubric = extracted.goal or record.get("title", ""), extracted.items
        if not rubric:  # an extraction that yielded nothing gradable
            continue
        rows.append(
            {
                "id": str(record.get("id", len(rows))),
                "goal": goal,
                "rubric": [str(i) for i in rubric][: config.max_rubric_items],
            }
        )
    return rows


def _freeze_grader(config: RubricGRPOConfig, grader: Path, say) -> None:
    if grader.exists():
        return
    from papercycle.trainer.export.pipeline import ExportOptions, export_model

    say(f"freezing the initial policy as the grader: {grader}")
    options = ExportOptions(
        quant=config.grader_quant, pre_tokenizer=pre_tokenizer_of(config), verify=False
    )
    export_model(Path(config.model), grader, options)


def run_rubric_grpo(config: RubricGRPOConfig, say=print) -> RecipeResult:
    preflight(config, say)
    from datasets import Dataset
    from papercycle.trainer.generation.client import LlamaGenerator
    from papercycle.trainer.reward.rubric_reward import RubricReward, plan_messages
    from trl import GRPOConfig, GRPOTrainer

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    ranks = Ranks()
    grader = config.grader
    if grader is None:  # exported once, by the main process; every rank grades with it
        grader = output_dir / "grader.gguf"
        ranks.main_only(_freeze_grader, config, grader, say)
    with LlamaGenerator(grader, n_ctx=config.grader_n_ctx) as generator:
        reward = RubricReward(generator, temperature=config.grader_temperature, seed=config.seed)
        # rubrics are extracted once (main process); the other ranks read them
        goals = ranks.main_then_read(
            output_dir / "rubrics.json", lambda: load_goals(config, reward.generate)
        )
        if not goals:
            raise ConfigError(f"data: no goal with a rubric in {config.data}")
        if ranks.is_main:
            (output_dir / "rubrics.jsonl").write_text(
                "".join(json.dumps(g, ensure_ascii=False) + "\n" for g in goals)
            )
        say(f"data: {len(goals)} goals, {sum(len(g['rubric']) for g in goals)} rubric items")
        dataset = Dataset.from_list(
            [
                {"prompt": plan_messages(g["goal"]), "goal": g["goal"], "rubric": g["rubric"]}
                for g in goals
            ]
        )
        checkpoints = output_dir / "checkpoints"
        args = trl_args(
            GRPOConfig, config, checkpoints,
            num_generations=config.num_generations, max_completion_length=config.max_completion_length,
            temperature=config.temperature, beta=config.beta,
        )  # fmt: skip
        tokenizer = load_tokenizer(config.model)
        trainer = GRPOTrainer(
            model=load_model(config),
            reward_funcs=[reward],
            args=args,
            train_dataset=dataset,
            processing_class=tokenizer,
            peft_config=peft_config(config),
        )
        resume = last_checkpoint(checkpoints, say) if config.resume else None
        if resume:
            say(f"resuming from {resume}")
        output = trainer.train(resume_from_checkpoint=resume)
    rewards = [r for batch in reward.history for r in batch["rewards"]]
    spread = statistics.pstdev(rewards) if len(rewards) > 1 else 0.0
    mean_reward = statistics.fmean(rewards) if rewards else float("nan")
    coverage = (
        statistics.fmean(b["coverage"] for b in reward.history) if reward.history else float("nan")
    )
    say(
        f"trained {output.global_step} GRPO steps; rubric reward mean {mean_reward:.3f} (std {spread:.3f}), coverage {coverage:.3f}"
    )
    if rewards and spread == 0:
        say("warning: the rubric reward never varied; GRPO had no advantage to learn from")
    if ranks.is_main:  # this rank's rewards (each rank grades its own completions)
        (output_dir / "rewards.json").write_text(json.dumps(reward.history))
    model_dir = save_final(trainer, tokenizer, Path(config.model), output_dir / "model", ranks)
    result = export_result(config, model_dir, say=say)
    result.metrics = {
        "steps": output.global_step,
        "mean_reward": mean_reward,
        "reward_std": spread,
        "coverage": coverage,
        "rewards": rewards,
    }
    return result
