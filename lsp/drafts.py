"""A drafted section: where it goes and the text it inserts (draft_request.py streams it from
the daemon, shown live through the custom notification `papercycle/draft` ({id, uri, section,
chunk, done}), then offers it as ONE WorkspaceEdit: `workspace/applyEdit` when the client
supports it, otherwise a code action "Insert the draft of ..."). The user's files are never
written any other way.

The daemon request is `draft.section` (daemon/engine/coauthor.py; params: path, section
{path, offset}, buffers, model (the researcher role), priority; events: progress, token {text};
result: {kind: "draft", text, range, mode, warnings, simulated}). A daemon without it answers
"unknown request type": the user is told so.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papercycle.latex.file_edit import newline_of, with_newlines
from papercycle.lsp.documents import Document
from papercycle.lsp.results import DraftResult

REQUEST = (
    "draft.section"  # the engine exists (daemon/engine/draft.py); the request is not wired yet
)
NOTIFICATION = "papercycle/draft"
_ids = itertools.count(1)


@dataclass
class Draft:
    id: str
    uri: str
    path: Path
    section: str
    insert_at: int  # offset in the text at `version`
    version: int | None
    replace_end: int | None = None  # the daemon's result may name a range to replace
    text: str = ""
    done: bool = False


def new_id() -> str:
    return f"draft-{os.getpid()}-{next(_ids)}"


def insertion_offset(text: str, heading_end: int) -> int:
    """After the heading's line: where a section's body starts."""
    line_end = text.find("\n", heading_end)
    return len(text) if line_end == -1 else line_end + 1


def place(draft: Draft, result: DraftResult) -> Path | None:
    """Use the result's `range` (where the daemon's co-author puts the draft, in the
    section's own file, to insert at or to replace); the file it names."""
    where = result.range
    if where is None:
        return None
    draft.insert_at, draft.replace_end = where.start, where.end
    return where.path.resolve()


def current_range(doc: Document, draft: Draft) -> tuple[int, int] | None:
    """Where the draft goes in the current text (None: that place was edited since)."""
    end = draft.insert_at if draft.replace_end is None else draft.replace_end
    if draft.version is None:
        return draft.insert_at, end
    return doc.map_range(draft.version, draft.insert_at, end)


def insertion_text(draft: Draft, document: str = "") -> str:
    """The daemon's text goes in as it is where it named the place; otherwise the draft becomes
    the lines after the heading. Its newlines take the `document`'s line ending (a CRLF file
    stays CRLF)."""
    text = draft.text if draft.replace_end is not None else draft.text.rstrip("\n") + "\n"
    return with_newlines(text, newline_of(document))


def chunk_message(draft: Draft, chunk: str, done: bool = False) -> dict[str, Any]:
    return {
        "id": draft.id,
        "uri": draft.uri,
        "section": draft.section,
        "chunk": chunk,
        "done": done,
    }


def missing_request(error: Exception) -> bool:
    """The daemon does not know the draft request (no co-author yet)."""
    return getattr(error, "code", "") == "bad-request" and REQUEST in str(error)
