"""Code lenses: the paper's rating above the title (or \\documentclass), "Review section" and
"Draft section" above each section. Each runs a server command."""

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


def paper_lens_place(outline: Outline) -> tuple[Path, int] | None:
    """The paper's lens goes above its title; a paper without `\\title` (an untitled draft, a
    class with its own title command) has it above `\\documentclass`: a review is never
    shown nowhere."""
    if outline.title is not None:
        return outline.title.path, outline.title.start
    if outline.documentclass is not None:
        return outline.documentclass[0], outline.documentclass[1]
    return None


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
    place = paper_lens_place(outline)
    if place is not None and place[0] == path:
        rng = lines.range(place[1], place[1])
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
