"""Offsets, ranges and their conversion to LSP positions (line, UTF-16 character).

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


def _utf16_len(s: str) -> int:
    # Code points above the BMP take two UTF-16 code units.
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


class LineIndex:
    """Line starts of one text, for offset <-> (line, UTF-16 character) conversion."""

    __slots__ = ("_ascii", "_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts
        self._ascii = text.isascii()

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_of(self, offset: int) -> int:
        offset = min(max(offset, 0), len(self.text))
        return bisect.bisect_right(self._starts, offset) - 1

    def position(self, offset: int) -> Position:
        """Offset -> LSP position (UTF-16 column). Offsets are clamped to the text."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        if self._ascii:
            return Position(line, offset - start)
        return Position(line, _utf16_len(self.text[start:offset]))

    def lsp_range(self, start: int, end: int) -> LspRange:
        return LspRange(self.position(start), self.position(end))

    def line_col(self, offset: int) -> tuple[int, int]:
        """Offset -> (1-based line, 1-based code-point column), for human-readable messages."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def offset(self, position: Position) -> int:
        """LSP position -> offset. A column past the line end clamps to the line end."""
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
        if self._ascii:
            return min(start + max(position.character, 0), end)
        units = 0
        pos = start
        while pos < end and units < position.character:
            units += 2 if ord(self.text[pos]) > 0xFFFF else 1
            pos += 1
        return pos
