"""Applying a suggested rewrite, against the protocol stand-in (the tiny model never writes a
rewrite, so the stand-in's section review carries one): a WorkspaceEdit in the code action for
clients with code action literals, the `papercycle.applyRewrite` server command (which sends
workspace/applyEdit) for clients without."""

from __future__ import annotations

from fake_daemon import FakeDaemon
from lsp_helpers import start_session, stop_session
from lsprotocol import types

QUOTE = "The gate is trained with a balance loss."
BETTER = "The gate is trained with an auxiliary load-balancing loss."


async def test_apply_suggested_rewrite_both_ways(paper):
    """(The tiny model never writes a rewrite, so the stand-in answers with one.) With code
    action literals (all three editors) the client applies the action's WorkspaceEdit."""
    async with FakeDaemon(rewrite=(QUOTE, BETTER)) as daemon:
        for profile in ("vscode", "neovim", "emacs"):
            session = await start_session(daemon, profile)
            try:
                uri = session.open(paper)
                diag = (
                    await session.wait_for(
                        lambda s=session, u=uri: [
                            d for d in s.diagnostics(u) if d.code == "clarity"
                        ],
                        30,
                        "the comment",
                    )
                )[0]
                assert "Suggested rewrite" in diag.message
                actions = await session.client.text_document_code_action_async(
                    types.CodeActionParams(
                        types.TextDocumentIdentifier(uri),
                        diag.range,
                        types.CodeActionContext([diag]),
                    )
                )
                apply = actions[0]
                assert apply.title.startswith("Apply suggested rewrite")
                edit = apply.edit
                edits = (
                    edit.document_changes[0].edits if edit.document_changes else edit.changes[uri]
                )
                assert [(e.new_text, e.range) for e in edits] == [(BETTER, diag.range)]
            finally:
                await stop_session(session)


async def test_apply_rewrite_command_for_clients_without_literals(paper):
    async with FakeDaemon(rewrite=(QUOTE, BETTER)) as daemon:
        session = await start_session(
            daemon, "vscode", capabilities={"code_action_literals": False}
        )
        try:
            uri = session.open(paper)
            diag = (
                await session.wait_for(
                    lambda: [d for d in session.diagnostics(uri) if d.code == "clarity"],
                    30,
                    "comment",
                )
            )[0]
            actions = await session.client.text_document_code_action_async(
                types.CodeActionParams(
                    types.TextDocumentIdentifier(uri), diag.range, types.CodeActionContext([diag])
                )
            )
            assert actions and all(isinstance(a, types.Command) for a in actions)
            command = actions[0]
            assert command.command == "papercycle.applyRewrite"
            result = await session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command.command, command.arguments)
            )
            assert result == {"applied": True}
            (applied,) = session.applied
            (change,) = applied.edit.document_changes
            assert change.edits[0].new_text == BETTER and change.edits[0].range == diag.range
        finally:
            await stop_session(session)
