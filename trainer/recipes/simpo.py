"""`simpo`: Iterative SimPO + NLL against a reviewer, as in CycleResearcher.

For each of K iterations: sample n drafts per prompt from the current policy (temperature
0.4), review each draft several times with the reviewer and average the ratings, pair the
best draft with the worst (pairs whose margin is below a threshold are skipped), train
`CPOTrainer(loss_type="simpo", cpo_alpha=<NLL weight>)` on the pairs, and continue from the
new policy. Policy and reviewer are never updated together; the reviewer is a GGUF served
by llama.cpp in a child process, exactly as the daemon serves it.

Each iteration keeps its drafts, rewards and pairs in `iteration-<k>/`, so an interrupted
run resumes without sampling again, and trl resumes the preference step from its checkpoint.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from papercycle.trainer.config import ConfigError, existing, in_range, positive
from papercycle.trainer.generation.samplers import resolve_sampler, sample_vllm
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
    save_policy,
    trl_args,
)
from papercycle.trainer.recipes.ranks import Ranks


@dataclass(kw_only=True)
class SimPOConfig(RecipeConfig):
    prompts: Path  # Research-14K-style records (references or a chat); the user turns are used
    reviewer: Path  # the reviewer GGUF
    reviewer_format: Literal["cyclereviewer", "deepreviewer"] = "cyclereviewer"
    reviewer_samples: int = 3  # reviews per draft, averaged (one review is noisy)
    reviewer_temperature: float = 0.4
    reviewer_max_tokens: int = 7000
    # Constrain the reviewer to the format's skeleton (needed for untrained reviewers).
    reviewer_grammar: bool = False
    reviewer_grammar_reviewers: int = 4
    reviewer_n_ctx: int = 16384
    iterations: int = 1
    prompts_per_iteration: int | None = None  # CycleResearcher used a third of the data each
    drafts: int = 3
    temperature: float = 0.4
    top_p: float = 0.95
    max_new_tokens: int = 4096
    policy_n_ctx: int = 16384
    # auto: vLLM (if installed) or transformers on a GPU, llama.cpp on a CPU (generation/samplers.py)
    sampler: Literal["auto", "llama.cpp", "transformers", "vllm"] = "auto"
    sampling_quant: str = "f16"  # the policy GGUF drafts are sampled from (llama.cpp)
    min_margin: float = 0.5  # reward margin below which a best/worst pair is skipped
    beta: float = 2.0
    simpo_gamma: float = 0.5
    cpo_alpha: float = 1.0  # the NLL weight on the chosen draft
    learning_rate: float = 5e-7

    def check(self) -> None:
        super().check()
        existing("prompts", self.prompts, what="prompt dataset")
        existing("reviewer", self.reviewer, what="reviewer GGUF")
        if Path(self.reviewer).suffix != ".gguf":
            raise ConfigError(f"reviewer: {self.reviewer} is not a .gguf file")
        for name in ("iterations", "reviewer_samples", "max_new_tokens", "beta"):
            positive(name, getattr(self, name))
        if self.drafts < 2:
            raise ConfigError(
                f"drafts: at least 2 drafts per prompt make a pair, got {self.drafts}"
            )
        in_range("temperature", self.temperature, 0.0, 2.0)
        in_range("reviewer_temperature", self.reviewer_temperature, 0.0, 2.0)
        if self.min_margin < 0:
            raise ConfigError(f"min_margin: must be >= 0, got {self.min_margin}")


def load_prompts(path: Path) -> list[dict]:
    """The prompt turns (everything before the first assistant turn) of each record."""
    from papercycle.trainer.data.records import read_records
    from papercycle.trainer.data.research import researcher_prompt_turns

    prompts = []
    for record in read_records(path):
        if not ("references" in record or "messages" in record or "conversations" in record):
            raise ConfigError(f"prompts: record {record.get('id')!r} has no references or messages")
        prompts.append(
            {
                "id": str(record.get("paperId") or record.get("id") or len(prompts)),
                "messages": researcher_prompt_turns(record),
            }
        )
    return prompts


@dataclass
class Pair:
    prompt: list[dict]
    chosen: str
    rejected: str
    margin: float


def make_pairs(
    prompts: list[dict],
    drafts: list[list[str]],
    rewards: list[list[float | None]],
    min_margin: float,
) -> tuple[list[Pair], int]:
    """Best vs worst draft of each prompt; (pairs, skipped for a small margin)."""
    pairs, skipped = [], 0
    for prompt, texts, scores in zip(prompts, drafts, rewards, strict=True):
        scored = [(s, t) for s, t in zip(scores, texts, strict=True) if s is not None]
        if len(scored) < 2:
            skipped += 1
            continue
        best = max(scored, key=lambda x: x[0])
        worst = min(scored, key=lambda x: x[0])
        margin = best[0] - worst[0]
        if margin <= 0 or margin < min_margin:
            skipped += 1
            continue
        pairs.append(Pair(prompt["messages"], best[1], worst[1], margin))
    return pairs, skipped


def run_simpo(config: SimPOConfig, say=print) -> RecipeResult:
    preflight(config, say)
    say(f"sampler: {resolve_sampler(config.sampler)}")  # refused here, before any model loads
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    prompts = load_prompts(config.prompts)
    if not prompts:
        raise ConfigError(f"prompts: no prompt in {config.prompts}")
    policy = Path(config.model)
    ranks = Ranks()
    history = []
    for k in range(config.iterations):
        folder = output_dir / f"iteration-{k}"
        done = folder / "done.json"
        if done.exists():  # resumed run: this iteration finished before the interruption
            summary = json.loads(done.read_text())
            say(f"iteration {k}: already done (mean reward {summary['mean_reward']:.3f})")
            history.append(summary)
            policy = Path(summary["policy"])
            continue
        ranks.main_only(folder.mkdir, parents=True, exist_ok=True)
        batch = _iteration_prompts(prompts, k, config.prompts_per_iteration)
        pairs_file = folder / "pairs.jsonl"
        # sampling and reviewing run once, on the main process; the other ranks read the pairs
        ranks.main_only(_sample_once, config, policy, folder, batch, k, say)
        record = json.loads((folder / "rewards.json").read_text())
        pairs = [Pair(**json.loads(line)) for line in pairs_file.read_text().splitlines()]
        say(
            f"iteration {k}: mean reward {record['mean_reward']:.3f} (std {record['reward_std']:.3f}) "
            f"over {record['scored']} drafts; {len(pairs)} pairs, {record['skipped_prompts']} prompts skipped"
        )
        if pairs:
            policy = _train(config, policy, pairs, folder, ranks, say)
        else:
            say(
                f"iteration {k}: no pair with a margin of at least {config.min_margin}; policy unchanged"
            )
        summary = {key: record[key] for key in record if key != "rewards"} | {"policy": str(policy)}
        ranks.main_only(done.write_text, json.dumps(summary))
        history.append(summary)
    final = output_dir / "model"

    def finish() -> None:
        (output_dir / "iterations.json").write_text(json.dumps(history, indent=2))
        if policy != final:
            _copy_model(policy, final)

    ranks.main_only(finish)
    result = export_result(config, final, say=say)
    result.metrics = {"iterations": history}
    return result


def _sample_once(
    config: SimPOConfig, policy: Path, folder: Path, batch: list[dict], k: int, say
) -> None:
    """Drafts, their rewards and the preference pairs of iteration k, written to `folder`
    (kept from before an interruption when they are there already)."""
    pairs_file = folder / "pairs.jsonl"
    if pairs_file.exists():
        lines = len(pairs_file.read_text().splitlines())
        say(f"iteration {k}: reusing {lines} pairs sampled before the interruption")
        return
    drafts = _sample(config, policy, folder, batch, k, say)
    rewards = _score(config, drafts, k, say)
    pairs, skipped = make_pairs(batch, drafts, rewards, config.min_margin)
    flat = [r for rs in rewards for r in rs if r is not None]
    record = {
        "iteration": k,
        "prompts": len(batch),
        "drafts": sum(len(d) for d in drafts),
        "scored": len(flat),
        "mean_reward": statistics.fmean(flat) if flat else float("nan"),
        "reward_std": statistics.pstdev(flat) if flat else 0.0,
        "pairs": len(pairs),
        "skipped_prompts": skipped,
        "rewards": rewards,
    }
    (folder / "drafts.json").write_text(json.dumps(drafts, ensure_ascii=False))
    (folder / "rewards.json").write_text(json.dumps(record))
    # pairs last: its presence says the iteration's sampling is complete
    partial = folder / "pairs.jsonl.partial"
    partial.write_text("".join(json.dumps(p.__dict__, ensure_ascii=False) + "\n" for p in pairs))
    partial.replace(pairs_file)


def _iteration_prompts(prompts: list[dict], k: int, per_iteration: int | None) -> list[dict]:
    if per_iteration is None or per_iteration >= len(prompts):
        return prompts
    start = (k * per_iteration) % len(prompts)
    return (prompts + prompts)[start : start + per_iteration]


def _sample(
    config: SimPOConfig, policy: Path, folder: Path, batch: list[dict], k: int, say
) -> list[list[str]]:
    say(
        f"iteration {k}: sampling {config.drafts} drafts for {len(batch)} prompts ({config.sampler})"
    )
    sampler = resolve_sampler(config.sampler)
    if sampler == "vllm":
        return sample_vllm(
            policy, [p["messages"] for p in batch], n=config.drafts,
            temperature=config.temperature, top_p=config.top_p,
            max_tokens=config.max_new_tokens, seed=config.seed + 100_003 * k,
            max_model_len=config.policy_n_ctx,
        )  # fmt: skip
    if sampler == "transformers":
        return _sample_transformers(config, policy, batch, k)
    from papercycle.trainer.export.pipeline import ExportOptions, export_model
    from papercycle.trainer.generation.client import LlamaGenerator

    gguf = folder / "policy.gguf"
    if not gguf.exists():
        # Unverified: this copy only samples drafts; the final export is verified.
        options = ExportOptions(
            quant=config.sampling_quant, pre_tokenizer=pre_tokenizer_of(config), verify=False
        )
        export_model(policy, gguf, options)
    drafts = []
    with LlamaGenerator(gguf, n_ctx=config.policy_n_ctx) as generator:
        for i, prompt in enumerate(batch):
            drafts.append(
                generator.generate(
                    prompt["messages"], n=config.drafts, temperature=config.temperature,
                    top_p=config.top_p, max_tokens=config.max_new_tokens,
                    seed=config.seed + 100_003 * k + 1009 * i,
                )
            )  # fmt: skip
        say(
            f"iteration {k}: sampled {generator.tokens_generated} tokens at "
            f"{generator.tokens_generated / max(generator.seconds, 1e-9):.0f} tokens/s"
        )
    gguf.unlink()  # a full policy copy per iteration adds up
    return drafts


def _sample_transformers(
    config: SimPOConfig, policy: Path, batch: list[dict], k: int
) -> list[list[str]]:
    import torch

    tokenizer = load_tokenizer(policy)
    model = load_model(config, policy)
    if torch.cuda.is_available():
        model = model.cuda()
    torch.manual_seed(config.seed + k)
    drafts = []
    for prompt in batch:
        ids = tokenizer.apply_chat_template(
            prompt["messages"], add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        ids = {key: value.to(model.device) for key, value in ids.items()}
        out = model.generate(
            **ids, do_sample=True, temperature=config.temperature, top_p=config.top_p,
            max_new_tokens=config.max_new_tokens, num_return_sequences=config.drafts,
            pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
        prompt_length = ids["input_ids"].shape[1]
        drafts.append(tokenizer.batch_decode(out[:, prompt_length:], skip_special_tokens=True))
    del model
    return drafts


def _score(config: SimPOConfig, drafts: list[list[str]], k: int, say) -> list[list[float | None]]:
    from papercycle.trainer.generation.client import LlamaGenerator
    from papercycle.trainer.reward.reviewer_score import ReviewerScorer

    say(
        f"iteration {k}: reviewing {sum(map(len, drafts))} drafts x {config.reviewer_samples} samples"
    )
    rewards = []
    with LlamaGenerator(config.reviewer, n_ctx=config.reviewer_n_ctx) as generator:
        scorer = ReviewerScorer(
            generator, format=config.reviewer_format, samples=config.reviewer_samples,
            temperature=config.reviewer_temperature, max_tokens=config.reviewer_max_tokens,
            grammar=config.reviewer_grammar, reviewers=config.reviewer_grammar_reviewers,
        )  # fmt: skip
        for i, texts in enumerate(drafts):
            row = []
            for j, text in enumerate(texts):
                row.append(scorer.score(text, seed=config.seed + 7919 * k + 101 * i + j).reward)
            rewards.append(row)
        say(
            f"iteration {k}: the reviewer wrote {generator.tokens_generated} tokens at "
            f"{generator.tokens_generated / max(generator.seconds, 1e-9):.0f} tokens/s"
        )
    return rewards


def _train(
    config: SimPOConfig, policy: Path, pairs: list[Pair], folder: Path, ranks: Ranks, say
) -> Path:
    from datasets import Dataset
    from trl.experimental.cpo import CPOConfig, CPOTrainer

    dataset = Dataset.from_list(
        [
            {
                "prompt": p.prompt,
                "chosen": [{"role": "assistant", "content": p.chosen}],
                "rejected": [{"role": "assistant", "content": p.rejected}],
            }
            for p in pairs
        ]
    )
    checkpoints = folder / "checkpoints"
    args = trl_args(
        CPOConfig, config, checkpoints,
        loss_type="simpo", cpo_alpha=config.cpo_alpha, beta=config.beta,
        simpo_gamma=config.simpo_gamma, max_length=config.max_length,
    )  # fmt: skip
    tokenizer = load_tokenizer(policy)
    trainer = CPOTrainer(
        model=load_model(config, policy),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=peft_config(config),
    )
    resume = last_checkpoint(checkpoints, say) if config.resume else None
    if resume:
        say(f"resuming the preference step from {resume}")
    output = trainer.train(resume_from_checkpoint=resume)
    say(
        f"trained {output.global_step} SimPO+NLL steps on {len(pairs)} pairs, loss {output.training_loss:.4f}"
    )
    return save_policy(trainer, tokenizer, config, policy, folder / "policy", ranks)


def _copy_model(source: Path, target: Path) -> None:
    import shutil

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("checkpoint-*"))
