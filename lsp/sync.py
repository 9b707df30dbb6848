"""Document sync: open, change, save and close. An edit re-publishes at once (ranges shifted
or withheld: never stale), refreshes the structure after a short pause and, with
`checkFrequency` edit, reviews after `debounceMs` without typing; a save reviews
(`checkFrequency` save or edit); a close hands the file back to the disk."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types
from papercycle.lsp.documents import uri_path
from papercycle.lsp.publish import publish, publish_project, withdraw
from papercycle.lsp.session import PapercycleServer

log = logging.getLogger("papercycle.lsp")


def register(ls: PapercycleServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PapercycleServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not ls.allows(uri):
            log.warning("document outside this session's project refused: %s", uri)
            ls.message(
                f"papercycle: {uri} is outside this session's project; not opened",
                types.MessageType.Warning,
            )
            return
        if ls.confined and not ls.allowed_folders:
            ls.allowed_folders = [uri_path(uri).parent]
        doc = ls.docs.open(params.text_document)
        if ls.settings.check_frequency == "manual":
            schedule_outline(ls, doc.path, 0)
        else:
            ls.start_review(doc.path)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PapercycleServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        doc.apply(params.text_document.version, list(params.content_changes), ls.encoding)
        if doc.edits:
            ls.cursor = (doc.path, doc.edits[-1].start)
        publish(ls, doc.path)  # shifted or withheld at once: never stale
        schedule_outline(ls, doc.path)
        if ls.settings.check_frequency == "edit":
            review_after_typing(ls, doc.path)

    @ls.feature(
        types.TEXT_DOCUMENT_DID_SAVE, types.TextDocumentSaveRegistrationOptions(include_text=False)
    )
    def did_save(ls: PapercycleServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is not None and ls.settings.check_frequency != "manual":
            ls.start_review(doc.path)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PapercycleServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        ls.docs.close(params.text_document.uri)
        if doc is None:
            return
        if ls.cursor is not None and ls.cursor[0] == doc.path:
            ls.cursor = None  # its offset was in the buffer, not the file on disk
        ls.outlines.forget(doc.path)  # the project reads the file from disk again
        withdraw(ls, doc)
        ls.projects.closed(doc.path)


def schedule_outline(ls: PapercycleServer, path: Path, delay: float = 0.15) -> None:
    """Read the structure again after `delay` without another edit, then publish."""
    previous = ls.outline_tasks.get(path)
    if previous is not None and not previous.done():
        previous.cancel()

    async def run() -> None:
        await asyncio.sleep(delay)
        await ls.refresh_outline(path)
        publish_project(ls, path)

    ls.outline_tasks[path] = ls.spawn(run())


def review_after_typing(ls: PapercycleServer, path: Path) -> None:
    """`checkFrequency` edit: a review once `debounceMs` passed without typing in the
    project."""
    key = str(ls.root_of(path))
    previous = ls.debounce.get(key)
    if previous is not None and not previous.done():
        previous.cancel()

    async def later() -> None:
        await asyncio.sleep(ls.settings.debounce_ms / 1000)
        ls.start_review(path)

    ls.debounce[key] = ls.spawn(later())
