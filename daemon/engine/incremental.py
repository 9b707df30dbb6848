"""Which sections changed, by content; in which order to review them; when the whole paper is
worth another review. The units themselves are engine/review_units.py's.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import review as engine
from papercycle.daemon.engine.review_units import WORDS, Unit
from papercycle.latex import Project


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
    total = sum(len(WORDS.findall(b)) for b in baseline.values()) or 1
    changed = 0
    for ident, body in now.items():
        old = baseline.get(ident)
        if old == body:
            continue
        new_words = WORDS.findall(body)
        if old is None:
            changed += len(new_words)
            continue
        old_words = WORDS.findall(old)
        matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
        same = sum(b.size for b in matcher.get_matching_blocks())
        changed += max(len(old_words), len(new_words)) - same
    for ident, body in baseline.items():
        if ident not in now:
            changed += len(WORDS.findall(body))
    return changed / total, structural


def needs_paper_review(
    baseline: dict[str, str] | None, current: list[Unit], threshold: float
) -> bool:
    """Never reviewed, a section added or removed, or at least `threshold` of the words."""
    if baseline is None:
        return True
    share, structural = changed_share(baseline, current)
    return structural or share >= threshold


def prepare_unit(project: Project, model: ModelConfig, unit: Unit) -> engine.GenerationRequest:
    """The section review of a unit: its own text, the title without its number."""
    return engine.prepare_section(project, model, unit.part)


def with_part(request: engine.GenerationRequest, unit: Unit) -> engine.GenerationRequest:
    """A request prepared on an older version of the project, re-pointed at where the same
    text sits now (for anchoring its output)."""
    return replace(request, section=unit.part)
