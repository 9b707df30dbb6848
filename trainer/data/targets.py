"""Reviewer SFT examples in the exact formats the daemon serves.

The target is rendered by the format's own renderer from a typed `Review`, so what the model
learns to write is what `parse_review` reads back. Human reports are ordered from the lowest
to the highest rating, as CycleReviewer writes them. OpenReviewer writes one reviewer's report:
each human report of a paper is an example of its own, as the authors trained it.
"""

from __future__ import annotations

import statistics

from papercycle.formats import cyclereviewer, deepreviewer, openreviewer
from papercycle.formats.chat import Message
from papercycle.formats.review import MetaReview, Review, ReviewerReport, Score
from papercycle.trainer.data.papers import Paper

REVIEWER_FORMATS = ("cyclereviewer", "deepreviewer", "openreviewer")


def reviewer_prompt(paper_text: str, format: str) -> list[Message]:
    if format == "cyclereviewer":
        return cyclereviewer.build_messages(paper_text)
    if format == "deepreviewer":
        return deepreviewer.build_messages(paper_text, mode="fast")
    if format == "openreviewer":
        return openreviewer.build_messages(paper_text)
    raise ValueError(f"unknown reviewer format {format!r} (one of {REVIEWER_FORMATS})")


def reviewer_target(paper: Paper, format: str) -> str:
    reports = sorted(
        paper.reports, key=lambda r: r.rating.value if r.rating and r.rating.value else 0.0
    )
    review = Review(format=format, reports=reports, meta=paper.meta, decision=paper.decision)  # type: ignore[arg-type]
    if format == "cyclereviewer":
        return cyclereviewer.render(review)
    if format == "openreviewer":
        raise ValueError("an OpenReviewer target is one report: use reviewer_examples")
    review.meta = _mean_meta(paper)
    return deepreviewer.render(review, mode="fast")


def _mean_meta(paper: Paper) -> MetaReview:
    """DeepReviewer's final review carries the mean of the reviewers' scores."""
    meta = MetaReview(text=paper.meta.text if paper.meta else None)
    meta.summary = next((r.summary for r in paper.reports if r.summary), None)
    for name in ReviewerReport.SCORE_FIELDS:
        values = paper.human_scores(name)
        if values:
            mean = round(statistics.fmean(values), 2)
            setattr(meta, name, Score(mean, f"{mean:g}"))
    return meta


def reviewer_example(paper: Paper, format: str) -> dict:
    messages = reviewer_prompt(paper.text, format)
    messages.append({"role": "assistant", "content": reviewer_target(paper, format)})
    return {"id": paper.id, "messages": messages}


def reviewer_examples(paper: Paper, format: str) -> list[dict]:
    """The paper's examples: one per human report in OpenReviewer's format (its ids carry the
    report's position; the split stays by paper), else one with all reports."""
    if format != "openreviewer":
        return [reviewer_example(paper, format)]
    examples = []
    for index, report in enumerate(paper.reports, 1):
        messages = reviewer_prompt(paper.text, format)
        target = openreviewer.render(openreviewer.target_review(report))
        messages.append({"role": "assistant", "content": target})
        examples.append({"id": f"{paper.id}/review-{index}", "messages": messages})
    return examples
