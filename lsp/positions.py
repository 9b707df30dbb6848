"""Offsets (code points, what the daemon's ranges count) <-> LSP positions in the encoding the
client and server agreed on at `initialize` (UTF-16 by default, UTF-8 or UTF-32 when offered):
the project model's `LineIndex`, answering in lsprotocol's types (protocol types stay at this
edge: the project model never sees them)."""

from __future__ import annotations

from lsprotocol import types
from papercycle.latex.positions import UTF8, UTF16, UTF32, LineIndex

__all__ = ["UTF8", "UTF16", "UTF32", "Lines"]


class Lines:
    """Line starts of one text and conversions in one position encoding."""

    __slots__ = ("index",)

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.index = LineIndex(text, encoding)

    def position(self, offset: int) -> types.Position:
        at = self.index.position(offset)
        return types.Position(at.line, at.character)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def offset(self, position: types.Position) -> int:
        """A column past the line end clamps to the line end."""
        return self.index.offset(position)

    def line_of(self, offset: int) -> int:
        return self.index.line_of(offset)
