"""Sections as the daemon reviews them: each section's slice of the visible text with its
source ranges, and which sections an edit changed (keyed by kind, title and occurrence, so an
edit that renumbers sections does not make them all new)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from papercycle.latex.positions import Range
from papercycle.latex.source_map import VisibleText
from papercycle.latex.structure import SectionNode, Structure


@dataclass(frozen=True, slots=True)
class SectionSlice:
    """One section's part of the visible text, with its source ranges."""

    node: SectionNode
    text: str
    prose_start: int
    prose_end: int
    ranges: tuple[Range, ...]

    @property
    def body_start(self) -> int:
        """Where the section's own words start in the visible text: after its heading."""
        return min(max(self.node.body_start, self.prose_start), self.prose_end)


def slices(structure: Structure, visible: VisibleText) -> list[SectionSlice]:
    """Per section (title, abstract, headings, bibliography): its visible text and ranges."""
    out = []
    for node in structure.root.walk():
        if node.kind == "document":
            continue
        a, b = node.prose_start, node.prose_end
        out.append(SectionSlice(node, visible.text[a:b], a, b, tuple(visible.source_ranges(a, b))))
    return out


def _keyed(structure: Structure) -> Iterator[tuple[tuple, SectionNode]]:
    """(kind, title, occurrence) -> node: stable across edits that renumber sections."""
    seen: dict[tuple, int] = {}
    for node in structure.root.walk():
        if node.kind == "document":
            continue
        base = (node.kind, node.title)
        n = seen.get(base, 0)
        seen[base] = n + 1
        yield (*base, n), node


def digests(structure: Structure, text: str) -> dict[tuple, int]:
    return {key: hash(text[n.prose_start : n.prose_end]) for key, n in _keyed(structure)}


def changed(structure: Structure, text: str, before: dict[tuple, int]) -> list[SectionNode]:
    """Sections whose visible text differs from `before` (new sections included)."""
    out = []
    for key, node in _keyed(structure):
        if before.get(key) != hash(text[node.prose_start : node.prose_end]):
            out.append(node)
    return out
