"""The section being written is reviewed first: the server tells the daemon where the author
last typed (`cursor` in `project.buffer`), in the coordinates of the buffer it sends."""

from __future__ import annotations

from fake_daemon import FakeDaemon
from lsp_helpers import start_session, stop_session
from lsprotocol import types


async def test_review_requests_carry_the_position_of_the_last_edit(paper):
    async with FakeDaemon() as daemon:
        session = await start_session(daemon, "neovim")
        try:
            uri = session.open(paper)

            def requests(kind: str) -> list[dict]:
                return [r["params"] for r in daemon.requests if r["type"] == kind]

            (opened,) = await session.wait_for(lambda: requests("project.open"), 30, "open")
            assert "cursor" not in opened, "nothing typed yet: reading order"
            assert opened["buffers"][str(paper.resolve())]["version"] == 1
            lines = paper.read_text().splitlines()
            line = next(i for i, text in enumerate(lines) if text.startswith(r"\section{Exper"))
            at = types.Position(line + 1, 0)
            session.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                    [types.TextDocumentContentChangePartial(types.Range(at, at), "New words. ")],
                )
            )
            session.client.text_document_did_save(
                types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
            (params,) = await session.wait_for(
                lambda: requests("project.buffer"), 30, "the buffer pushed on save"
            )
            cursor = params["cursor"]
            assert cursor["path"] == params["path"] and params["version"] == 2
            buffer = params["text"]
            assert buffer[cursor["offset"] :].startswith("New words. ")
            assert buffer.rfind(r"\section{", 0, cursor["offset"]) == buffer.index(
                r"\section{Exper"
            )
        finally:
            await stop_session(session)
