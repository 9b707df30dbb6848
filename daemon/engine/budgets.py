"""How many tokens an answer may take, per format and mode, bounded by the model's context.

The defaults come from the real outputs we hold (../shared/data/reviewer-outputs and the
CycleResearcher sample): a DeepReviewer Standard answer is 55-87 KB (up to ~20k tokens), Best
step 2 ~15-18k, Fast ~3-4k; a CycleReviewer review ~3-4k; a CycleResearcher paper ~19k. One
budget of 2,048 tokens for all of them cut Standard answers after two of four reviewers.

A model's own `max_tokens` ([models.sampling]) overrides the default and is held to: an
answer that cannot get it is refused. A default is bounded by the room the prompt leaves
(n_ctx - prompt), and refused only when that room is below a quarter of it (at least 512).
"""

from __future__ import annotations

from typing import Any

from papercycle.daemon.config import ModelConfig

# (format, mode) -> answer tokens; "*": any other mode of that format
ANSWER_TOKENS: dict[str, dict[str, int]] = {
    "deepreviewer": {"standard": 20480, "best": 18432, "fast": 4096, "*": 4096},
    "cyclereviewer": {"*": 4096},
    "aiscientist": {"*": 2048},
    # the authors evaluate with max_tokens 4096 (review-formats.md)
    "openreviewer": {"*": 4096},
    "section": {"*": 2048},
    "cycleresearcher": {"*": 19456},
}
FALLBACK = 2048  # formats and modes not in the table (drafts, plans, rubrics)
# Sampling defaults of real (unconstrained) models per format, under the model's own: a mild
# repeat penalty over llama.cpp's last 64 tokens. What the real outputs repeat (the headings
# and score lines of four reviewers) lies hundreds of tokens apart, outside that window; the
# loops that get past it are caught while decoding (models/loops.py).
FORMAT_SAMPLING: dict[str, dict[str, Any]] = {
    fmt: {"repeat_penalty": 1.05}
    for fmt in (
        "deepreviewer",
        "cyclereviewer",
        "aiscientist",
        "openreviewer",
        "cycleresearcher",
        "section",
    )
}


class BudgetError(ValueError):
    """The prompt leaves no room for the answer; the message has the numbers, `numbers` too
    (`tokens` needed, `prompt_tokens`, `n_ctx`): a review by section lists what it skipped."""

    def __init__(self, message: str, numbers: dict[str, int] | None = None) -> None:
        super().__init__(message)
        self.numbers = numbers or {}


def default_budget(fmt: str, mode: str) -> int:
    per_mode = ANSWER_TOKENS.get(fmt, {})
    return per_mode.get(mode, per_mode.get("*", FALLBACK))


def settings_for(model: ModelConfig, fmt: str, mode: str) -> dict[str, Any]:
    """The model's generation settings with the answer budget and sampling defaults of this
    format and mode (the model's own settings win). Part of the cache key: not bounded by the prompt yet."""
    settings = model.settings()
    if not model.structured:  # a grammar-forced model keeps the package's defaults
        settings = {**settings, **FORMAT_SAMPLING.get(fmt, {}), **model.sampling}
    if "max_tokens" not in model.sampling:
        settings["max_tokens"] = default_budget(fmt, mode)
    return settings


def fit(
    model: ModelConfig, what: str, mode: str, prompt_tokens: int, settings: dict[str, Any]
) -> None:
    """Bound settings' max_tokens by the room the prompt leaves, or refuse with the numbers."""
    answer = int(settings.get("max_tokens", FALLBACK))
    room = model.n_ctx - prompt_tokens
    own = "max_tokens" in model.sampling
    # a default is cut to the room, down to a quarter of a typical answer (at least 512)
    need = answer if own else min(answer, max(512, answer // 4))
    if room < need:
        why = f"its max_tokens is {answer}" if own else f"a {mode} answer is typically {answer}"
        # a section is already the smallest unit: "review by section" would be no advice
        last = "split the section" if what.startswith("section") else "review by section"
        raise BudgetError(
            f"model {model.name!r}: {what} needs {prompt_tokens + need} tokens ({prompt_tokens} "
            f"of prompt + {need} for the answer) but its context holds {model.n_ctx} (n_ctx) "
            f"and {why}; use a model with a longer context, raise n_ctx, lower max_tokens, or "
            f"{last}",
            {"tokens": prompt_tokens + need, "prompt_tokens": prompt_tokens, "n_ctx": model.n_ctx},
        )
    settings["max_tokens"] = min(answer, room)
