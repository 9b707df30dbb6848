"""Tie each comment of a review to source ranges, never dropping one.

In order: a quoted passage of the paper ("..."), a named object ("Section 3", "Table 2",
"Eq. (5)"), the paragraph sharing the most content words with the comment, and finally the
section heading (section reviews) or the title. The method is returned with the range so an
editor can say how sure the placement is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from papercycle.latex import Project
from papercycle.latex.positions import Range

_QUOTED = re.compile(r"[\"“”']([^\"“”]{12,400})[\"“”']|`([^`]{12,400})'")
_REFERENCE = re.compile(
    r"\b(?:Sec(?:tion|\.)?|§|Table|Tab\.|Fig(?:ure|\.)?|Eq(?:uation|\.)?|Appendix|Algorithm|"
    r"Theorem|Lemma|Definition|Proposition|Corollary)\s*~?\(?[A-Z]?\d+(?:\.\d+)*\)?",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]{3,}")
_STOP = frozenset(
    [
        "this",
        "that",
        "with",
        "from",
        "have",
        "been",
        "were",
        "which",
        "their",
        "there",
        "these",
        "those",
        "would",
        "could",
        "should",
        "about",
        "into",
        "more",
        "most",
        "such",
        "than",
        "then",
        "them",
        "they",
        "what",
        "when",
        "where",
        "while",
        "also",
        "only",
        "other",
        "some",
        "paper",
        "authors",
        "author",
        "work",
        "results",
        "result",
        "method",
        "methods",
        "section",
        "approach",
        "propose",
        "proposed",
        "show",
        "shows",
        "shown",
        "does",
        "using",
        "used",
        "use",
        "make",
        "makes",
        "made",
        "very",
        "well",
        "much",
        "many",
        "first",
        "second",
        "however",
        "further",
        "provide",
        "provides",
        "provided",
        "unclear",
        "lack",
        "lacks",
        "need",
        "needs",
    ]
)
MIN_KEYWORD_OVERLAP = 2


@dataclass
class Anchor:
    method: str  # "quote", "reference", "keywords", "section", "title", "document"
    range: Range | None
    ranges: tuple[Range, ...]
    score: float | None = None

    def to_dict(self, project: Project) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": self.score,
            "range": project.range_dict(self.range),
            "ranges": [project.range_dict(r) for r in self.ranges],
        }


class Anchorer:
    """Anchors comments in one project version; paragraph keyword sets are computed once."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._paragraphs: list[tuple[int, int, frozenset[str]]] | None = None

    def anchor(
        self,
        text: str,
        *,
        quote: str | None = None,
        within: tuple[int, int] | None = None,
        fallback: Range | None = None,
    ) -> Anchor:
        for candidate in (
            [quote] if quote else [m.group(1) or m.group(2) for m in _QUOTED.finditer(text)]
        ):
            found = self._quote(candidate, within)
            if found is not None:
                return found
        if quote is None:
            for match in _REFERENCE.finditer(text):
                ref = self.project.resolve_reference(match.group(0))
                if ref is not None:
                    return Anchor("reference", ref.range, (ref.range,))
        found = self._keywords(text, within)
        if found is not None:
            return found
        if fallback is not None:
            return Anchor("section", fallback, (fallback,))
        return self._title()

    def _quote(self, quote: str, within: tuple[int, int] | None) -> Anchor | None:
        visible = self.project.visible
        if within is not None:
            # A section review quotes its own section: look there first, exactly.
            a, b = within
            at = visible.text.find(quote, a, b)
            if at != -1:
                ranges = tuple(visible.source_ranges(at, at + len(quote)))
                if ranges:
                    return Anchor("quote", ranges[0], ranges, 1.0)
        match = self.project.find_quote(quote)
        if match is None:
            return None
        return Anchor("quote", match.range, match.ranges, round(match.score, 3))

    def _keywords(self, text: str, within: tuple[int, int] | None) -> Anchor | None:
        words = _content_words(text)
        if not words:
            return None
        best: tuple[int, int, int] | None = None
        for start, end, para_words in self._paragraph_words():
            if within is not None and (end <= within[0] or start >= within[1]):
                continue
            overlap = len(words & para_words)
            if overlap >= MIN_KEYWORD_OVERLAP and (best is None or overlap > best[0]):
                best = (overlap, start, end)
        if best is None:
            return None
        ranges = tuple(self.project.visible.source_ranges(best[1], best[2]))
        if not ranges:
            return None
        return Anchor("keywords", ranges[0], ranges, float(best[0]))

    def _paragraph_words(self) -> list[tuple[int, int, frozenset[str]]]:
        if self._paragraphs is None:
            text = self.project.visible.text
            out = []
            start = 0
            for match in re.finditer(r"\n\s*\n|\Z", text):
                end = match.start()
                if end > start:
                    out.append((start, end, frozenset(_content_words(text[start:end]))))
                start = match.end()
            self._paragraphs = out
        return self._paragraphs

    def _title(self) -> Anchor:
        for node in self.project.structure.root.walk():
            if node.kind == "title" and node.range is not None:
                return Anchor("title", node.range, (node.range,))
        # No \title: the start of the root file, so the comment still has a place.
        root = Range(self.project.root_path, 0, 0)
        return Anchor("document", root, (root,))


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOP
