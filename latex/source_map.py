"""The source map of the visible text: every character of what a reader sees maps back to
(file, offset), and a source position maps forward to the visible text."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from papercycle.latex.positions import Range


class SourceMap:
    """Maps offsets of the visible text to (file, offset) and back. Segments are sorted by
    output offset; a segment whose output and source lengths are equal maps character by
    character, otherwise its whole output span maps to its whole source span."""

    __slots__ = ("_by_file", "files", "out_end", "out_start", "src_end", "src_file", "src_start")

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.out_start: list[int] = []
        self.out_end: list[int] = []
        self.src_file: list[int] = []
        self.src_start: list[int] = []
        self.src_end: list[int] = []
        self._by_file: dict[int, tuple[list[int], list[int]]] | None = None

    def __len__(self) -> int:
        return len(self.out_start)

    def _seg_range(self, i: int, a: int, b: int) -> tuple[int, int]:
        os_, oe, ss, se = self.out_start[i], self.out_end[i], self.src_start[i], self.src_end[i]
        if oe - os_ == se - ss:
            return ss + (max(a, os_) - os_), ss + (min(b, oe) - os_)
        return ss, se

    def to_source(self, start: int, end: int) -> list[Range]:
        """Source ranges of the visible text [start, end): one per file run, in text order."""
        if end <= start or not self.out_start:
            if self.out_start and start == end:
                i = max(0, bisect.bisect_right(self.out_start, start) - 1)
                s, _ = self._seg_range(i, start, start)
                return [Range(self.files[self.src_file[i]], s, s)]
            return []
        i = max(0, bisect.bisect_right(self.out_start, start) - 1)
        out: list[Range] = []
        cur_file = -1
        cur_s = cur_e = 0
        n = len(self.out_start)
        while i < n and self.out_start[i] < end:
            if self.out_end[i] > start:
                s, e = self._seg_range(i, start, end)
                f = self.src_file[i]
                if f == cur_file and s >= cur_s:
                    cur_e = max(cur_e, e)
                else:
                    if cur_file >= 0:
                        out.append(Range(self.files[cur_file], cur_s, cur_e))
                    cur_file, cur_s, cur_e = f, s, e
            i += 1
        if cur_file >= 0:
            out.append(Range(self.files[cur_file], cur_s, cur_e))
        return out

    def offset_to_source(self, offset: int) -> tuple[Path, int] | None:
        if not self.out_start:
            return None
        i = max(0, bisect.bisect_right(self.out_start, offset) - 1)
        s, _ = self._seg_range(i, offset, offset + 1)
        return self.files[self.src_file[i]], s

    def from_source(self, path: Path, offset: int, nearest: bool = False) -> int | None:
        """Visible-text offset of a source position. None when that position produces no
        visible text (markup, a comment, hidden text, the preamble) unless `nearest` is set:
        then the nearest visible character after it (for a cursor). None when the file
        contributes nothing visible."""
        if self._by_file is None:
            by: dict[int, list[tuple[int, int]]] = {}
            for i, f in enumerate(self.src_file):
                by.setdefault(f, []).append((self.src_start[i], i))
            self._by_file = {}
            for f, lst in by.items():
                lst.sort()
                self._by_file[f] = ([s for s, _ in lst], [i for _, i in lst])
        try:
            fidx = self.files.index(path)
        except ValueError:
            return None
        if fidx not in self._by_file:
            return None
        starts, idxs = self._by_file[fidx]
        j = bisect.bisect_right(starts, offset) - 1
        # the segment holding the offset: the last one starting at or before it, or an earlier,
        # wider one (a macro invocation around its arguments)
        for k in range(j, max(j - 16, -1), -1):
            i = idxs[k]
            if self.src_start[i] <= offset < self.src_end[i] or (
                self.src_start[i] == offset == self.src_end[i]
                and self.out_end[i] > self.out_start[i]
            ):
                if self.out_end[i] - self.out_start[i] == self.src_end[i] - self.src_start[i]:
                    return self.out_start[i] + offset - self.src_start[i]
                # one expansion may be several segments of the same span: its first one
                first = self.out_start[i]
                while k > 0 and (
                    self.src_start[idxs[k - 1]] == self.src_start[i]
                    and self.src_end[idxs[k - 1]] == self.src_end[i]
                ):
                    k -= 1
                    first = min(first, self.out_start[idxs[k]])
                return first
        if not nearest:
            return None
        if j < 0:
            return self.out_start[idxs[0]]
        return self.out_start[idxs[j + 1]] if j + 1 < len(idxs) else self.out_end[idxs[j]]

    def from_source_span(self, path: Path, start: int, end: int) -> tuple[int, int] | None:
        """The visible text [a, b) produced by the source [start, end) of `path`: from the first
        to the last visible character any of its segments produce, whatever the source holds at
        either end (a newline, a comment, markup). None when it produces nothing visible."""
        try:
            fidx = self.files.index(path)
        except ValueError:
            return None
        a = b = None
        for i, f in enumerate(self.src_file):
            if f != fidx or self.out_end[i] <= self.out_start[i]:
                continue
            ss, se = self.src_start[i], self.src_end[i]
            if se <= start or ss >= end:
                continue
            os_, oe = self.out_start[i], self.out_end[i]
            if oe - os_ == se - ss:  # character by character: clip to the span
                os_, oe = os_ + max(0, start - ss), oe - max(0, se - end)
            a = os_ if a is None else min(a, os_)
            b = oe if b is None else max(b, oe)
        return None if a is None else (a, b)


@dataclass(slots=True)
class VisibleText:
    """What the model reads. `text[a:b]` maps to `source_map.to_source(a, b)`."""

    text: str
    source_map: SourceMap

    def source_ranges(self, start: int, end: int) -> list[Range]:
        return self.source_map.to_source(start, end)

    def source_range(self, start: int, end: int) -> Range | None:
        """The first file's range for [start, end) (a quote rarely spans files)."""
        r = self.source_map.to_source(start, end)
        return r[0] if r else None
