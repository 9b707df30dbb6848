"""Adapters from review datasets to `Paper`: the shared ICLR files, Review-5K, DeepReview-13K.

Field names follow `shared/docs/review-formats.md` §4.1; where a dataset is known under
several layouts (hub csv, the authors' sample.json, older evaluators) each is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from papercycle.formats.review import Decision, MetaReview, ReviewerReport, Score
from papercycle.trainer.data.papers import Paper
from papercycle.trainer.data.records import DataError, maybe_json

# ICLR 2022+ rating vocabulary (OpenReview), for sources that store bare numbers.
ICLR_RATINGS = {
    1: "1: strong reject",
    3: "3: reject, not good enough",
    5: "5: marginally below the acceptance threshold",
    6: "6: marginally above the acceptance threshold",
    8: "8: accept, good paper",
    10: "10: strong accept, should be highlighted at the conference",
}
SUBSCORES = {1: "1 poor", 2: "2 fair", 3: "3 good", 4: "4 excellent"}


def _decision(text: str | None, accepted: bool | None = None) -> Decision | None:
    if text is None and accepted is None:
        return None
    decision = Decision.read(text or "")
    if accepted is not None:  # "Invite to Workshop Track" and the like: not an acceptance
        decision.verdict = "Accept" if accepted else "Reject"
        decision.text = decision.text or decision.verdict
    return decision


def iclr2017(record: dict[str, Any]) -> Paper:
    """ICLR 2017 (OpenReview crawl): title + abstract as the paper, review text as summary."""
    reports = [
        ReviewerReport(
            summary=(review.get("comments") or "").strip() or None,
            rating=Score(
                float(review["rating"]), review.get("rating_text") or str(review["rating"])
            ),
            confidence=None
            if review.get("confidence") is None
            else Score(float(review["confidence"]), review.get("confidence_text") or ""),
        )
        for review in record.get("reviews", [])
        if review.get("rating") is not None
    ]
    text = f"# {record.get('title', '')}\n\n## Abstract\n\n{record.get('abstract', '')}"
    meta = MetaReview(text=record["meta_review"]) if record.get("meta_review") else None
    return Paper(
        id=str(record["id"]),
        text=text,
        title=record.get("title", ""),
        reports=reports,
        meta=meta,
        decision=_decision(record.get("decision"), record.get("accepted")),
        source="iclr2017",
    )


def iclr2022(record: dict[str, Any]) -> Paper:
    """ICLR 2022 (AI Scientist benchmark): full text and per-reviewer ratings only."""
    reports = [
        ReviewerReport(rating=_rating(review["rating"]))
        for review in record.get("reviews", [])
        if review.get("rating") is not None
    ]
    return Paper(
        id=str(record["id"]),
        text=record.get("text", ""),
        reports=reports,
        decision=_decision(record.get("decision"), record.get("accepted")),
        source="iclr2022",
    )


def _rating(value: Any) -> Score:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Score(float(value), ICLR_RATINGS.get(int(value), str(value)))
    return Score.read(str(value))


def _score(value: Any, vocabulary: dict[int, str]) -> Score | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Score(float(value), vocabulary.get(int(value), str(value)))
    return Score.read(str(value))


def openreview(record: dict[str, Any]) -> Paper:
    """Review-5K / DeepReview-13K: a paper text and OpenReview-style review contents.

    Accepted layouts: `review` / `reviews` / `reviewer_comments` (a list, or its JSON in a
    csv cell) of `{content: {summary, soundness, ..., rating, confidence}}` or flat dicts;
    Review-5K's `rates` + `review_contexts`; paper text in `paper_context` / `text` / `paper`.
    """
    text = next(
        (record[k] for k in ("paper_context", "text", "paper", "content") if record.get(k)), None
    )
    if text is None:
        raise DataError(f"record {record.get('id')!r}: no paper text (paper_context/text/paper)")
    reviews = maybe_json(
        next((record[k] for k in ("review", "reviews", "reviewer_comments") if k in record), [])
    )
    if not reviews and record.get("review_contexts"):
        contexts = maybe_json(record["review_contexts"])
        reviews = [maybe_json(c) for c in contexts]
    reports = []
    for review in reviews or []:
        content = maybe_json(review.get("content", review)) if isinstance(review, dict) else {}
        if not isinstance(content, dict):
            continue
        reports.append(_report(content))
    if not reviews and record.get("rates"):
        reports = [ReviewerReport(rating=_rating(v)) for v in maybe_json(record["rates"])]
    decision_text = record.get("decision")
    if isinstance(decision_text, str) and "\n\n" in decision_text:
        decision_text = decision_text.split("\n\n", 1)[1]  # Review-5K: "Decision\n\nAccept..."
    return Paper(
        id=str(record.get("id") or record.get("paper_id") or record.get("title")),
        text=text,
        title=record.get("title") or "",
        reports=reports,
        decision=_decision(decision_text),
        source="openreview",
    )


def _listed(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value).strip()]


def _report(content: dict[str, Any]) -> ReviewerReport:
    return ReviewerReport(
        summary=content.get("summary") or None,
        soundness=_score(content.get("soundness"), SUBSCORES),
        presentation=_score(content.get("presentation"), SUBSCORES),
        contribution=_score(content.get("contribution"), SUBSCORES),
        strengths=_listed(content.get("strengths")),
        weaknesses=_listed(content.get("weaknesses") or content.get("weakness")),
        suggestions=_listed(content.get("suggestions")),
        questions=_listed(content.get("questions")),
        rating=_score(content.get("rating"), ICLR_RATINGS),
        confidence=_score(content.get("confidence"), {}),
    )


SOURCES: dict[str, Callable[[dict[str, Any]], Paper]] = {
    "iclr2017": iclr2017,
    "iclr2022": iclr2022,
    "review-5k": openreview,
    "deepreview-13k": openreview,
}
