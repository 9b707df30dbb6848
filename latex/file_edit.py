"""Writing a draft into a user's .tex file without damaging it.

The daemon's offsets count characters of the file as the project model decoded it (UTF-8, a
BOM dropped, `\\r\\n` kept as two characters); the file is read back the same way, never with
Python's newline translation, or a mid-file insert in a CRLF file lands a line early for every
line above it. The draft's own newlines take the file's line ending. The file keeps its mode
(0600 stays 0600) and its BOM, is replaced atomically, and is refused when it no longer is the
text the daemon drafted against (a SHA-256 the daemon recorded when it was asked). The previous
bytes stay recoverable: a copy goes to the backup folder first, and the caller names it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path

from papercycle.latex.files import decode_source
from papercycle.private import write_private

BOM = b"\xef\xbb\xbf"


class EditRefused(Exception):
    """The file cannot take the edit as it is now; the message is one line naming it."""


def text_digest(text: str) -> str:
    """The fingerprint of a file's decoded text that a draft result carries."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def newline_of(text: str) -> str:
    """The file's line ending: CRLF when most of its lines end so."""
    lines = text.count("\n")
    return "\r\n" if lines and text.count("\r\n") * 2 > lines else "\n"


def with_newlines(insert: str, newline: str) -> str:
    """`insert` with every line ending written as `newline`."""
    plain = insert.replace("\r\n", "\n")
    return plain if newline == "\n" else plain.replace("\n", newline)


def apply_edit(
    path: Path, start: int, end: int, insert: str, expected_digest: str | None, backups: Path
) -> Path:
    """Replace characters `start`..`end` of `path` with `insert`; the backup's path."""
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode & 0o7777
    except OSError as error:
        raise EditRefused(f"{path}: cannot read ({error.strerror}); draft not written") from None
    source = decode_source(path, data)
    if source.problems:  # U+FFFD in place of bytes: writing it back would lose them
        raise EditRefused(f"{path}: not valid UTF-8; draft not written (the file is unchanged)")
    text = source.text
    if expected_digest is not None and text_digest(text) != expected_digest:
        raise EditRefused(
            f"{path}: changed since the draft was asked for; draft not written (ask again)"
        )
    if not 0 <= start <= end <= len(text):
        raise EditRefused(f"{path}: the draft's place {start}..{end} is not in the file")
    new = text[:start] + with_newlines(insert, newline_of(text)) + text[end:]
    backup = backups / f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}.{os.getpid()}.bak"
    write_private(backup, data)
    replace_atomically(path, (BOM if data.startswith(BOM) else b"") + new.encode("utf-8"), mode)
    return backup


def replace_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data`, mode `mode`: a crash leaves the old file or the new one,
    never half of one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".papercycle-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
