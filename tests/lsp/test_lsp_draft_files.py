"""A draft into a CRLF file through the language server and the real daemon (tiny researcher
model): one versioned WorkspaceEdit (the editor's undo), in the file's line ending, at the end
of the section's text; the server never writes the file itself."""

from __future__ import annotations

import asyncio
import re

from lsp_helpers import TIMEOUT, start_session, stop_session
from lsprotocol import types


async def test_draft_in_a_crlf_file_is_one_crlf_edit(home, paper):
    paper.write_bytes(paper.read_bytes().replace(b"\n", b"\r\n"))
    text = paper.read_bytes().decode()
    lines = text.split("\r\n")
    line = lines.index("\\section{Method}\\label{sec:method}")
    session = await start_session(home, "vscode")
    try:
        uri = session.open(paper, text)
        result = await asyncio.wait_for(
            session.client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    "papercycle.draftSection", [uri, {"line": line + 1, "character": 0}]
                )
            ),
            TIMEOUT,
        )
        assert result["applied"] is True
        (applied,) = session.applied
        (change,) = applied.edit.document_changes
        (edit,) = change.edits
        assert change.text_document.version == 1
        # after the section's last sentence, not between its \r and \n
        end_of_text = types.Position(line + 1, len(lines[line + 1]))
        assert edit.range.start == edit.range.end == end_of_text
        assert "\r\n" in edit.new_text and re.search(r"(?<!\r)\n", edit.new_text) is None
        assert paper.read_bytes().decode() == text
    finally:
        await stop_session(session)
