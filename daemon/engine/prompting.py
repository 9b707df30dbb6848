"""What every generation the engine prepares shares: the chat prompt rendered for a model, the
model's identity in cache keys, the check that a prompt and its answer fit the context, the
scores a review's reports combine to, and the hidden-text findings every review reports.

Kept apart from review.py so the modules that prepare other generations (a section in a
reviewer's own format, drafts, plans, Best Mode, the AI Scientist's rounds) use it without
importing the review module, and review.py can import them back without a circle.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets
from papercycle.daemon.store import cache_key
from papercycle.formats import (
    aiscientist,
    cyclereviewer,
    deepreviewer,
    openreviewer,
    section,
)
from papercycle.formats.chat import ChatTemplate, Message
from papercycle.formats.review import Review
from papercycle.latex import Project
from papercycle.latex.diagnostics import Severity
from papercycle.latex.hidden import hidden_severity

PROMPT_VERSIONS = {
    "cyclereviewer": cyclereviewer.PROMPT_VERSION,
    "deepreviewer": deepreviewer.PROMPT_VERSION,
    "aiscientist": aiscientist.PROMPT_VERSION,
    "openreviewer": openreviewer.PROMPT_VERSION,
    "section": section.PROMPT_VERSION,
}


class ReviewError(ValueError):
    """A review that cannot be run as asked (context too small, unknown section, ...)."""

    def __init__(self, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.data = data  # sent with the error (a context too small: `too_long` and numbers)


TokenCounter = Callable[[ModelConfig, str], int | None]


_TEMPLATES: dict[tuple, ChatTemplate] = {}


def render_prompt(model: ModelConfig, messages: list[Message]) -> str:
    if model.backend == "http":
        # The server applies its own template; the key still needs the exact input.
        return "\n".join(f"<{m['role']}>\n{m['content']}" for m in messages)
    # Reading the template parses the whole GGUF header: once per model file version.
    ident = tuple(sorted(model_identity(model).items()))
    template = _TEMPLATES.get(ident)
    if template is None:
        template = _TEMPLATES[ident] = ChatTemplate.from_gguf(model.path)
    return template.render(messages)


def fit_prompt(
    model: ModelConfig,
    what: str,
    prompt: str,
    settings: dict[str, Any],
    count: TokenCounter,
    mode: str,
) -> int | None:
    """The prompt's tokens; settings' max_tokens bounded by the room it leaves (budgets.py)."""
    tokens = count(model, prompt)
    if tokens is None:
        return None
    try:
        budgets.fit(model, what, mode, tokens, settings)
    except budgets.BudgetError as error:
        raise ReviewError("model", str(error), too_long=error.numbers) from None
    return tokens


def key_and_tokens(
    model: ModelConfig,
    version: str,
    settings: dict[str, Any],
    grammar: str | None,
    prompt: str,
    what: str,
    mode: str,
    count: TokenCounter | None,
) -> tuple[str, int | None]:
    """The cache key, made with the unbounded budget (the bound follows from the prompt, also
    in the key), and, when `count` is given, the prompt's tokens with the budget bounded."""
    key = cache_key(model_identity(model), version, {**settings, "grammar": grammar}, prompt)
    tokens = None if count is None else fit_prompt(model, what, prompt, settings, count, mode)
    return key, tokens


def model_identity(model: ModelConfig) -> dict[str, Any]:
    from papercycle.daemon.models.registry import identity

    return identity(model)


def hidden_findings(project: Project) -> list[dict[str, Any]]:
    return [
        {
            "method": f.method,
            "detail": f.detail,
            "text": f.text,
            "injection": f.injection,
            # source-only text (a comment quoting an attack) is minor even when it instructs
            "severity": "critical" if hidden_severity(f) == Severity.ERROR else "minor",
            "range": project.range_dict(f.range),
        }
        for f in project.hidden
    ]


def combined_scores(review: Review) -> dict[str, float]:
    """Meta-review scores where given, else the mean over reviewers."""
    out: dict[str, float] = {}
    if review.meta is not None:
        out.update({k: v for k, v in review.meta.scores().items() if v is not None})
    names = {n for r in review.reports for n in r.scores()}
    for name in sorted(names - set(out)):
        values = [r.scores()[name] for r in review.reports if r.scores().get(name) is not None]
        if values:
            out[name] = round(statistics.fmean(values), 2)
    return out
