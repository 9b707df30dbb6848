"""Offsets (code points, what the daemon's ranges count) <-> LSP positions in the encoding the
client and server agreed on at `initialize` (UTF-16 by default, UTF-8 or UTF-32 when offered):
the project model's `LineIndex`, answering in lsprotocol's types."""

from __future__ import annotations

from lsprotocol import types
from papercycle.daemon.project.positions import UTF8, UTF16, UTF32, LineIndex

__all__ = ["UTF8", "UTF16", "UTF32", "Lines"]


class Lines(LineIndex):
    """Line starts of one text and conversions in one position encoding."""

    __slots__ = ()

    def position(self, offset: int) -> types.Position:  # type: ignore[override]
        at = super().position(offset)
        return types.Position(at.line, at.character)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))
