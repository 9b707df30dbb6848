"""The events of an open project's `subscribe` stream (daemon/PROTOCOL.md "Open projects and
subscriptions"), applied to the session's review results and published:

- `sections.changed`: which sections are being reviewed again (progress, code lens);
- `comments`: a section's comments. `stale` ones (the section changed, its new review is on
  the way) are kept only where their quote was found verbatim in the new text; the others are
  withheld until the new review arrives;
- `paper`: the whole-paper review (hover, code lens, diagnostics);
- `anchored`: every comment is anchored in the text of the event's `versions` (the editor's
  document versions the daemon had): findings are re-based on them and published; the
  documents module shifts or withholds them for any later edit (never stale);
- `error`: a section's (the paper's, the project's) current failure; the daemon replays the
  current ones to a new subscription, so errors that fired before it are not lost. Each
  distinct message is shown once as a window message, and the project's failures stay as an
  error diagnostic on `\\documentclass` until the sections they name are reviewed
  (failures.py).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from papercycle.lsp.failures import failure_findings
from papercycle.lsp.findings import Finding, from_result
from papercycle.lsp.publish import publish_project
from papercycle.lsp.results import (
    ErrorEvent,
    PaperEvent,
    ReviewResult,
    SectionsChanged,
    comments_event,
    versions_of,
)
from papercycle.lsp.reviews import ProjectReviews, SectionResult, notices

if TYPE_CHECKING:
    from papercycle.lsp.projects import OpenProject
    from papercycle.lsp.session import PapercycleServer

log = logging.getLogger("papercycle.lsp")


def on_event(ls: PapercycleServer, op: OpenProject, event: dict[str, Any]) -> None:
    log.debug("%s: %s event %s", op.ident, event.get("event"), _summary(event))
    op.retries = 0
    try:
        _apply(ls, op, event)
    except Exception:  # one bad event must not end the subscription
        log.exception("applying a %s event failed", event.get("event"))
    op.wake.set()


def _apply(ls: PapercycleServer, op: OpenProject, event: dict[str, Any]) -> None:
    kind = event.get("event")
    reviews = ls.reviews.get(op.root)
    if reviews is None:
        reviews = ls.reviews[op.root] = ProjectReviews(op.root)
    versions = versions_of(event)
    publish = False
    if kind == "sections.changed":
        _sections_changed(ls, op, reviews, SectionsChanged.from_wire(event))
    elif kind == "comments":
        model = ls.settings.model_for("section") or "section model"
        result = comments_event(event, model)
        _comments(ls, op, reviews, result, versions)
        publish = not op.in_update or _failure_gone(ls, op, reviews, result)
    elif kind == "paper":
        paper = PaperEvent.from_wire(event)
        reviews.paper = paper.result
        reviews.paper_from_project = True
        reviews.paper_findings = _findings(ls, op.root, paper.result, versions)
        notify(ls, paper.result, "the paper review")
        op.paper_revision = max(op.paper_revision, paper.reviewed_revision)
        op.paper_busy = False
        publish = not op.in_update or _cleared(ls, op, reviews, "paper")
        refresh_lenses(ls)
    elif kind == "anchored":
        op.in_update = False
        reviews.versions = versions
        for entry in reviews.sections.values():
            if entry.from_project:
                entry.findings = _findings(ls, op.root, entry.result, versions)
        if reviews.paper is not None and reviews.paper_from_project:
            reviews.paper_findings = _findings(ls, op.root, reviews.paper, versions)
        if op.outline_stale:
            op.outline_stale = False
            ls.spawn(_reread(ls, op.root))
        publish = True
    elif kind == "error":
        _error(ls, op, reviews, ErrorEvent.from_wire(event))
        publish = True
    if publish:
        publish_project(ls, op.root)
    op.report_progress()


def _sections_changed(
    ls: PapercycleServer, op: OpenProject, reviews: ProjectReviews, event: SectionsChanged
) -> None:
    op.in_update = True
    if event.origin == "disk":
        op.outline_stale = True
    if not op.todo:
        op.total = 0
    for section in event.reviewed:
        op.names[section.id] = section.name or section.id
        if section.id not in op.todo:
            op.todo.add(section.id)
            op.total += 1
    gone = set(event.removed)
    if event.origin == "subscribe":  # the current state: what is not in it is gone
        order = set(event.order)
        gone |= {i for i, e in reviews.sections.items() if e.from_project and i not in order}
    for ident in gone:
        op.todo.discard(ident)
        reviews.sections.pop(ident, None)
        _cleared(ls, op, reviews, ident)
    if event.origin != "subscribe":
        _cleared(ls, op, reviews, "project")  # the project was read


def _comments(
    ls: PapercycleServer,
    op: OpenProject,
    reviews: ProjectReviews,
    result: ReviewResult,
    versions: dict[Path, int | None],
) -> None:
    section = result.section
    if section is None:
        return
    ident = section.id
    if section.removed:
        op.todo.discard(ident)
        reviews.sections.pop(ident, None)
        return
    if not result.stale:
        op.todo.discard(ident)
    op.names[ident] = section.name or ident
    # a `review.section` answer for the same section is replaced
    for other in [
        i
        for i, e in reviews.sections.items()
        if not e.from_project and e.result.section_name == section.name
    ]:
        reviews.sections.pop(other, None)
    reviews.sections[ident] = SectionResult(result, _findings(ls, op.root, result, versions))
    notify(ls, result, f"the review of {op.names[ident]}")


def _error(
    ls: PapercycleServer, op: OpenProject, reviews: ProjectReviews, event: ErrorEvent
) -> None:
    if event.section == "paper":
        op.paper_busy = False
    elif event.section is not None:
        op.todo.discard(event.section)
    message = event.message or "failed"
    op.failed[event.section if event.section is not None else "project"] = message
    # once per distinct message: a missing model fails every section with the same one
    ls.message(f"papercycle: review failed: {message}", types.MessageType.Error, once=True)
    reviews.error_findings = failure_findings(ls, op)


def _failure_gone(
    ls: PapercycleServer, op: OpenProject, reviews: ProjectReviews, result: ReviewResult
) -> bool:
    if result.stale or result.section is None:
        return False
    return _cleared(ls, op, reviews, result.section.id)


def _cleared(ls: PapercycleServer, op: OpenProject, reviews: ProjectReviews, key: str) -> bool:
    """Forget the failure of `key` (reviewed now, or gone); whether there was one."""
    if op.failed.pop(key, None) is None:
        return False
    reviews.error_findings = failure_findings(ls, op)
    return True


def notify(ls: PapercycleServer, result: ReviewResult, what: str) -> None:
    for text in notices(result, what):
        ls.message(text, types.MessageType.Warning, once=True)


def _findings(
    ls: PapercycleServer, root: Path, result: ReviewResult, versions: dict[Path, int | None]
) -> list[Finding]:
    findings = from_result(result, versions, ls.title_of(root))
    # a file open in the editor that the daemon read from disk (its buffer not pushed):
    # ranges are shifted from the disk text to the buffer
    for path in {f.path for f in findings if f.base_version is None}:
        if ls.docs.by_path(path) is not None:
            with contextlib.suppress(OSError):
                ls.disk_base[path] = path.read_text(encoding="utf-8")
    return findings


async def _reread(ls: PapercycleServer, root: Path) -> None:
    """Files changed on disk: the structure (and the text of unopened files, which
    diagnostics are placed in) is read again."""
    buffers = {doc.path: doc.text for doc in ls.docs.by_uri.values()}
    await ls.outlines.refresh(root, buffers, ls.versions(), reload=True)
    publish_project(ls, root)


def refresh_lenses(ls: PapercycleServer) -> None:
    """Scores changed: ask the client for the code lenses again (when it can be asked)."""
    if ls.can_refresh_lenses():
        ls.spawn(_refresh_lenses(ls))


async def _refresh_lenses(ls: PapercycleServer) -> None:
    with contextlib.suppress(Exception):
        await ls.workspace_code_lens_refresh_async(None)


def _summary(event: dict[str, Any]) -> str:
    """What a debug log says of an event: its keys, and how many comments a result has."""
    result = event.get("result") or {}
    comments = result.get("comments") if isinstance(result, dict) else None
    counts = f" ({len(comments)} comments)" if isinstance(comments, list) else ""
    return ", ".join(sorted(str(k) for k in event)) + counts
