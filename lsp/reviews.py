"""The latest review results of one project, as the daemon sent them (rebuilt from the daemon's
open project on the next subscription: the server owns nothing it cannot rebuild)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercycle.lsp.findings import Finding
from papercycle.lsp.results import ReviewResult


@dataclass
class SectionResult:
    result: ReviewResult
    findings: list[Finding]
    from_project: bool = True  # sent by the open project (False: a `review.section` answer)


@dataclass
class ProjectReviews:
    root: Path
    paper: ReviewResult | None = None
    paper_findings: list[Finding] = field(default_factory=list)
    paper_from_project: bool = True  # False: a `review.paper` answer (reviewMode fast / best)
    sections: dict[str, SectionResult] = field(default_factory=dict)  # by section id
    # the open-buffer versions the daemon's last results are anchored in (absent: disk)
    versions: dict[Path, int | None] = field(default_factory=dict)
    # the open project's failures (lsp/failures.py), on \documentclass
    error_findings: list[Finding] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        out = list(self.paper_findings) + list(self.error_findings)
        for entry in self.sections.values():
            out.extend(entry.findings)
        return out

    def section_named(self, name: str) -> tuple[str, SectionResult] | None:
        """(section id, result) of the section with this display name."""
        for ident, entry in self.sections.items():
            if entry.result.section_name == name:
                return ident, entry
        return None

    def summary(self) -> dict[str, Any] | None:
        """Rating, decision and per-reviewer ratings of the paper review, if any."""
        paper = self.paper
        if paper is None:
            return None
        return {
            "rating": paper.scores.get("rating"),
            "decision": paper.decision,
            "reviewers": len(paper.ratings),
            "ratings": paper.ratings,
            "scores": paper.scores,
            "model": paper.model,
            "mode": paper.mode,
        }


def notices(result: ReviewResult, what: str) -> list[str]:
    """The window messages a result calls for: a review cut off before its end (and what to
    raise), and a review of which nothing could be read (and the parser's reasons). A section
    result from an open project carries only its generation's finish reason."""
    out = []
    cut = result.incomplete
    if cut is None and result.generation.finish == "length":
        cut = (
            f"review incomplete: the model was cut off after {result.generation.tokens} "
            "tokens; raise the model's max_tokens or n_ctx"
        )
    if cut:
        out.append(f"papercycle: {what}: {cut}")
    if result.mode_note:
        out.append(f"papercycle: {what}: {result.mode_note}")
    warnings = [w for w in result.warnings if w not in " ".join(out)]
    if warnings and not result.comments and not result.scores:
        model = result.model or "the model"
        out.append(
            f"papercycle: {what}: nothing readable in what {model} wrote: "
            + "; ".join(warnings[:3])
        )
    return out
