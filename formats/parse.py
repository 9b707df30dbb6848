"""One entry point for every reviewer output, with format auto-detection."""

from __future__ import annotations

from papercycle.formats import (
    aiscientist,
    cyclereviewer,
    deepreviewer,
    openreviewer,
    section,
)
from papercycle.formats.review import FORMAT_NAMES, Review, SectionReview

PARSERS = {
    "cyclereviewer": cyclereviewer.parse,
    "deepreviewer": deepreviewer.parse,
    "aiscientist": aiscientist.parse,
    "openreviewer": openreviewer.parse,
    "section": section.parse,
}


def detect_format(text: str) -> str | None:
    """The format `text` is written in, or None when nothing review-like is recognisable.

    A complete AI Scientist form comes first: it is a JSON object, so markers of other
    formats quoted inside its strings say nothing. Then DeepReviewer's `\\boxed_` blocks:
    its simulated reviewers use the same `## Reviewer` headings as CycleReviewer. OpenReviewer's
    `## Rating` fields come last: DeepReviewer's bare final review writes the same titles at
    the same level, with a colon (`## Rating:`), which OpenReviewer's layout never has.
    """
    if aiscientist.looks_like(text) and aiscientist.has_form(text):
        return "aiscientist"
    if deepreviewer.looks_like(text):
        return "deepreviewer"
    if cyclereviewer.looks_like(text):
        return "cyclereviewer"
    if section.looks_like(text):
        return "section"
    if aiscientist.looks_like(text):
        return "aiscientist"
    if deepreviewer.looks_like_final_review(text):
        return "deepreviewer"
    if openreviewer.looks_like(text):
        return "openreviewer"
    return None


def parse_review(
    text: str, format: str = "auto", model: str | None = None
) -> Review | SectionReview:
    """Parse a reviewer's raw output.

    Never raises on odd text: what could not be read is listed in `.warnings`, and
    `.is_empty()` tells whether anything review-like was found.
    """
    if format == "auto":
        detected = detect_format(text)
        if detected is None:
            return Review(
                format=None,
                raw_text=text,
                warnings=[
                    "no review format recognised (CycleReviewer, DeepReviewer, "
                    "AI Scientist form, OpenReviewer or section review)"
                ],
            )
        format = detected
    if format not in FORMAT_NAMES:
        raise ValueError(
            f"unknown review format {format!r} (expected auto or one of {FORMAT_NAMES})"
        )
    parsed = PARSERS[format](text)
    if isinstance(parsed, Review):
        parsed.model = model
    return parsed
