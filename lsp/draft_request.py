"""Draft section (the command, the code lens and the code action): the `draft.section`
request streamed from the daemon, shown live (`papercycle/draft`), then offered as one
WorkspaceEdit, or kept for the code action "Insert the draft of ..." (drafts.py: the draft
itself, where it goes and its text)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.daemon.client import DaemonError
from papercycle.lsp import code_actions, drafts
from papercycle.lsp.documents import Document, path_uri
from papercycle.lsp.progress import Progress
from papercycle.lsp.results import DraftResult
from papercycle.lsp.session import PapercycleServer

WARN = types.MessageType.Warning


async def draft_section(ls: PapercycleServer, uri: str, anchor: int) -> dict[str, Any] | None:
    """Draft the section at `anchor` of the open document `uri`: {draft, applied} (None:
    nothing to draft, or the daemon failed, which the user is told)."""
    doc = ls.docs.get(uri)
    if doc is None or ls.link is None:
        return None
    outline = await ls.refresh_outline(doc.path)
    heading = outline.section_of(doc.path, anchor) if outline else None
    if heading is None:
        ls.message("papercycle: no section here to draft", WARN)
        return None
    draft = drafts.Draft(
        drafts.new_id(),
        uri,
        doc.path,
        heading.name,
        drafts.insertion_offset(doc.text, heading.end) if heading.path == doc.path else 0,
        doc.version,
    )
    task = asyncio.current_task()
    progress = Progress(ls, f"papercycle: drafting {heading.name}", task.cancel if task else None)
    await progress.begin("waiting for the daemon")
    params = ls.request_params(doc.path, "interactive")
    versions_at_request = ls.versions()
    params["section"] = {"path": str(heading.path), "offset": heading.anchor}
    model = ls.settings.model_for("researcher")
    if model:
        params["model"] = model
    try:
        answer = await ls.link.stream(drafts.REQUEST, params, _streamer(ls, draft, progress))
    except asyncio.CancelledError:
        ls.protocol.notify(
            drafts.NOTIFICATION, {**drafts.chunk_message(draft, "", True), "cancelled": True}
        )
        progress.end("cancelled")
        raise
    except TimeoutError:
        progress.end("the daemon is not reachable")
        ls.message("papercycle: the daemon is not reachable", WARN)
        return None
    except DaemonError as error:
        progress.end(error.message)
        ls.message(_failure(error), WARN)
        return None
    ls.finish_job()  # generated: a cancel has nothing left to stop
    result = DraftResult.from_wire(answer)
    _finish(ls, draft, result, versions_at_request)
    progress.end("done")
    if result.warnings:  # invented citations removed, simulated-result markers to replace
        ls.message(f"papercycle: draft of {draft.section}: " + "; ".join(result.warnings), WARN)
    return await offer_draft(ls, draft)


def _streamer(ls: PapercycleServer, draft: drafts.Draft, progress: Progress):
    """The stream's events: stages as progress, tokens as `papercycle/draft` chunks."""
    chunks = 0

    def on_event(event: dict[str, Any]) -> None:
        nonlocal chunks
        kind = event.get("event")
        if kind in ("queued", "loading", "started") or (kind == "progress" and event.get("stage")):
            progress.report(str(event.get("stage") or kind))
        if kind == "token":
            chunks += 1
            draft.text += str(event.get("text", ""))
            ls.protocol.notify(
                drafts.NOTIFICATION, drafts.chunk_message(draft, event.get("text", ""))
            )
            progress.report(f"{chunks} tokens")

    return on_event


def _failure(error: DaemonError) -> str:
    if drafts.missing_request(error):
        return (
            "papercycle: this daemon cannot draft sections yet (no draft.section "
            "request; the co-author is not installed)"
        )
    return f"papercycle: draft failed: {error.message}"


def _finish(
    ls: PapercycleServer,
    draft: drafts.Draft,
    result: DraftResult,
    versions_at_request: dict[Path, int | None],
) -> None:
    """The whole text and the place the daemon named; the last `papercycle/draft` chunk."""
    if result.text is not None:
        draft.text = result.text
    target = drafts.place(draft, result)
    if target is not None and target != draft.path:
        # the daemon drafts into the section's own file (an \input part)
        other = ls.docs.by_path(target)
        draft.path = target
        draft.uri = other.uri if other is not None else path_uri(target)
        draft.version = versions_at_request.get(target)
    draft.done = True
    ls.protocol.notify(drafts.NOTIFICATION, drafts.chunk_message(draft, "", True))


async def offer_draft(ls: PapercycleServer, draft: drafts.Draft) -> dict[str, Any]:
    caps = ls.client_capabilities.workspace
    if caps and caps.apply_edit:
        applied = await apply_draft(ls, draft)
        return {"draft": draft.id, "applied": applied}
    ls.drafts[draft.id] = draft
    ls.message(
        f"papercycle: the draft of {draft.section} is ready: use the code action "
        f"'Insert the draft of {draft.section}'"
    )
    return {"draft": draft.id, "applied": False}


async def apply_draft(ls: PapercycleServer, draft: drafts.Draft) -> bool:
    doc = ls.docs.get(draft.uri)
    if doc is None:
        ls.message(
            f"papercycle: open {draft.path.name} to insert the draft of {draft.section}", WARN
        )
        return False
    edit = draft_edit(ls, doc, draft)
    if edit is None:
        ls.message("papercycle: the section changed while drafting; draft not inserted", WARN)
        return False
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit, label=f"papercycle: draft of {draft.section}")
    )
    return bool(answer and answer.applied)


def draft_edit(
    ls: PapercycleServer, doc: Document, draft: drafts.Draft
) -> types.WorkspaceEdit | None:
    """The one edit that puts `draft` in `doc` as it is now (None: that place was edited)."""
    placed = drafts.current_range(doc, draft)
    if placed is None:
        return None
    return code_actions.workspace_edit(
        doc.uri,
        doc.version,
        doc.lines(ls.encoding).range(*placed),
        drafts.insertion_text(draft, doc.text),
        ls.document_changes(),
    )


def pending_drafts(
    ls: PapercycleServer, doc: Document
) -> list[tuple[str, str, types.WorkspaceEdit]]:
    """The finished drafts of `doc` waiting for their code action: (id, section, edit)."""
    out = []
    for draft in ls.drafts.values():
        edit = draft_edit(ls, doc, draft) if draft.uri == doc.uri else None
        if edit is not None:
            out.append((draft.id, draft.section, edit))
    return out
