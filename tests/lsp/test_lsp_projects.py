"""The language server on the daemon's open projects (issue 6), end to end with the real
daemon and the tiny models: a file the editor does not have open, changed on disk, is reviewed
again without a save in the editor; the last document of a project closed closes the project
in the daemon."""

from __future__ import annotations

from fake_daemon import FakeDaemon
from lsp_helpers import start_session, stop_session
from lsprotocol import types
from papercycle.daemon.client import Client
from test_lsp_e2e import text_at
from waiting import eventually

MAIN = r"""\documentclass{article}
\title{Sparse Routing for Small Models}
\begin{document}
\maketitle
\section{Introduction}
Routing tokens sparsely reduces compute. We claim a speedup of two times on language modeling.
\input{method}
\end{document}
"""
METHOD = r"""\section{Method}
Each token picks one expert by a learned gate. The gate is trained with a balance loss.
"""
NEW_METHOD = r"""\section{Method}
A router scores every expert for each token. Only the best scoring expert runs for it.
"""


def two_files(tmp_path):
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "main.tex").write_text(MAIN)
    (folder / "method.tex").write_text(METHOD)
    return (folder / "main.tex").resolve(), (folder / "method.tex").resolve()


async def open_projects(home) -> list[str]:
    async with Client(home.paths, autostart=False) as client:
        status = await client.request("status")
    return [p["project"] for p in status.get("projects") or []]


async def test_a_file_changed_on_disk_is_reviewed_without_a_save(home, tmp_path):
    main, method = two_files(tmp_path)
    session = await start_session(home, "vscode")
    try:
        session.open(main)
        method_uri = method.as_uri()
        await session.wait_for(
            lambda: session.review_diagnostics(method_uri), what="diagnostics of method.tex"
        )
        published = len(session.versions[method_uri])
        assert published and all(v is None for v in session.versions[method_uri])  # not open
        method.write_text(NEW_METHOD)  # outside the editor (git checkout, another editor)

        def reviewed_again():
            if len(session.versions[method_uri]) <= published:
                return None
            diags = session.review_diagnostics(method_uri)
            anchored = [text_at(NEW_METHOD, d.range) for d in diags]
            # every comment is placed in the new text; the new review quotes its sentences
            if diags and all(a.strip() and a in NEW_METHOD for a in anchored):
                return [a for a in anchored if a not in METHOD] or None
            return None

        assert await session.wait_for(reviewed_again, what="method.tex reviewed again")
        assert main.read_text() == MAIN  # nothing was saved in the editor
    finally:
        await stop_session(session)


async def test_the_last_document_closed_closes_the_project(home, tmp_path):
    main, method = two_files(tmp_path)
    session = await start_session(home, "neovim")
    try:
        main_uri = session.open(main)
        method_uri = session.open(method)
        await session.wait_for(lambda: session.review_diagnostics(method_uri), what="diagnostics")
        assert str(main) in await open_projects(home)
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(method_uri))
        )
        await session.server_jobs()  # the server has handled the close
        assert str(main) in await open_projects(home)  # main.tex is still open
        session.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(main_uri))
        )

        async def closed():
            return str(main) not in await open_projects(home)

        await eventually(closed, "main.tex closed", lambda: open_projects(home), 30)
    finally:
        await stop_session(session)


async def test_review_mode_fast_reviews_the_paper_in_that_mode(home, paper):
    """The daemon's open projects review the whole paper in standard mode only: with
    reviewMode fast the server asks for the paper review itself, in fast mode. The reviewer
    here is a CycleReviewer, which has one prompt: the review is done in its standard mode
    and labelled so, and the editor is told (never a standard review labelled fast)."""
    session = await start_session(home, "emacs", {"reviewMode": "fast"})
    try:
        uri = session.open(paper)
        await session.wait_for(
            lambda: any(d.data.get("origin") == "paper" for d in session.review_diagnostics(uri)),
            what="paper review",
        )
        title_line = (
            paper.read_text()
            .split("\n")
            .index(
                next(line for line in paper.read_text().split("\n") if line.startswith("\\title"))
            )
        )
        hover = await session.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(title_line, 3))
        )
        assert "mode standard" in hover.contents.value
        assert any(
            "has no fast mode: reviewed in its standard mode" in m.message
            and m.type == types.MessageType.Warning
            for m in session.client.messages
        )
    finally:
        await stop_session(session)


async def test_a_project_closed_under_the_server_is_opened_again(paper):
    """The daemon answers that the project is not open (closed while idle, or while another
    client holding it went away): the subscription, then a save, open it again."""
    async with FakeDaemon(closed=2) as daemon:
        session = await start_session(daemon, "vscode")

        def requests(kind: str) -> list[dict]:
            return [r["params"] for r in daemon.requests if r["type"] == kind]

        try:
            uri = session.open(paper)
            # the first subscription is refused: opened and subscribed again
            await session.wait_for(lambda: len(requests("subscribe")) == 2, 30, "re-subscribed")
            assert len(requests("project.open")) == 2
            session.client.text_document_did_save(
                types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
            # the buffer is refused: the project is opened again, with the buffer
            await session.wait_for(lambda: len(requests("project.open")) == 3, 30, "re-opened")
            assert requests("project.open")[-1]["buffers"][str(paper.resolve())]["version"] == 1
        finally:
            await stop_session(session)


async def test_another_model_reopens_the_project_on_the_next_save(paper):
    """The daemon keeps the models a project was opened with: after selectModel the next save
    closes the project and opens it again with the new model."""
    async with FakeDaemon() as daemon:
        session = await start_session(daemon, "neovim")

        def requests(kind: str) -> list[dict]:
            return [r["params"] for r in daemon.requests if r["type"] == kind]

        try:
            uri = session.open(paper)
            await session.wait_for(lambda: requests("subscribe"), 30, "subscribed")
            assert requests("project.open")[0]["section_model"] == "tiny-section"
            await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams("papercycle.selectModel", ["section", "other"])
            )
            session.client.text_document_did_save(
                types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
            await session.wait_for(lambda: len(requests("project.open")) == 2, 30, "re-opened")
            assert requests("project.close") and not requests("project.buffer")
            assert requests("project.open")[1]["section_model"] == "other"
        finally:
            await stop_session(session)


async def test_a_project_another_client_closes_is_opened_again(home, tmp_path):
    """Real daemon: another client force-closes the project; the subscription ends with
    `closed: true` and the server opens the project again at once (no save needed)."""
    main, method = two_files(tmp_path)
    session = await start_session(home, "vscode")
    try:
        method_uri = session.open(method)
        await session.wait_for(lambda: session.review_diagnostics(method_uri), what="diagnostics")
        assert str(main) in await open_projects(home)
        async with Client(home.paths) as other:
            closed = await other.request("project.close", {"project": str(main), "force": True})
        assert closed == {"closed": True}

        async def reopened():
            return str(main) in await open_projects(home)

        await eventually(reopened, "main.tex open again", lambda: open_projects(home), 30)
    finally:
        await stop_session(session)
