"""The `workspace/executeCommand` handlers (commands.py: their names and how arguments are
read). Each reads its arguments, calls the feature that does the work and answers a small
JSON object; a bad argument or a failure answers one line (`commands.answering_errors`)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.daemon.client import DaemonError
from papercycle.lsp import code_actions, commands
from papercycle.lsp.documents import Document
from papercycle.lsp.draft_request import apply_draft, draft_section
from papercycle.lsp.publish import publish_project
from papercycle.lsp.results import DaemonStatus, model_names
from papercycle.lsp.section_review import review_section
from papercycle.lsp.session import PapercycleServer


def register(ls: PapercycleServer) -> None:
    def command(name: str):
        """ls.command, with arguments' and handlers' errors answered in one line."""

        def register(function):
            return ls.command(name)(commands.answering_errors(name)(function))

        return register

    @command(commands.REVIEW_DOCUMENT)
    async def review_document_command(ls: PapercycleServer, *args):
        doc = ls.docs.get(str(commands.arg(args, 0, "")))
        if doc is None and ls.docs.by_uri:
            doc = next(iter(ls.docs.by_uri.values()))
        if doc is None:
            return {"started": False}
        task = ls.start_review(doc.path, paper=True, push_all=True)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return {"started": True, "cancelled": task.cancelled()}

    @command(commands.REVIEW_SECTION)
    async def review_section_command(ls: PapercycleServer, *args):
        doc, offset = document_and_offset(ls, args, commands.REVIEW_SECTION)
        job = f"section:{doc.path}:{offset}"
        return await cancellable(ls.spawn(review_section(ls, doc.path, offset), name=job))

    @command(commands.DRAFT_SECTION)
    async def draft_section_command(ls: PapercycleServer, *args):
        doc, offset = document_and_offset(ls, args, commands.DRAFT_SECTION)
        job = f"draft:{doc.uri}:{offset}"
        return await cancellable(ls.spawn(draft_section(ls, doc.uri, offset), name=job))

    @command(commands.CANCEL)
    def cancel_command(ls: PapercycleServer, *args):
        return {"cancelled": cancel_jobs(ls, commands.arg(args, 0))}

    @command(commands.SELECT_MODEL)
    async def select_model_command(ls: PapercycleServer, *args):
        role = str(commands.arg(args, 0, "reviewer"))
        name = commands.arg(args, 1)
        if name is None:
            name = await ask_model(ls, role)
        if name is None:
            return None
        ls.settings = ls.settings.merged({"models": {role: str(name)}})
        ls.message(f"papercycle: {role} model is now {name} (this window)")
        return {"role": role, "model": name}

    @command(commands.SHOW_STATUS)
    async def show_status_command(ls: PapercycleServer, *args):
        return await show_status(ls)

    @command(commands.APPLY_REWRITE)
    async def apply_rewrite_command(ls: PapercycleServer, *args):
        uri, version, start, end, text = (commands.arg(args, i) for i in range(5))
        doc = ls.docs.get(str(uri))
        if doc is None:
            return {"applied": False}
        return {"applied": await apply_rewrite(ls, doc, version, int(start), int(end), str(text))}

    @command(commands.DISMISS)
    def dismiss_command(ls: PapercycleServer, *args):
        doc = open_document(ls, args, commands.DISMISS)
        key = str(commands.arg(args, 1, ""))
        if not key:
            return {"dismissed": False}
        about = {}
        for f in ls.reviews_for(doc.path).findings():
            if f.key == key:
                about = {"category": f.category, "text": f.message, "quote": f.quote}
                break
        ls.dismissals_for(doc.path).dismiss(key, **about)
        publish_project(ls, doc.path)
        return {"dismissed": True, "file": str(ls.dismissals_for(doc.path).file)}

    @command(commands.DISABLE_CATEGORY)
    def disable_category_command(ls: PapercycleServer, *args):
        doc = open_document(ls, args, commands.DISABLE_CATEGORY)
        category = str(commands.arg(args, 1, ""))
        if not category:
            return {"disabled": False}
        ls.dismissals_for(doc.path).disable(category)
        publish_project(ls, doc.path)
        return {"disabled": True, "category": category}

    @command(commands.INSERT_DRAFT)
    async def insert_draft_command(ls: PapercycleServer, *args):
        draft = ls.drafts.pop(str(commands.arg(args, 0, "")), None)
        if draft is None:
            return {"applied": False}
        if commands.arg(args, 1, False):  # the code action's edit was applied by the client
            return {"applied": True}
        return {"applied": await apply_draft(ls, draft)}


# -- arguments ------------------------------------------------------------------------


def open_document(ls: PapercycleServer, args: Any, name: str) -> Document:
    """Argument 1: an open document (never opened, or outside this session's project: a bad
    argument, and nothing is written)."""
    uri = str(commands.arg(args, 0, ""))
    doc = ls.docs.get(uri)
    if doc is None:
        raise commands.bad_argument(name, f"{uri or 'no URI'} is not an open document")
    return doc


def document_and_offset(ls: PapercycleServer, args: Any, name: str) -> tuple[Document, int]:
    """Arguments 1 and 2: an open document, and an offset or {line, character} in it."""
    uri = commands.arg(args, 0, "")
    if not isinstance(uri, str):
        raise commands.bad_argument(name, f"argument 1 must be a document URI, not {uri!r}")
    doc = ls.docs.get(uri)
    where = commands.position_arg(args, 1, name)
    if doc is None:
        raise commands.bad_argument(name, f"{uri or 'no URI'} is not an open document")
    if isinstance(where, dict):
        where = doc.lines(ls.encoding).offset(
            types.Position(int(where.get("line", 0)), int(where.get("character", 0)))
        )
    return doc, int(where) if isinstance(where, int | float) else 0


async def cancellable(task: asyncio.Task) -> Any:
    """A job's answer, or {cancelled: true} when `papercycle.cancel` (or progress) stopped it."""
    try:
        return await task
    except asyncio.CancelledError:
        return {"cancelled": True}


# -- what the commands do -------------------------------------------------------------


def cancel_jobs(ls: PapercycleServer, which: Any) -> list[str]:
    """Cancel every job of this session (`which` None), the job named `which`, or those of
    its kind (`review`, `section`, `draft`); a review's project stops in the daemon too."""
    cancelled = []
    for name, task in list(ls.jobs.items()):
        if (
            which is None or which == name or str(name).startswith(f"{which}:")
        ) and not task.done():
            if str(name).startswith("review:"):
                ls.projects.stop(Path(str(name)[len("review:") :]))
            task.cancel()
            cancelled.append(name)
    return cancelled


async def ask_model(ls: PapercycleServer, role: str) -> str | None:
    """The user picks one of the daemon's models for `role` (window/showMessageRequest)."""
    if ls.link is None:
        return None
    try:
        listing = await ls.link.request("models.list", timeout=10)
    except (DaemonError, TimeoutError) as error:
        ls.message(f"papercycle: cannot list models: {error}", types.MessageType.Warning)
        return None
    names = model_names(listing)
    if not names:
        ls.message("papercycle: no models configured (papercycle models add NAME PATH)")
        return None
    answer = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            types.MessageType.Info,
            f"papercycle: model for the {role} role",
            [types.MessageActionItem(n) for n in names],
        )
    )
    return answer.title if answer else None


async def show_status(ls: PapercycleServer) -> dict[str, Any]:
    """The daemon's state and this session's jobs and settings, told in one message."""
    out: dict[str, Any] = {
        "daemon": ls.link.state if ls.link else "idle",
        "jobs": sorted(ls.jobs),
        "settings": {
            "reviewMode": ls.settings.review_mode,
            "checkFrequency": ls.settings.check_frequency,
            "models": ls.settings.models,
        },
    }
    status: DaemonStatus | None = None
    if ls.link is not None and ls.link.state == "connected":
        with contextlib.suppress(DaemonError, TimeoutError):
            status = DaemonStatus.from_wire(await ls.link.request("status", timeout=5))
    if status is not None:
        out["daemon_status"] = {
            "pid": status.pid,
            "version": status.version,
            "models": status.models,
            "queue": status.queue,
        }
    ls.message(
        f"papercycle: daemon {out['daemon']}"
        + (f" (pid {status.pid})" if status is not None else "")
        + f"; {len(out['jobs'])} job(s) in this window"
        + (f"; running: {status.running}" if status is not None and status.running else "")
    )
    return out


async def apply_rewrite(
    ls: PapercycleServer, doc: Document, version: Any, start: int, end: int, text: str
) -> bool:
    """A suggested rewrite of [start, end) in the text at `version`, as one WorkspaceEdit on
    the current text (not applied when that place was edited since)."""
    placed = doc.map_range(int(version), start, end) if version is not None else (start, end)
    if placed is None:
        ls.message("papercycle: the text changed; rewrite not applied", types.MessageType.Warning)
        return False
    edit = code_actions.workspace_edit(
        doc.uri, doc.version, doc.lines(ls.encoding).range(*placed), text, ls.document_changes()
    )
    answer = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit, label="papercycle: suggested rewrite")
    )
    return bool(answer and answer.applied)
