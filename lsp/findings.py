"""Findings: every review comment and project-model finding as one record, keyed by its text
(dismissals survive edits that move it) and located by offsets into the text it was found in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex import Diagnostic
from papercycle.lsp.results import ReviewResult

# Project-model diagnostics shown in the editor (the rest belong to a LaTeX linter).
PROJECT_CODES = (
    "hidden-text",
    "hidden-injection",
    "bib-parse",
    "bib-duplicate-key",
    "bib-missing",
    "bib-none",
    "bib-unused",
    "cite-undefined",
)


@dataclass
class Finding:
    key: str
    origin: str  # "paper" | "section" | "project"
    category: str
    severity: str  # the daemon's: "critical" | "major" | "minor" (project: error|warning|...)
    message: str
    path: Path
    start: int
    end: int
    base_version: int | None  # version of the open document it was computed on; None: disk
    quote: str | None = None
    rewrite: str | None = None
    reviewer: int | None = None  # paper reviews: 1..n, 0 = the meta review
    section: str | None = None  # section reviews: the section's display name
    model: str | None = None
    method: str | None = None  # how it was anchored
    related: list[tuple[Path, int, int, str]] = field(default_factory=list)


def finding_key(category: str, text: str, quote: str | None = None) -> str:
    norm = re.sub(r"\s+", " ", f"{category}\x00{text}\x00{quote or ''}").strip().lower()
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()[:20]


def from_result(
    result: ReviewResult,
    versions: dict[Path, int | None],
    title: tuple[Path, int, int] | None = None,
) -> list[Finding]:
    """The findings of one daemon review result ("paper" or "section" kind). `versions` are
    the open-document versions the request was made with (absent: the file on disk)."""
    out: list[Finding] = []
    section = result.section
    heading = section.heading if section is not None else None
    for comment in result.comments:
        if comment.range is None:
            continue
        path, start, end = comment.range.as_tuple()
        related: list[tuple[Path, int, int, str]] = []
        if result.kind == "section" and heading is not None:
            about = f"section review of {result.section_name or ''} ({result.model})"
            related.append((*heading.as_tuple(), about))
        elif result.kind == "paper" and title is not None:
            reviewer = comment.reviewer
            who = "the meta review" if reviewer == 0 else f"reviewer {reviewer}"
            related.append((*title, f"{who} ({result.model})"))
        out.append(
            Finding(
                key=finding_key(comment.category, comment.text, comment.quote),
                origin=result.kind,
                category=comment.category,
                severity=comment.severity,
                message=comment.text,
                path=path,
                start=start,
                end=end,
                base_version=versions.get(path),
                quote=comment.quote,
                rewrite=comment.rewrite,
                reviewer=comment.reviewer,
                section=result.section_name,
                model=result.model,
                method=comment.method,
                related=related,
            )
        )
    return out


def from_project(diagnostics: list[Diagnostic], versions: dict[Path, int | None]) -> list[Finding]:
    """Hidden-text and bibliography findings of the project model (its `Diagnostic`s)."""
    out = []
    for diag in diagnostics:
        if diag.code not in PROJECT_CODES or diag.range is None:
            continue
        path = Path(diag.range.path)
        out.append(
            Finding(
                key=finding_key(diag.code, diag.message),
                origin="project",
                category=diag.code,
                severity=diag.severity.name.lower(),
                message=diag.message,
                path=path,
                start=diag.range.start,
                end=diag.range.end,
                base_version=versions.get(path),
            )
        )
    return out
