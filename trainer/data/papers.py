"""The one shape every review source is read into: a paper, its human reviews and decision."""

from __future__ import annotations

from dataclasses import dataclass, field

from papercycle.formats.review import Decision, MetaReview, ReviewerReport


@dataclass
class Paper:
    id: str
    text: str
    title: str = ""
    reports: list[ReviewerReport] = field(default_factory=list)
    meta: MetaReview | None = None
    decision: Decision | None = None
    source: str = ""

    def ratings(self) -> list[float]:
        return [r.rating.value for r in self.reports if r.rating and r.rating.value is not None]

    def human_scores(self, name: str) -> list[float]:
        return [v for r in self.reports if (v := r.scores().get(name)) is not None]

    @property
    def accepted(self) -> bool | None:
        return (
            None
            if self.decision is None or self.decision.verdict is None
            else (self.decision.verdict == "Accept")
        )
