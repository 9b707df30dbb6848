"""Draft section plumbing against a stand-in daemon that answers `draft.section` (the real
daemon has no draft request yet): live chunks through `papercycle/draft`, progress, then ONE
WorkspaceEdit; a code action when the client cannot apply edits; cancel mid-stream stops the
daemon job and edits nothing."""

from __future__ import annotations

import asyncio

from fake_daemon import DRAFT_CHUNKS, FakeDaemon
from lsp_helpers import start_session, stop_session
from lsprotocol import types


def method_line(paper) -> int:
    lines = paper.read_text().split("\n")
    return next(i for i, line in enumerate(lines) if line.startswith("\\section{Method}"))


async def test_draft_streams_then_one_workspace_edit(paper):
    async with FakeDaemon(chunk_delay=0.01) as daemon:
        session = await start_session(daemon, "vscode")
        try:
            uri = session.open(paper)
            line = method_line(paper)
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        "papercycle.draftSection", [uri, {"line": line + 1, "character": 0}]
                    )
                ),
                60,
            )
            assert result["applied"] is True
            chunks = [c for c in session.drafts if not c["done"]]
            assert [c["chunk"] for c in chunks] == DRAFT_CHUNKS
            assert (
                session.drafts[-1]["done"] and session.drafts[-1]["section"] == "Section 2 Method"
            )
            (applied,) = session.applied
            (change,) = applied.edit.document_changes
            (edit,) = change.edits
            assert change.text_document.version == 1
            assert edit.range.start == edit.range.end == types.Position(line + 1, 0)
            assert edit.new_text.startswith("Sentence 0") and edit.new_text.endswith("\n")
            request = next(r for r in daemon.requests if r["type"] == "draft.section")
            assert request["params"]["section"]["path"] == str(paper.resolve())
            assert request["params"]["buffers"][str(paper.resolve())] == paper.read_text()
            assert paper.read_text().count("Sentence 0") == 0  # only the client edits files
        finally:
            await stop_session(session)


async def test_without_apply_edit_the_draft_is_a_code_action(paper):
    async with FakeDaemon(chunk_delay=0.005) as daemon:
        session = await start_session(daemon, "vscode", capabilities={"apply_edit": False})
        try:
            uri = session.open(paper)
            line = method_line(paper)
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        "papercycle.draftSection", [uri, {"line": line, "character": 2}]
                    )
                ),
                60,
            )
            assert result["applied"] is False and not session.applied
            actions = await session.client.text_document_code_action_async(
                types.CodeActionParams(
                    types.TextDocumentIdentifier(uri),
                    types.Range(types.Position(line, 0), types.Position(line, 0)),
                    types.CodeActionContext([]),
                )
            )
            insert = next(a for a in actions if a.title.startswith("Insert the draft of Section 2"))
            (change,) = insert.edit.document_changes
            assert change.edits[0].new_text.startswith("Sentence 0")
            assert insert.command.command == "papercycle.insertDraft"
        finally:
            await stop_session(session)


async def test_cancel_a_draft_mid_stream(paper):
    async with FakeDaemon(chunk_delay=0.05) as daemon:
        session = await start_session(daemon, "neovim")
        try:
            uri = session.open(paper)
            line = method_line(paper)
            pending = asyncio.ensure_future(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        "papercycle.draftSection", [uri, {"line": line, "character": 0}]
                    )
                )
            )
            await session.wait_for(lambda: len(session.drafts) >= 3, 30, "first chunks")
            cancelled = await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams("papercycle.cancel", ["draft"])
            )
            assert len(cancelled["cancelled"]) == 1
            assert (await asyncio.wait_for(pending, 30)) == {"cancelled": True}
            await session.wait_for(lambda: daemon.cancelled, 10, "daemon job cancelled")
            assert daemon.drafts_finished == 0
            assert session.drafts[-1].get("cancelled") and session.drafts[-1]["done"]
            assert len(session.drafts) < len(DRAFT_CHUNKS)
            assert not await session.server_jobs()  # nothing left that could apply the draft
            assert not session.applied
        finally:
            await stop_session(session)


async def test_a_draft_goes_where_the_daemon_says(paper):
    """The co-author's result names the range to fill (replace mode here): the edit replaces
    exactly that range with the text as the daemon wrote it."""
    body = "Each token picks one expert by a learned gate."
    async with FakeDaemon(chunk_delay=0.001, replace=body) as daemon:
        session = await start_session(daemon, "emacs")
        try:
            uri = session.open(paper)
            line = method_line(paper)
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        "papercycle.draftSection", [uri, {"line": line, "character": 0}]
                    )
                ),
                60,
            )
            assert result["applied"] is True
            (applied,) = session.applied
            edit = applied.edit
            edits = edit.document_changes[0].edits if edit.document_changes else edit.changes[uri]
            (only,) = edits
            column = paper.read_text().split("\n")[line + 1].index(body)
            assert only.range == types.Range(
                types.Position(line + 1, column), types.Position(line + 1, column + len(body))
            )
            assert only.new_text == "".join(DRAFT_CHUNKS).strip()
        finally:
            await stop_session(session)
