"""Findings: every review comment and project-model finding as one record, keyed by its text
(dismissals survive edits that move it) and located by offsets into the text it was found in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def _range(data: dict[str, Any] | None) -> tuple[Path, int, int] | None:
    if not data or "path" not in data:
        return None
    return Path(data["path"]), int(data.get("start", 0)), int(data.get("end", 0))


def from_result(
    result: dict[str, Any],
    versions: dict[Path, int | None],
    title: tuple[Path, int, int] | None = None,
) -> list[Finding]:
    """The findings of one daemon review result ("paper" or "section" kind). `versions` are
    the open-document versions the request was made with (absent: the file on disk)."""
    out: list[Finding] = []
    kind = result.get("kind")
    model = result.get("model")
    section = result.get("section") or {}
    heading = _range(section.get("range"))
    for comment in result.get("comments", []):
        anchor = comment.get("anchor") or {}
        where = _range(anchor.get("range"))
        if where is None:
            continue
        path, start, end = where
        category = str(comment.get("category") or comment.get("kind") or "comment")
        text = str(comment.get("text") or "")
        quote = comment.get("quote") or None
        related: list[tuple[Path, int, int, str]] = []
        reviewer = comment.get("reviewer")
        if kind == "section" and heading is not None:
            related.append((*heading, f"section review of {section.get('name', '')} ({model})"))
        elif kind == "paper" and title is not None:
            who = "the meta review" if reviewer == 0 else f"reviewer {reviewer}"
            related.append((*title, f"{who} ({model})"))
        out.append(
            Finding(
                key=finding_key(category, text, quote),
                origin=str(kind),
                category=category,
                severity=str(comment.get("severity") or "minor"),
                message=text,
                path=path,
                start=start,
                end=end,
                base_version=versions.get(path),
                quote=quote,
                rewrite=comment.get("suggested_rewrite") or None,
                reviewer=reviewer if isinstance(reviewer, int) else None,
                section=section.get("name"),
                model=model,
                method=anchor.get("method"),
                related=related,
            )
        )
    return out


def from_project(diagnostics: list[Any], versions: dict[Path, int | None]) -> list[Finding]:
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
