"""An open project's section comments: each section's last review (`SectionReview`), its
comments with stable ids, re-anchored in every new revision of the text, and the `comments`
event that tells subscribers what was added, updated and removed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papercycle.daemon.engine import incremental, review, review_units
from papercycle.daemon.models.request import GenerationRequest

if TYPE_CHECKING:
    from papercycle.daemon.sessions.session import Session


@dataclass
class SectionReview:
    unit: review_units.Unit
    request: GenerationRequest
    output: str
    info: dict[str, Any]
    cached: bool
    revision: int
    comments: list[dict[str, Any]] = field(default_factory=list)
    stale: bool = False
    scores: dict[str, Any] = field(default_factory=dict)  # the section's, from its review


def comment_ids(unit: review_units.Unit, comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(comments):
        digest = hashlib.sha1(f"{unit.key}\x00{i}\x00{c.get('text', '')}".encode()).hexdigest()
        out.append({"id": f"{unit.ident}/{digest[:12]}", **c})
    return out


def finish(session: Session, state: SectionReview, unit: review_units.Unit) -> list[dict[str, Any]]:
    """The review's comments anchored in the section's current text (`unit`)."""
    result = review.finish(
        session.project, incremental.with_part(state.request, unit), state.output
    )
    state.scores = result.get("scores") or {}
    return comment_ids(state.unit, result["comments"])


def reanchor_all(session: Session, changed: set[str]) -> None:
    """Every kept review re-anchored in the new text (cheap: its output is kept); a changed
    section's comments are `stale` until its new review arrives."""
    current = {u.ident: u for u in session.units}
    for ident, state in list(session.reviews.items()):
        unit = current.get(ident)
        if unit is None:
            continue
        stale = ident in changed or unit.key != state.unit.key
        comments = finish(session, state, unit)
        if comments != state.comments or stale != state.stale:
            state.stale = stale
            emit_comments(session, state, comments)


def emit_comments(
    session: Session,
    state: SectionReview,
    comments: list[dict[str, Any]],
    removed_section: bool = False,
) -> None:
    old = {c["id"]: c for c in state.comments}
    new = {c["id"]: c for c in comments}
    state.comments = comments
    session.emit(
        "comments",
        comments_data(
            session,
            state,
            added=[c for i, c in new.items() if i not in old],
            updated=[c for i, c in new.items() if i in old and old[i] != c],
            removed=[i for i in old if i not in new],
            removed_section=removed_section,
        ),
    )


def comments_data(
    session: Session,
    state: SectionReview,
    added: list[dict[str, Any]],
    updated: list[dict[str, Any]],
    removed: list[str],
    removed_section: bool = False,
) -> dict[str, Any]:
    """A `comments` event: the section's current comments and what changed."""
    return {
        **session.stamp(),
        "section": state.unit.describe(session.project)
        if not removed_section
        else {"id": state.unit.ident, "removed": True},
        "reviewed_revision": state.revision,
        "stale": state.stale,
        "cached": state.cached,
        "generation": state.info,
        "scores": state.scores,
        "comments": state.comments,
        "added": added,
        "updated": updated,
        "removed": removed,
    }
