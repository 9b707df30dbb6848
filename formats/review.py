"""The typed review every format parser returns, and its JSON form.

A parser never drops a review because one part of it is unreadable: it fills what it
could read and lists the rest in `warnings`. Scores keep the text they were read from
("3 good", "5: marginally below the acceptance threshold") next to the number, so a
reader can always check the number against what the model wrote.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

FormatName = Literal["cyclereviewer", "deepreviewer", "aiscientist", "openreviewer", "section"]
FORMAT_NAMES: tuple[FormatName, ...] = (
    "cyclereviewer",
    "deepreviewer",
    "aiscientist",
    "openreviewer",
    "section",
)

# The ICLR/NeurIPS sub-score words, for outputs that give the word without its number.
SUBSCORE_WORDS = {"poor": 1, "fair": 2, "good": 3, "excellent": 4}

# A leading number: "3 good", "10: strong accept", "2.67", "**3**". The number must end at
# a non-digit so that "10" is read as 10 and never as its first character.
_LEADING_NUMBER = re.compile(r"\s*[*_]*\s*(?P<number>\d+(?:\.\d+)?)(?![\d.]*\d)")


@dataclass
class Score:
    """A score as a number and the text it was read from; `value` is None when unreadable."""

    value: float | None
    text: str

    @classmethod
    def read(cls, text: str, *, may_be_cut: bool = False) -> Score:
        """Read the number at the start of `text` ("3 good", "10: strong accept", "2.67").

        With `may_be_cut` (the text ends where the output was cut off), a number that runs
        into the end is not trusted: "1" may be the start of "10".
        """
        stripped = text.strip()
        match = _LEADING_NUMBER.match(stripped)
        if match is not None and not (may_be_cut and match.end("number") == len(stripped)):
            return cls(float(match["number"]), stripped)
        word = stripped.split(maxsplit=1)[0].strip("*_.:").lower() if stripped else ""
        if word in SUBSCORE_WORDS and not (may_be_cut and len(word) == len(stripped)):
            return cls(float(SUBSCORE_WORDS[word]), stripped)
        return cls(None, stripped)

    @classmethod
    def of(cls, value: float | int | None, text: str | None = None) -> Score:
        """A score taken from structured data (JSON), where the value is already a number."""
        return cls(None if value is None else float(value), str(value) if text is None else text)


@dataclass
class Decision:
    """The decision as written ("Accept (poster)") and read ("Accept" / "Reject" / None)."""

    verdict: Literal["Accept", "Reject"] | None
    text: str

    @classmethod
    def read(cls, text: str) -> Decision:
        stripped = text.strip()
        lowered = stripped.lower()
        # "Reject" wins over "accept" so that "Reject (not accepted)"-style texts read right.
        if "reject" in lowered:
            return cls("Reject", stripped)
        if "accept" in lowered:
            return cls("Accept", stripped)
        return cls(None, stripped)


@dataclass
class ReviewerReport:
    """One reviewer's report. List fields hold one entry per item of the written list."""

    summary: str | None = None
    soundness: Score | None = None
    presentation: Score | None = None
    contribution: Score | None = None
    strengths: list[str] = field(default_factory=list)
    weaknesses: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    rating: Score | None = None
    confidence: Score | None = None
    ethics_flag: bool | None = None
    ethics_text: str | None = None
    # DeepReviewer: the "#### Some Related Works" list inside Weaknesses.
    related_works: list[str] = field(default_factory=list)
    # AI Scientist form: Limitations, and Originality / Quality / Clarity / Significance.
    limitations: list[str] = field(default_factory=list)
    other_scores: dict[str, Score] = field(default_factory=dict)

    SCORE_FIELDS: ClassVar[tuple[str, ...]] = (
        "soundness",
        "presentation",
        "contribution",
        "rating",
        "confidence",
    )

    def scores(self) -> dict[str, float | None]:
        """Every score by name (None where the text held no readable number)."""
        named = {name: getattr(self, name) for name in self.SCORE_FIELDS}
        named.update(self.other_scores)
        return {name: score.value for name, score in named.items() if score is not None}


@dataclass
class MetaReview(ReviewerReport):
    """The meta review: a report's fields where present, plus the area chair's own text."""

    text: str | None = None
    justification_for_why_not_higher_score: str | None = None
    justification_for_why_not_lower_score: str | None = None


@dataclass
class Review:
    """A parsed reviewer output: the reports, the meta review and the decision."""

    format: FormatName | None
    reports: list[ReviewerReport] = field(default_factory=list)
    meta: MetaReview | None = None
    decision: Decision | None = None
    mode: str | None = None
    model: str | None = None
    # DeepReviewer Best Mode, first turn: the questions to search for.
    search_questions: list[str] = field(default_factory=list)
    # Free text that is not a review field: DeepReviewer analysis/verification, AI Scientist THOUGHT.
    notes: dict[str, str] = field(default_factory=dict)
    raw_text: str = ""
    warnings: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when nothing review-like was read."""
        return not (self.reports or self.meta or self.decision or self.search_questions)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Review:
        data = dict(data)
        data["reports"] = [_report_from_dict(ReviewerReport, r) for r in data.get("reports", [])]
        if data.get("meta") is not None:
            data["meta"] = _report_from_dict(MetaReview, data["meta"])
        if data.get("decision") is not None:
            data["decision"] = Decision(**data["decision"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Review:
        return cls.from_dict(json.loads(text))


def _report_from_dict(kind: type[ReviewerReport], data: dict[str, Any]) -> Any:
    data = dict(data)
    for name in ReviewerReport.SCORE_FIELDS:
        if data.get(name) is not None:
            data[name] = Score(**data[name])
    data["other_scores"] = {k: Score(**v) for k, v in data.get("other_scores", {}).items()}
    return kind(**data)


@dataclass
class SectionComment:
    """One anchored comment on a section: `quote` is meant to be an exact excerpt of it."""

    category: str
    severity: str
    quote: str
    comment: str
    suggested_rewrite: str | None = None


@dataclass
class SectionReview:
    """Our anchored review of one section (see `formats.section`)."""

    comments: list[SectionComment] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)
    format: Literal["section"] = "section"
    raw_text: str = ""
    warnings: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.comments or self.scores)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SectionReview:
        data = dict(data)
        data["comments"] = [SectionComment(**c) for c in data.get("comments", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> SectionReview:
        return cls.from_dict(json.loads(text))
