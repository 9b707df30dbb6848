"""Hover: the scores on \\title / \\documentclass, a section's review on its heading, the whole
comment (with its suggestion) on a diagnostic's range. Pure functions over the stored state:
a hover never waits for the daemon."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from papercycle.lsp.diagnostics import Located
from papercycle.lsp.outline import Outline
from papercycle.lsp.positions import Lines
from papercycle.lsp.reviews import ProjectReviews


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


# How a user asks for a review, in the words of the client they use (from the LSP
# `clientInfo.name` of initialize); other clients are told the server command.
HOW_TO_REVIEW_PAPER = {
    "vscode": "the *Review document* code lens above the title, or the command "
    "*papercycle: Review document*",
    "neovim": "`:PapercycleReview`",
    "emacs": "`M-x papercycle-review`",
    "web": "the *Review* button above the editor",
    "other": "the server command `papercycle.reviewDocument`",
}
HOW_TO_REVIEW_SECTION = {
    "vscode": "the *Review section* code lens above its heading",
    "neovim": "`:PapercycleReviewSection` with the cursor in it",
    "emacs": "`M-x papercycle-review-section` with the cursor in it",
    "web": "it is reviewed when you save",
    "other": "the server command `papercycle.reviewSection`",
}


def client_kind(name: str | None) -> str:
    """The client family from its `clientInfo.name`."""
    name = (name or "").lower()
    if name == "papercycle-web":
        return "web"
    if "neovim" in name or "nvim" in name:
        return "neovim"
    if "emacs" in name or "eglot" in name:
        return "emacs"
    if "code" in name or "vscodium" in name or "cursor" in name:
        return "vscode"
    return "other"


def disagree(summary: dict) -> bool:
    """A rating and a decision that point opposite ways (both are the model's own answers,
    neither derived from the other): worth a note beside them."""
    rating, decision = summary.get("rating"), (summary.get("decision") or "").lower()
    if not isinstance(rating, int | float):
        return False
    return (rating >= 8 and "reject" in decision) or (rating <= 3 and "accept" in decision)


DISAGREE_NOTE = (
    "The rating and the decision disagree: the model wrote both, neither follows from the "
    "other; read the comments."
)


def paper_markdown(reviews: ProjectReviews | None, client: str = "other") -> str:
    summary = reviews.summary() if reviews else None
    if summary is None:
        how = HOW_TO_REVIEW_PAPER.get(client, HOW_TO_REVIEW_PAPER["other"])
        return f"**papercycle**: no review of the paper yet. Ask for one with {how}."
    lines = [
        f"**papercycle review** · model `{summary['model']}` · mode {summary['mode']}",
        "",
        f"Decision: **{summary['decision'] or '-'}** · Rating **{_fmt(summary['rating'])}**",
        "",
    ]
    if disagree(summary):
        lines += [f"*{DISAGREE_NOTE}*", ""]
    scores = summary["scores"]
    if scores:
        lines += ["| score | value |", "|---|---|"]
        lines += [f"| {name} | {_fmt(value)} |" for name, value in sorted(scores.items())]
        lines.append("")
    if summary["ratings"]:
        lines.append(
            "Reviewers' ratings: "
            + ", ".join(f"reviewer {i}: {_fmt(r)}" for i, r in enumerate(summary["ratings"], 1))
        )
    return "\n".join(lines)


def section_markdown(reviews: ProjectReviews | None, name: str, client: str = "other") -> str:
    found = reviews.section_named(name) if reviews else None
    if found is None:
        how = HOW_TO_REVIEW_SECTION.get(client, HOW_TO_REVIEW_SECTION["other"])
        return f"**{name}**: not reviewed yet ({how})."
    result = found[1].result
    lines = [f"**Review of {name}** · model `{result.model}`", ""]
    if result.scores:
        lines.append(" · ".join(f"{k} {_fmt(v)}/4" for k, v in sorted(result.scores.items())))
        lines.append("")
    for comment in result.comments:
        lines.append(f"- *{comment.category}* ({comment.severity}): {comment.text}")
    if not result.comments:
        lines.append("No comments.")
    return "\n".join(lines)


def comment_markdown(item: Located) -> str:
    f = item.finding
    head = f"**papercycle · {f.category}** ({f.severity})"
    if f.origin == "section" and f.section:
        head += f" · {f.section}"
    elif f.origin == "paper":
        head += " · meta review" if f.reviewer == 0 else f" · reviewer {f.reviewer}"
    lines = [head, "", f.message]
    if f.quote:
        lines += ["", f"> {f.quote}"]
    if f.rewrite:
        lines += ["", "Suggested rewrite:", "", f"```latex\n{f.rewrite}\n```"]
    if f.method and f.origin != "project":
        lines += ["", f"_anchored by {f.method}_"]
    return "\n".join(lines)


def hover(
    path: Path,
    offset: int,
    lines: Lines,
    outline: Outline | None,
    reviews: ProjectReviews | None,
    located: list[Located],
    client: str = "other",
) -> types.Hover | None:
    line = lines.line_of(offset)
    if outline is not None:
        for target in (outline.title, outline.documentclass):
            if target is None:
                continue
            t_path, t_start = (target.path, target.start) if hasattr(target, "path") else target[:2]
            if t_path == path and lines.line_of(t_start) == line:
                return types.Hover(
                    types.MarkupContent(types.MarkupKind.Markdown, paper_markdown(reviews, client))
                )
        heading = outline.heading_at(path, offset)
        if heading is not None:
            return types.Hover(
                types.MarkupContent(
                    types.MarkupKind.Markdown, section_markdown(reviews, heading.name, client)
                ),
                lines.range(heading.start, heading.end),
            )
    hits = [item for item in located if item.start <= offset <= max(item.end, item.start + 1)]
    if hits:
        hits.sort(key=lambda item: item.end - item.start)
        return types.Hover(
            types.MarkupContent(
                types.MarkupKind.Markdown, "\n\n---\n\n".join(comment_markdown(h) for h in hits)
            ),
            lines.range(hits[0].start, hits[0].end),
        )
    return None
