"""Code lenses: the paper's rating above the title, "Review section" and "Draft section" above
each section. Each runs a server command."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from papercycle.lsp import commands
from papercycle.lsp.hover import _fmt, disagree
from papercycle.lsp.outline import Outline
from papercycle.lsp.positions import Lines
from papercycle.lsp.reviews import ProjectReviews


def title_text(reviews: ProjectReviews | None, running: bool = False) -> str:
    summary = reviews.summary() if reviews else None
    if summary is None:
        return "papercycle: reviewing…" if running else "No review yet · Review document"
    parts = [f"Rating {_fmt(summary['rating'])}"]
    if summary["decision"]:
        parts.append(
            summary["decision"] + (" (they disagree: see hover)" if disagree(summary) else "")
        )
    n = summary["reviewers"]
    parts.append(f"{n} reviewer{'s' if n != 1 else ''}")
    parts.append("Reviewing…" if running else "Re-review")
    return " · ".join(parts)


def lenses(
    uri: str,
    path: Path,
    lines: Lines,
    outline: Outline | None,
    reviews: ProjectReviews | None,
    running: bool = False,
) -> list[types.CodeLens]:
    if outline is None:
        return []
    out = []
    if outline.title is not None and outline.title.path == path:
        rng = lines.range(outline.title.start, outline.title.start)
        out.append(
            types.CodeLens(
                rng,
                commands.command(title_text(reviews, running), commands.REVIEW_DOCUMENT, [uri]),
            )
        )
    for heading in outline.headings:
        if heading.path != path:
            continue
        rng = lines.range(heading.start, heading.start)
        out.append(
            types.CodeLens(
                rng,
                commands.command("Review section", commands.REVIEW_SECTION, [uri, heading.anchor]),
            )
        )
        out.append(
            types.CodeLens(
                rng,
                commands.command("Draft section", commands.DRAFT_SECTION, [uri, heading.anchor]),
            )
        )
    return out
