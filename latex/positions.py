"""Offsets, ranges and their conversion to LSP positions (line, character in UTF-16, or the
encoding a client agreed on).

Every range in the project model is a `Range(path, start, end)` of character offsets into the
decoded text of one file; `LineIndex` turns an offset into the (line, UTF-16 column) pair that
the Language Server Protocol uses, and back. Written by hand: it is a few lines of bisect and
no LaTeX library exposes UTF-16 columns.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Position:
    """An LSP position: zero-based line and UTF-16 code-unit column."""

    line: int
    character: int


@dataclass(frozen=True, slots=True)
class LspRange:
    start: Position
    end: Position


@dataclass(frozen=True, slots=True)
class Range:
    """A half-open span [start, end) of character offsets in the decoded text of `path`."""

    path: Path
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"range end {self.end} before start {self.start}")

    def __len__(self) -> int:
        return self.end - self.start

    def to_dict(self, index: LineIndex | None = None) -> dict:
        out: dict = {"path": str(self.path), "start": self.start, "end": self.end}
        if index is not None:
            lsp = index.lsp_range(self.start, self.end)
            out["lsp"] = {
                "start": {"line": lsp.start.line, "character": lsp.start.character},
                "end": {"line": lsp.end.line, "character": lsp.end.character},
            }
        return out


UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"  # LSP position encodings


def _units(ch: str, encoding: str) -> int:
    """Code units of one character in an LSP position encoding."""
    code = ord(ch)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1  # above the BMP: a surrogate pair
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    return 1


class LineIndex:
    """Line starts of one text, for offset <-> (line, character) conversion; characters are
    counted in an LSP position encoding (UTF-16 unless the client agreed on another)."""

    __slots__ = ("_ascii", "_starts", "encoding", "text")

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = str(encoding)
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts
        # ASCII text (most LaTeX): every encoding counts one unit per character
        self._ascii = text.isascii() or self.encoding == UTF32

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_of(self, offset: int) -> int:
        offset = min(max(offset, 0), len(self.text))
        return bisect.bisect_right(self._starts, offset) - 1

    def line_start(self, line: int) -> int:
        return self._starts[min(max(line, 0), len(self._starts) - 1)]

    def line_text(self, line: int) -> str:
        if line < 0 or line >= len(self._starts):
            return ""
        return self.text[self._starts[line] : self._line_end(line)]

    def _line_end(self, line: int) -> int:
        return self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self.text)

    def position(self, offset: int) -> Position:
        """Offset -> LSP position. Offsets are clamped to the text."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self._ascii:
            return Position(line, offset - start)
        encoding = self.encoding
        return Position(line, sum(_units(ch, encoding) for ch in self.text[start:offset]))

    def lsp_range(self, start: int, end: int) -> LspRange:
        return LspRange(self.position(start), self.position(end))

    def line_col(self, offset: int) -> tuple[int, int]:
        """Offset -> (1-based line, 1-based code-point column), for human-readable messages."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def offset(self, position) -> int:
        """LSP position (anything with `line` and `character`) -> offset. A column past the
        line end clamps to the line end."""
        if position.line < 0:
            return 0
        if position.line >= len(self._starts):
            return len(self.text)
        start = self._starts[position.line]
        end = self._line_end(position.line)
        if self._ascii:
            return min(start + max(position.character, 0), end)
        units, at, encoding = 0, start, self.encoding
        while at < end and units < position.character:
            units += _units(self.text[at], encoding)
            at += 1
        return at
