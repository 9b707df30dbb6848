"""Which sections changed, by content; in which order to review them; when the whole paper is
worth another review.

A *unit* is one reviewable section's own text: from its heading to its first subsection (a
subsection is a unit of its own, so an edit in 3.2 does not re-review 3), with the heading's
number left out. Its `key` is a digest of (kind, title, text): a section moved elsewhere, or
renumbered because another one was added above it, keeps its key, so it is not reviewed again;
its prompt leaves the number out too, so its cached review is found again. Its `ident`
(kind, title, occurrence) names it across edits, for clients ("section:Method#0").
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.project import Project
from papercycle.daemon.project.model import SectionSlice
from papercycle.daemon.project.structure import SectionNode

# Section kinds worth a review of their own (the title and reference list are not).
REVIEWABLE = {"abstract", "part", "chapter", "section", "subsection", "subsubsection"}

_WORDS = re.compile(r"\S+")


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


@dataclass(frozen=True)
class Unit:
    ident: str
    key: str
    node: SectionNode
    part: SectionSlice  # own text, heading line excluded, for the review
    body: str

    @property
    def words(self) -> int:
        return len(_WORDS.findall(self.body))

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


@dataclass
class Change:
    changed: list[Unit] = field(default_factory=list)  # same ident, new text
    added: list[Unit] = field(default_factory=list)  # a new ident
    removed: list[str] = field(default_factory=list)  # idents gone
    moved: list[str] = field(default_factory=list)  # same text, another place in the order

    @property
    def to_review(self) -> list[Unit]:
        return [*self.changed, *self.added]

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed or self.moved)


def diff(before: list[Unit], after: list[Unit]) -> Change:
    """By content: a unit whose key existed before is unchanged wherever it now is."""
    old_keys = {u.key for u in before}
    old_ids = {u.ident: i for i, u in enumerate(before)}
    new_ids = {u.ident for u in after}
    change = Change()
    old_order = [u.ident for u in before if u.ident in new_ids]
    new_order = [u.ident for u in after if u.ident in old_ids]
    moved = set()
    if old_order != new_order:
        matcher = difflib.SequenceMatcher(a=old_order, b=new_order, autojunk=False)
        kept = {old_order[b.a + k] for b in matcher.get_matching_blocks() for k in range(b.size)}
        moved = set(new_order) - kept
    for u in after:
        if u.key in old_keys:
            if u.ident in moved:
                change.moved.append(u.ident)
            continue
        (change.changed if u.ident in old_ids else change.added).append(u)
    change.removed = [u.ident for u in before if u.ident not in new_ids]
    return change


def attention_order(todo: list[Unit], cursor: str | None) -> list[Unit]:
    """The section being edited first, then the rest in reading order."""
    first = [u for u in todo if u.ident == cursor]
    return first + [u for u in todo if u.ident != cursor]


def unit_at(project: Project, all_units: list[Unit], path: str, offset: int) -> Unit | None:
    """The unit under a cursor (the innermost section holding it)."""
    node = project.section_at(path, offset)
    if node is None:
        return None
    for u in all_units:
        if u.node is node:
            return u
    # a heading without text of its own (its subsections hold it): the nearest unit inside
    holders = [u for u in all_units if any(n is u.node for n in node.walk())]
    return holders[0] if holders else None


def changed_share(baseline: dict[str, str], current: list[Unit]) -> tuple[float, bool]:
    """(share of the baseline's words changed, whether a section was added or removed) between
    the text a whole-paper review read (ident -> body) and now."""
    now = {u.ident: u.body for u in current}
    structural = set(now) != set(baseline)
    total = sum(len(_WORDS.findall(b)) for b in baseline.values()) or 1
    changed = 0
    for ident, body in now.items():
        old = baseline.get(ident)
        if old == body:
            continue
        new_words = _WORDS.findall(body)
        if old is None:
            changed += len(new_words)
            continue
        old_words = _WORDS.findall(old)
        matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
        same = sum(b.size for b in matcher.get_matching_blocks())
        changed += max(len(old_words), len(new_words)) - same
    for ident, body in baseline.items():
        if ident not in now:
            changed += len(_WORDS.findall(body))
    return changed / total, structural


def needs_paper_review(
    baseline: dict[str, str] | None, current: list[Unit], threshold: float
) -> bool:
    """Never reviewed, a section added or removed, or at least `threshold` of the words."""
    if baseline is None:
        return True
    share, structural = changed_share(baseline, current)
    return structural or share >= threshold


def with_part(request: GenerationRequest, unit: Unit) -> GenerationRequest:
    """A request prepared on an older version of the project, re-pointed at where the same
    text sits now (for anchoring its output)."""
    return replace(request, section=unit.part)
