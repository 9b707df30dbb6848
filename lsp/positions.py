"""Offsets (code points, what the daemon's ranges count) <-> LSP positions in the encoding the
client and server agreed on at `initialize` (UTF-16 by default, UTF-8 or UTF-32 when offered)."""

from __future__ import annotations

import bisect

from lsprotocol import types

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _units(ch: str, encoding: str) -> int:
    code = ord(ch)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


class Lines:
    """Line starts of one text and conversions in one position encoding."""

    __slots__ = ("_ascii", "_starts", "encoding", "text")

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = str(encoding)
        starts = [0]
        at = text.find("\n")
        while at != -1:
            starts.append(at + 1)
            at = text.find("\n", at + 1)
        self._starts = starts
        self._ascii = text.isascii()

    def line_of(self, offset: int) -> int:
        offset = min(max(offset, 0), len(self.text))
        return bisect.bisect_right(self._starts, offset) - 1

    def line_start(self, line: int) -> int:
        return self._starts[min(max(line, 0), len(self._starts) - 1)]

    def line_text(self, line: int) -> str:
        if line < 0 or line >= len(self._starts):
            return ""
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)
        return self.text[start:end]

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def position(self, offset: int) -> types.Position:
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self._ascii or self.encoding == UTF32:
            return types.Position(line, offset - start)
        return types.Position(
            line, sum(_units(ch, self.encoding) for ch in self.text[start:offset])
        )

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(end))

    def offset(self, position: types.Position) -> int:
        """Position -> offset; a column past the end of its line clamps to the line end."""
        if position.line < 0:
            return 0
        if position.line >= len(self._starts):
            return len(self.text)
        start = self._starts[position.line]
        end = (
            self._starts[position.line + 1] - 1
            if position.line + 1 < len(self._starts)
            else len(self.text)
        )
        if self._ascii or self.encoding == UTF32:
            return min(start + max(position.character, 0), end)
        units, at = 0, start
        while at < end and units < position.character:
            units += _units(self.text[at], self.encoding)
            at += 1
        return at
