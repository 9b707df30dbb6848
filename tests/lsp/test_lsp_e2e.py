"""The real server (`papercycle lsp --stdio`) with the real daemon and the tiny models, driven by
pytest-lsp replaying the client capabilities of VS Code, Neovim and Emacs (Eglot).

Random weights write noise: the section grammar forces each quote to be a sentence of its
section, so structure, anchoring and behaviour are asserted, never wording."""

from __future__ import annotations

import asyncio
import json

import pytest
from lsp_helpers import PROFILES, start_session, stop_session
from lsp_helpers import TIMEOUT as TIMEOUT_S
from lsprotocol import types
from waiting import eventually


def text_at(text: str, rng: types.Range) -> str:
    lines = text.split("\n")
    if rng.start.line == rng.end.line:
        return lines[rng.start.line][rng.start.character : rng.end.character]
    out = [lines[rng.start.line][rng.start.character :]]
    out += lines[rng.start.line + 1 : rng.end.line]
    out.append(lines[rng.end.line][: rng.end.character])
    return "\n".join(out)


def section_diags(session, uri):
    return [d for d in session.review_diagnostics(uri) if d.data.get("origin") == "section"]


def all_sections(session, uri, count: int = 4):
    """The section diagnostics once every section's review arrived (the grammar makes each
    section review write at least one comment)."""
    diags = section_diags(session, uri)
    names = {d.related_information[0].message for d in diags if d.related_information}
    return diags if len(names) >= count else None


async def daemon_generating(home, timeout: float = TIMEOUT_S) -> None:
    """Until the daemon (auto-started by the server) runs a job."""
    from papercycle.daemon.client import Client

    await eventually(home.daemon_pid, "the daemon started", timeout=timeout)
    async with Client(home.paths, autostart=False) as client:

        async def running():
            return (await client.request("status"))["queue"]["running"]

        await eventually(running, "the daemon running a job", timeout=timeout, interval=0.02)


def review_progress(session) -> str | None:
    """The token of the server's "papercycle: reviewing" progress."""
    for token, reports in session.client.progress_reports.items():
        if any(
            isinstance(r, types.WorkDoneProgressBegin) and r.title == "papercycle: reviewing"
            for r in reports
        ):
            return token
    return None


@pytest.fixture(params=list(PROFILES))
async def session(request, home):
    s = await start_session(home, request.param, {"reviewMode": "standard"})
    yield s
    await stop_session(s)


async def test_open_gives_diagnostics_at_anchored_ranges(session, paper):
    uri = session.open(paper)
    text = paper.read_text()
    diags = await session.wait_for(
        lambda: (
            len({d.data.get("origin") for d in session.review_diagnostics(uri)}) == 2
            and session.review_diagnostics(uri)
        ),
        what="section and paper diagnostics",
    )
    assert session.versions[uri] and all(v in (1, None) for v in session.versions[uri])
    assert session.versions[uri][-1] == 1
    for d in diags:
        assert d.source == "papercycle"
        assert isinstance(d.code, str) and d.code == d.data["category"]
        assert d.severity in (
            types.DiagnosticSeverity.Warning,
            types.DiagnosticSeverity.Information,
            types.DiagnosticSeverity.Error,
        )
        assert d.related_information, "every review comment points at its reviewer"
    for d in section_diags(session, uri):
        anchored = text_at(text, d.range)
        # the quote is a sentence (or the heading, when nothing anchored) of the paper
        assert anchored.strip() and anchored in text
        related = d.related_information[0]
        assert "section review" in related.message
        assert text_at(text, related.location.range).startswith("\\")
    injection = [d for d in session.diagnostics(uri) if d.code == "hidden-injection"]
    assert injection and injection[0].severity == types.DiagnosticSeverity.Error
    assert injection[0].range.start.line == text.split("\n").index(
        next(line for line in text.split("\n") if "IGNORE ALL" in line)
    )


async def test_edit_updates_diagnostics_for_that_version_only(session, paper):
    uri = session.open(paper)
    await session.wait_for(lambda: all_sections(session, uri), what="diagnostics")
    before = [
        (d.range.start.line, d.range.start.character, d.code, d.message)
        for d in section_diags(session, uri)
    ]
    session.versions[uri].clear()
    # version 2: a line inserted at the top shifts every comment one line down
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(types.Position(0, 0), types.Position(0, 0)), "% a note\n"
                )
            ],
        )
    )
    await session.wait_for(lambda: 2 in session.versions[uri], what="version 2 published")
    shifted = [
        (d.range.start.line, d.range.start.character, d.code, d.message)
        for d in section_diags(session, uri)
    ]
    assert sorted((a + 1, b, c, m) for a, b, c, m in before) == sorted(shifted)
    # version 3: an edit inside a comment's range withholds that comment (its text is gone)
    target = section_diags(session, uri)[0]
    start = target.range.start
    session.client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [
                types.TextDocumentContentChangePartial(
                    types.Range(start, types.Position(start.line, start.character + 1)), "X"
                )
            ],
        )
    )
    await session.wait_for(lambda: 3 in session.versions[uri], what="version 3 published")
    now = section_diags(session, uri)
    assert not [d for d in now if d.range == target.range and d.message == target.message]
    # once the server saw an edit, every publication carries the current version (ones sent
    # before it read the edit may still arrive just after the test cleared the list)
    seen = session.versions[uri]
    after = seen[seen.index(2) :]
    assert all(v in (2, 3) for v in after) and after == sorted(after)


async def test_hover_code_lens_and_actions(session, paper):
    uri = session.open(paper)
    text = paper.read_text()
    lines = text.split("\n")
    # the daemon reviews the whole paper in the background: it may come before the sections
    await session.wait_for(
        lambda: (
            any(d.data.get("origin") == "paper" for d in session.review_diagnostics(uri))
            and all_sections(session, uri)
        ),
        what="paper and section reviews",
    )
    # the lens says "Reviewing…" while the review job runs, "Re-review" once it is done
    await session.wait_for(session.review_settled, what="the review job done")
    title_line = next(i for i, line in enumerate(lines) if line.startswith("\\title"))
    hover = await session.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(title_line, 3))
    )
    assert "Decision" in hover.contents.value and "Rating" in hover.contents.value
    doc_hover = await session.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 2))
    )
    assert "Rating" in doc_hover.contents.value
    method_line = next(i for i, line in enumerate(lines) if line.startswith("\\section{Method}"))
    heading = await session.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(method_line, 3))
    )
    assert "Review of Section 2 Method" in heading.contents.value
    assert all(
        f"{name} " in heading.contents.value for name in ("soundness", "clarity", "evidence")
    )
    diag = section_diags(session, uri)[0]
    on_comment = await session.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), diag.range.start)
    )
    assert diag.message.split("\n")[0] in on_comment.contents.value

    lenses = await session.client.text_document_code_lens_async(
        types.CodeLensParams(types.TextDocumentIdentifier(uri))
    )
    titles = [lens.command.title for lens in lenses]
    top = next(lens for lens in lenses if lens.range.start.line == title_line)
    assert top.command.title.startswith("Rating ") and top.command.title.endswith("Re-review")
    assert " reviewer" in top.command.title
    assert titles.count("Review section") == 4 and titles.count("Draft section") == 4

    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            types.TextDocumentIdentifier(uri),
            diag.range,
            types.CodeActionContext([diag]),
        )
    )
    names = [a.title for a in actions]
    assert any(n.startswith("Dismiss this comment") for n in names)
    assert any(n.startswith("Disable the category") for n in names)
    assert any(n.startswith("Review this section now") for n in names)
    assert any(n.startswith("Draft this section") for n in names)
    for action in actions:
        # every action runs on the server: a registered command, or an edit the client applies
        command = action.command if isinstance(action, types.CodeAction) else action
        assert command is None or command.command.startswith("papercycle.")
        if isinstance(action, types.CodeAction) and action.title.startswith("Apply"):
            assert action.edit is not None


async def test_review_section_now_and_status(session, paper):
    uri = session.open(paper)
    await session.wait_for(lambda: section_diags(session, uri), what="diagnostics")
    lines = paper.read_text().split("\n")
    method_line = next(i for i, line in enumerate(lines) if line.startswith("\\section{Method}"))
    result = await asyncio.wait_for(
        session.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                "papercycle.reviewSection", [uri, {"line": method_line + 1, "character": 0}]
            )
        ),
        120,
    )
    assert result["section"] == "Section 2 Method"
    status = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams("papercycle.showStatus", [])
    )
    assert status["daemon"] == "connected" and status["daemon_status"]["pid"]
    chosen = await session.client.workspace_execute_command_async(
        types.ExecuteCommandParams("papercycle.selectModel", ["section", "tiny-section"])
    )
    assert chosen == {"role": "section", "model": "tiny-section"}


async def test_dismiss_survives_a_server_restart(home, paper):
    session = await start_session(home, "neovim")
    uri = session.open(paper)
    try:
        diag = (await session.wait_for(lambda: section_diags(session, uri), what="diagnostics"))[0]
        key = diag.data["key"]
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams("papercycle.dismiss", [uri, key])
        )
        await session.wait_for(
            lambda: all(d.data.get("key") != key for d in session.diagnostics(uri)),
            what="dismissed comment gone",
        )
        stored = json.loads((paper.parent / ".papercycle" / "dismissed.json").read_text())
        assert [c["key"] for c in stored["comments"]] == [key]
        assert paper.read_text().count("papercycle") == 0  # the paper itself is untouched
    finally:
        await stop_session(session)
    again = await start_session(home, "emacs")
    try:
        uri = again.open(paper)
        await again.wait_for(lambda: section_diags(again, uri), what="diagnostics after restart")
        await again.wait_for(again.review_settled, what="the review after restart done")
        assert not [d for d in again.diagnostics(uri) if d.data.get("key") == key]
    finally:
        await stop_session(again)


async def test_disable_category_and_suppression_comments(home, paper):
    text = paper.read_text().replace(
        r"\textcolor{white}", r"% papercycle: ignore" + "\n" + r"\textcolor{white}"
    )
    session = await start_session(home, "vscode")
    try:
        uri = session.open(paper, text)
        diags = await session.wait_for(lambda: section_diags(session, uri), what="diagnostics")
        assert not [d for d in session.diagnostics(uri) if d.code == "hidden-injection"]
        category = diags[0].code
        await session.client.workspace_execute_command_async(
            types.ExecuteCommandParams("papercycle.disableCategory", [uri, category])
        )
        await session.wait_for(
            lambda: all(d.code != category for d in session.diagnostics(uri)),
            what="category disabled",
        )
    finally:
        await stop_session(session)


async def test_daemon_killed_and_restarted_mid_session(home, paper):
    session = await start_session(home, "vscode")
    try:
        uri = session.open(paper)
        await session.wait_for(lambda: section_diags(session, uri), what="diagnostics")
        killed = home.kill_daemon()
        assert killed
        down = await session.wait_for(
            lambda: [
                m
                for m in session.client.messages
                if "daemon" in m.message and m.type == types.MessageType.Warning
            ],
            timeout=30,
            what="the loss reported",
        )
        assert len(down) == 1
        # still serving what it has
        lenses = await session.client.text_document_code_lens_async(
            types.CodeLensParams(types.TextDocumentIdentifier(uri))
        )
        assert lenses
        assert section_diags(session, uri)
        # reconnects (auto-starting a new daemon); a save reviews again
        await session.wait_for(
            lambda: any("reconnected" in m.message for m in session.client.messages),
            timeout=60,
            what="reconnected",
        )
        assert home.daemon_pid() not in (None, killed)
        # the project is open again in the new daemon (its files watched), without a save
        from papercycle.daemon.client import Client

        async with Client(home.paths, autostart=False) as client:

            async def open_projects():
                return [p["project"] for p in (await client.request("status"))["projects"]]

            async def reopened():
                return str(paper.resolve()) in await open_projects()

            await eventually(reopened, "the project open in the new daemon", open_projects, 60)
        # an edit and a save are reviewed again, for the edited version
        session.client.diagnostics.pop(uri, None)
        session.versions[uri].clear()
        end = len(paper.read_text().split("\n")) - 1
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                [
                    types.TextDocumentContentChangePartial(
                        types.Range(types.Position(end, 0), types.Position(end, 0)), "% more\n"
                    )
                ],
            )
        )
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

        async with Client(home.paths, autostart=False) as client:

            async def project_status():
                return await client.request("project.status", {"project": str(paper)})

            async def reviewed_in_the_new_daemon():
                status = await project_status()
                return (
                    status["versions"].get(str(paper.resolve())) == 2
                    and status["idle"]
                    and all(s["reviewed"] for s in status["sections"])
                )

            await eventually(
                reviewed_in_the_new_daemon,
                "version 2 reviewed in the new daemon",
                project_status,
                TIMEOUT_S,
            )
        await session.wait_for(lambda: all_sections(session, uri), what="diagnostics after restart")
        assert session.versions[uri] and all(v == 2 for v in session.versions[uri])
        assert (
            len(
                [
                    m
                    for m in session.client.messages
                    if m.type == types.MessageType.Warning and "daemon" in m.message
                ]
            )
            == 1
        )
    finally:
        await stop_session(session)


async def test_cancelling_progress_stops_the_daemon_job(home, paper):
    session = await start_session(home, "vscode")
    try:
        text = paper.read_text().replace("Each token", "In a fresh variant, each token")
        session.open(paper, text, version=1)

        # the open starts a review; once its daemon job generates, cancel it from the client
        token = await session.wait_for(lambda: review_progress(session), what="progress")
        await daemon_generating(home)
        session.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token))
        await session.wait_for(
            lambda: any(
                isinstance(r, types.WorkDoneProgressEnd)
                for r in session.client.progress_reports[token]
            ),
            what="progress ended",
        )
        end = session.client.progress_reports[token][-1]
        assert end.message == "cancelled"
        from papercycle.daemon.client import Client

        async with Client(home.paths, autostart=False) as client:

            async def running():
                return (await client.request("status"))["queue"]["running"]

            async def idle():
                return await running() is None

            await eventually(idle, "the daemon idle", running, 30)
    finally:
        await stop_session(session)


async def test_utf8_positions_and_workspace_configuration(home, tmp_path):
    """A client that offers UTF-8 positions gets them; settings pulled through
    workspace/configuration (enabledCategories) filter what is shown."""
    folder = tmp_path / "unicode"
    folder.mkdir()
    from lsp_helpers import PAPER

    text = PAPER.replace("Each token", "Ünïcode 𝔼 — each token")
    (folder / "main.tex").write_text(text)
    paper = folder / "main.tex"
    session = await start_session(home, "vscode", capabilities={"position_encodings": ["utf-8"]})
    try:
        assert session.initialized.capabilities.position_encoding == "utf-8"
        uri = session.open(paper)
        diags = await session.wait_for(lambda: all_sections(session, uri), what="diagnostics")
        raw = text.encode("utf-8").split(b"\n")
        method = [d for d in diags if "Method" in d.related_information[0].message]
        for d in method:
            line = raw[d.range.start.line]
            quoted = line[d.range.start.character : d.range.end.character].decode("utf-8")
            assert quoted.strip() and quoted in text  # byte columns cut on characters
        unicode_line = next(i for i, line in enumerate(raw) if "Ünïcode".encode() in line)
        on_it = [d for d in method if d.range.start.line == unicode_line]
        # the only quotable (ASCII) sentence of the section follows the non-ASCII words
        assert on_it and all(d.range.start.character > len("Ünïcode 𝔼 —") for d in on_it)
        keep = diags[0].code
        session.client.set_configuration({"enabledCategories": [keep]}, section="papercycle")
        session.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None)
        )
        await session.wait_for(
            lambda: {d.code for d in section_diags(session, uri)} == {keep},
            what="only the enabled category",
        )
    finally:
        await stop_session(session)


async def test_manual_frequency_reviews_only_on_command(home, paper):
    session = await start_session(home, "emacs", {"checkFrequency": "manual"})
    try:
        uri = session.open(paper)
        await session.wait_for(
            lambda: any(d.code == "hidden-injection" for d in session.diagnostics(uri)),
            what="project findings",
        )
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        assert not [job for job in await session.server_jobs() if job.startswith("review:")]
        assert not session.review_diagnostics(uri)
        await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams("papercycle.reviewDocument", [uri])
            ),
            TIMEOUT_S,
        )
        assert {d.data["origin"] for d in session.review_diagnostics(uri)} == {"section", "paper"}
    finally:
        await stop_session(session)


async def test_edit_frequency_reviews_after_the_debounce(home, paper):
    session = await start_session(home, "neovim", {"checkFrequency": "edit", "debounceMs": 200})
    try:
        uri = session.open(paper)
        await session.wait_for(lambda: all_sections(session, uri), what="diagnostics")
        session.client.diagnostics.pop(uri, None)
        session.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                [types.TextDocumentContentChangeWholeDocument(paper.read_text() + "\n% end\n")],
            )
        )
        await session.wait_for(lambda: all_sections(session, uri), what="review without a save")
        assert session.versions[uri][-1] == 2
    finally:
        await stop_session(session)


async def test_daemon_killed_during_a_review(home, paper):
    session = await start_session(home, "vscode")
    try:
        text = paper.read_text().replace("Table 1 shows", "Table 1, in a killed variant, shows")
        uri = session.open(paper, text)
        await daemon_generating(home)
        killed = home.kill_daemon()
        assert killed
        await session.wait_for(
            lambda: any("reconnected" in m.message for m in session.client.messages),
            timeout=60,
            what="reconnected",
        )
        warnings = [m for m in session.client.messages if m.type == types.MessageType.Warning]
        assert len(warnings) == 1 and "daemon" in warnings[0].message
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        await session.wait_for(lambda: all_sections(session, uri), what="a full review again")
    finally:
        await stop_session(session)


async def test_draft_section_streams_then_one_workspace_edit(home, paper):
    session = await start_session(home, "vscode", {"models": {"researcher": "tiny-researcher"}})
    try:
        uri = session.open(paper)
        text = paper.read_text()
        lines = text.split("\n")
        method = next(i for i, line in enumerate(lines) if line.startswith("\\section{Method}"))
        experiments = next(
            i for i, line in enumerate(lines) if line.startswith("\\section{Experiments}")
        )
        result = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    "papercycle.draftSection", [uri, {"line": method, "character": 0}]
                )
            ),
            TIMEOUT_S,
        )
        assert result["applied"] is True
        chunks = [c for c in session.drafts if not c["done"]]
        assert chunks and session.drafts[-1]["done"]
        assert session.drafts[-1]["section"] == "Section 2 Method"
        (applied,) = session.applied
        (change,) = applied.edit.document_changes
        (edit,) = change.edits
        assert change.text_document.version == 1 and edit.new_text.strip()
        # the co-author puts a section draft at the end of the section's text
        assert method < edit.range.start.line <= experiments
        assert paper.read_text() == text  # only the client edits the file
    finally:
        await stop_session(session)


async def test_cancel_a_draft_mid_stream(home, paper):
    """The client cancels on the first streamed chunk (a tiny model's draft streams for a few
    tens of milliseconds); a cancel that lands after the generation ended cancels nothing and
    the attempt is repeated with another version of the text."""
    session = await start_session(home, "neovim", {"models": {"researcher": "tiny-researcher"}})
    try:
        for attempt in range(4):
            text = paper.read_text().replace("Each token", f"In cancelled variant {attempt}, each")
            uri = session.open(paper, text, version=attempt + 1)
            lines = text.split("\n")
            method = next(i for i, line in enumerate(lines) if line.startswith("\\section{Method}"))
            session.drafts.clear()
            session.applied.clear()
            cancels: list[asyncio.Future] = []

            def on_chunk(chunk, cancels=cancels):
                if not cancels and not chunk["done"]:
                    cancels.append(
                        asyncio.ensure_future(
                            session.client.workspace_execute_command_async(
                                types.ExecuteCommandParams("papercycle.cancel", ["draft"])
                            )
                        )
                    )

            session.draft_hooks[:] = [on_chunk]
            result = await asyncio.wait_for(
                session.client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        "papercycle.draftSection", [uri, {"line": method + 1, "character": 3}]
                    )
                ),
                TIMEOUT_S,
            )
            cancelled = await asyncio.wait_for(cancels[0], 30)
            if cancelled["cancelled"]:
                break
            assert result["applied"]  # too late: the draft was complete and applied
            session.client.text_document_did_close(
                types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
            )
        else:
            pytest.fail("every cancel arrived after the draft was complete")
        assert result == {"cancelled": True}
        assert session.drafts[-1].get("cancelled") and session.drafts[-1]["done"]
        from papercycle.daemon.client import Client

        async with Client(home.paths, autostart=False) as client:

            async def running():
                return (await client.request("status"))["queue"]["running"]

            async def idle():
                return await running() is None

            await eventually(idle, "the daemon idle", running, 30)
        # nothing left that could still apply the draft (the review the open started may still
        # be settling: it applies nothing)
        assert not [job for job in await session.server_jobs() if job.startswith("draft:")]
        assert not session.applied
    finally:
        await stop_session(session)


async def test_a_daemon_stopped_on_purpose_is_started_again_without_a_warning(home, paper):
    from papercycle.daemon.process import stop

    session = await start_session(home, "emacs")
    try:
        uri = session.open(paper)
        await session.wait_for(lambda: all_sections(session, uri), what="diagnostics")
        stopped = await asyncio.to_thread(stop, home.paths, 30)
        assert stopped

        async def server_status():
            return await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams("papercycle.showStatus", [])
            )

        async def link_noticed():
            return (await server_status())["daemon"] == "idle"

        await eventually(link_noticed, "the link noticing the stop", server_status, 30)
        assert home.daemon_pid() is None  # not restarted while nobody asks
        session.client.diagnostics.pop(uri, None)
        session.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
        )
        # the save's review finds no daemon and starts one (lazily, not on the stop)
        await session.wait_for(
            lambda: home.daemon_pid() not in (None, stopped), what="a new daemon"
        )

        async def connected():
            status = await server_status()
            return status if status["daemon"] == "connected" else None

        status = await eventually(connected, "the server connected again", server_status, 60)
        assert status["daemon_status"]["pid"] == home.daemon_pid()
        await session.wait_for(lambda: all_sections(session, uri), what="a review again")
        assert not [m for m in session.client.messages if m.type == types.MessageType.Warning]
    finally:
        await stop_session(session)
