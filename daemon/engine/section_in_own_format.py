"""A section reviewed by a model that does not write section reviews (format section): its own
prompt over the section alone (a DeepReviewer's Fast one), never our section format forced on
it through a grammar; its weaknesses and questions are anchored inside the section.
"""

from __future__ import annotations

from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets, skeleton
from papercycle.daemon.engine.anchoring import Anchorer
from papercycle.daemon.engine.prompting import (
    PROMPT_VERSIONS,
    TokenCounter,
    combined_scores,
    hidden_findings,
    key_and_tokens,
    render_prompt,
)
from papercycle.daemon.engine.review_units import shown_name
from papercycle.daemon.models.request import GenerationRequest
from papercycle.formats import aiscientist, cyclereviewer, deepreviewer, openreviewer
from papercycle.formats.parse import parse_review
from papercycle.formats.review import Review
from papercycle.latex import Project
from papercycle.latex.model import SectionSlice


def prepare(
    project: Project,
    model: ModelConfig,
    part: SectionSlice,
    text: str,
    removed: list[str],
    count: TokenCounter | None,
) -> GenerationRequest:
    """A section reviewed by a model that does not write section reviews: its own prompt (a
    DeepReviewer's Fast one) over the section alone, never our section format forced on it;
    its weaknesses and questions are anchored inside the section (`finish`)."""
    fmt = model.format
    mode = "fast" if fmt == "deepreviewer" else "standard"
    title = part.node.display_name()
    body = f"{title}\n\n{text}"
    if fmt == "cyclereviewer":
        messages = cyclereviewer.build_messages(body)
    elif fmt == "deepreviewer":
        messages = deepreviewer.build_messages(body, mode, reviewer_num=1)
    elif fmt == "openreviewer":
        messages = openreviewer.build_messages(body)
    else:
        messages = aiscientist.build_messages(body)
    grammar = skeleton.grammar_for(fmt) if model.structured else None
    settings = budgets.settings_for(model, fmt, mode)
    prompt = render_prompt(model, messages)
    version = f"{PROMPT_VERSIONS[fmt]}-section"
    key, tokens = key_and_tokens(
        model, version, settings, grammar, prompt, f"section {title!r}", mode, count
    )
    return GenerationRequest(
        "section",
        model,
        mode,
        messages,
        prompt,
        grammar,
        settings,
        version,
        key,
        tokens,
        part,
        removed,
    )


def finish(
    project: Project, anchorer: Anchorer, request: GenerationRequest, output: str
) -> dict[str, Any]:
    part = request.section
    assert part is not None
    review = parse_review(output, request.model.format, model=request.model.name)
    assert isinstance(review, Review)
    # a Fast answer is one meta review; Standard-like answers have reviewers
    reports = [*review.reports, *([review.meta] if review.meta is not None else [])]
    comments = [
        {
            "kind": "comment",
            "category": kind,
            "severity": severity,
            "text": text,
            "quote": "",
            "suggested_rewrite": None,
            "anchor": anchorer.anchor(
                text, within=(part.prose_start, part.prose_end), fallback=part.node.range
            ).to_dict(project),
        }
        for report in reports
        for kind, items, severity in (
            ("weakness", report.weaknesses, "major"),
            ("question", getattr(report, "questions", []), "minor"),
        )
        for text in items
    ]
    return {
        "kind": "section",
        "model": request.model.name,
        "format": request.model.format,
        "mode": request.mode,
        "section": {
            "title": part.node.title,
            "number": part.node.number,
            "name": shown_name(part.node),
            "range": project.range_dict(part.node.range),
        },
        "scores": combined_scores(review),
        "decision": None,
        "comments": comments,
        "hidden": hidden_findings(project),
        "removed_instructions": request.removed_instructions,
        "warnings": review.warnings,
        "review": review.to_dict(),
    }
