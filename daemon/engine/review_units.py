"""The review units of a paper: the one definition the CLI, the editors and the open projects
share, so all review the same sections and find each other's cached reviews.

A *unit* is one reviewable section's own text: from its heading to its first subsection (a
subsection is a unit of its own, so an edit in 3.2 does not re-review 3), with the heading's
number left out. Its `key` is a digest of (kind, title, text): a section moved elsewhere, or
renumbered because another one was added above it, keeps its key, so it is not reviewed again;
its prompt leaves the number out too, so its cached review is found again. Its `ident`
(kind, title, occurrence) names it across edits, for clients ("section:Method#0").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from papercycle.latex import Project
from papercycle.latex.model import SectionSlice
from papercycle.latex.structure import SectionNode

# the headings whose text is reviewed on its own
REVIEWABLE = {"abstract", "part", "chapter", "section", "subsection", "subsubsection"}

WORDS = re.compile(r"\S+")


class UnnumberedNode:
    """A section node whose display name leaves its number out (prompts, job descriptions)."""

    def __init__(self, node: SectionNode) -> None:
        self._node = node

    @property
    def original(self) -> SectionNode:
        return self._node

    def __getattr__(self, name: str) -> Any:
        return getattr(self._node, name)

    def display_name(self) -> str:
        node = self._node
        if node.kind in ("title", "abstract", "bibliography", "document"):
            return node.display_name()
        word = "Appendix" if node.appendix and node.level <= 1 else node.kind.capitalize()
        return f"{word} {node.title}"


def shown_name(node: SectionNode | UnnumberedNode) -> str:
    """The name a reader sees in results (with the number the prompt leaves out)."""
    return node.original.display_name() if isinstance(node, UnnumberedNode) else node.display_name()


@dataclass(frozen=True)
class Unit:
    ident: str
    key: str
    node: SectionNode
    part: SectionSlice  # own text, heading line excluded, for the review
    body: str

    @property
    def words(self) -> int:
        return len(WORDS.findall(self.body))

    def describe(self, project: Project) -> dict[str, Any]:
        node = self.node
        return {
            "id": self.ident,
            "key": self.key[:16],
            "kind": node.kind,
            "title": node.title,
            "number": node.number,
            "name": node.display_name(),
            "range": project.range_dict(node.range),
            "ranges": [project.range_dict(r) for r in self.part.ranges],
        }


def _own_end(node: SectionNode) -> int:
    starts = [c.prose_start for c in node.children if c.prose_start >= node.prose_start]
    return min([node.prose_end, *starts])


def units(project: Project) -> list[Unit]:
    """The project's review units in reading order."""
    text = project.visible.text
    out: list[Unit] = []
    seen: dict[tuple[str, str], int] = {}
    for node in project.structure.root.walk():
        if node.kind not in REVIEWABLE:
            continue
        end = _own_end(node)
        # the heading is left out: its number changes when a section is added above it
        start = min(max(node.body_start, node.prose_start), end)
        # no surrounding whitespace: the last section of a paper is followed by nothing, the
        # others by a paragraph break, and a moved section must read the same
        body = text[start:end]
        start += len(body) - len(body.lstrip())
        end = start + len(body.strip())
        body = text[start:end]
        if not body:
            continue
        base = (node.kind, node.title.strip())
        n = seen.get(base, 0)
        seen[base] = n + 1
        digest = hashlib.sha256(
            "\x00".join((node.kind, node.title.strip(), body)).encode("utf-8")
        ).hexdigest()
        part = SectionSlice(
            UnnumberedNode(node),  # type: ignore[arg-type]
            body,
            start,
            end,
            tuple(project.visible.source_ranges(start, end)),
        )
        out.append(Unit(f"{node.kind}:{node.title.strip()}#{n}", digest, node, part, body))
    return out
