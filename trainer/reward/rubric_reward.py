"""The rubric reward for GRPO: a frozen grader (the initial policy, as a GGUF in a llama.cpp
child process) grades each sampled plan against its paper's rubric with
`formats.rubric.grade_plan`; the reward is the fraction of rubric items satisfied.

Rubric coverage, logged beside the reward, is the fraction of a prompt's rubric items that
at least one of its sampled plans satisfies: a falling coverage with a rising reward means
the policy is narrowing onto the easy items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from papercycle.daemon.formats.chat import Message
from papercycle.daemon.formats.rubric import Rubric, grade_plan

PLAN_SYSTEM_PROMPT = (
    "You are a research assistant. Given a research goal, write a concrete research plan: "
    "the method, the experiments with datasets, baselines and metrics, and the analyses "
    "that would show whether the method works."
)


def plan_messages(goal: str) -> list[Message]:
    return [
        {"role": "system", "content": PLAN_SYSTEM_PROMPT},
        {"role": "user", "content": f"Research goal: {goal}"},
    ]


@dataclass
class RubricReward:
    generator: object  # a started LlamaGenerator serving the frozen grader
    temperature: float = 0.0
    max_tokens: int = 64
    seed: int = 0
    history: list[dict] = field(default_factory=list)  # per batch: rewards and coverage
    __name__: str = "rubric"  # trl names reward functions by __name__

    def generate(self, messages: list[Message], grammar: str, max_tokens: int | None = None) -> str:
        self.seed += 1
        return self.generator.generate(  # type: ignore[attr-defined]
            messages, n=1, temperature=self.temperature, max_tokens=max_tokens or self.max_tokens,
            seed=self.seed, grammar=grammar,
        )[0]  # fmt: skip

    def __call__(self, prompts, completions, goal, rubric, log_metric=None, **_) -> list[float]:
        rewards, covered = [], defaultdict(set)
        sizes = {}
        for completion, g, items in zip(completions, goal, rubric, strict=True):
            plan = completion[-1]["content"] if isinstance(completion, list) else completion
            grade = grade_plan(plan, Rubric(g, list(items)), self.generate)
            rewards.append(grade.score if grade.score is not None else 0.0)
            sizes[g] = len(items)
            covered[g].update(i for i, v in enumerate(grade.verdicts) if v)
        coverage = sum(len(covered[g]) / sizes[g] for g in sizes) / len(sizes)
        self.history.append({"rewards": rewards, "coverage": coverage})
        if log_metric is not None:
            log_metric("rubric_coverage", coverage)
        return rewards
