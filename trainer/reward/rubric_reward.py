"""The rubric reward for GRPO: a frozen grader (the initial policy, as a GGUF in a llama.cpp
child process) grades each sampled plan against its paper's rubric with
`formats.rubric.grade_plan`, reasoning before each verdict; the reward is the fraction of
rubric items satisfied, less a share for each general guideline the plan fails and a length
term. Plans are written from the same prompt `papercycle plan` sends.

Rubric coverage, logged beside the reward, is the fraction of a prompt's rubric items that
at least one of its sampled plans satisfies: a falling coverage with a rising reward means
the policy is narrowing onto the easy items.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from papercycle.formats.chat import Message
from papercycle.formats.rubric import Rubric, grade_plan

# Checked for every plan beside its paper's own rubric (the paper's general guidelines): a
# plan can cover every rubric item and still be unusable.
GENERAL_GUIDELINES = (
    "The plan does not claim results: nothing has been run yet.",
    "The plan is specific enough that another researcher could carry it out.",
    "The plan stays on the research goal and does not drift to another problem.",
    "The plan states what would show that the idea does not work.",
)


def plan_messages(goal: str) -> list[Message]:
    """The prompt a plan is written from: the very one `papercycle plan` sends (the policy is
    trained on the prompt it will be served with)."""
    from papercycle.formats.plan import build_messages

    return build_messages(goal)


def length_penalty(plan: str, max_words: int, weight: float) -> float:
    """`weight` per multiple of `max_words` beyond it: longer plans cover more rubric items
    by listing everything, so length alone must not pay."""
    words = len(plan.split())
    return weight * max(0.0, words / max_words - 1.0)


@dataclass
class RubricReward:
    generator: object  # a started LlamaGenerator serving the frozen grader
    temperature: float = 0.0
    max_tokens: int = 1024  # reasons before verdicts take room
    seed: int = 0
    guidelines: tuple[str, ...] = GENERAL_GUIDELINES
    guideline_weight: float = 0.5  # subtracted times the fraction of guidelines failed
    max_plan_words: int = 900
    length_weight: float = 0.5
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
            # one call: the grader reasons before each verdict, rubric items then guidelines
            checks = [*items, *self.guidelines]
            grade = grade_plan(plan, Rubric(g, checks), self.generate, reasons=True)
            rubric_verdicts = grade.verdicts[: len(items)]
            guideline_verdicts = grade.verdicts[len(items) :]
            score = sum(v is True for v in rubric_verdicts) / len(items) if items else 0.0
            failed = sum(v is not True for v in guideline_verdicts)
            score -= self.guideline_weight * failed / max(1, len(self.guidelines))
            score -= length_penalty(plan, self.max_plan_words, self.length_weight)
            rewards.append(score)
            sizes[g] = len(items)
            covered[g].update(i for i, v in enumerate(rubric_verdicts) if v)
        coverage = sum(len(covered[g]) / sizes[g] for g in sizes) / len(sizes)
        self.history.append({"rewards": rewards, "coverage": coverage})
        if log_metric is not None:
            log_metric("rubric_coverage", coverage)
        return rewards
