"""Anchoring: a reviewer's quote, or a reference like "Section 4" / "Table 2" / "Eq. (5)" /
"the abstract", to a source range.

Quotes are matched on a normalized copy of the visible text (case, whitespace, quote and dash
forms folded; LaTeX markup in the quote rendered away first), exactly when possible and
otherwise with rapidfuzz's partial_ratio_alignment over overlapping windows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from papercycle.daemon.project.positions import Range
from papercycle.daemon.project.prose import VisibleText
from papercycle.daemon.project.structure import FloatInfo, SectionNode, Structure
from rapidfuzz import fuzz, process

DEFAULT_MIN_SCORE = 0.8

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u00a0": " ",
        "~": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\u2026": "...",
    }
)


class NormalizedText:
    """Folded text plus, for each of its characters, the offset in the original."""

    __slots__ = ("index", "text")

    def __init__(self, original: str) -> None:
        chars: list[str] = []
        index: list[int] = []
        space = True
        for i, ch in enumerate(original):
            if ch.isspace():
                if not space:
                    chars.append(" ")
                    index.append(i)
                    space = True
                continue
            folded = ch.translate(_FOLD).lower() if not ch.isascii() or ch in "`~" else ch.lower()
            if folded == " ":
                if not space:
                    chars.append(" ")
                    index.append(i)
                    space = True
                continue
            for c in folded:
                chars.append(c)
                index.append(i)
            space = False
        if chars and chars[-1] == " ":
            chars.pop()
            index.pop()
        self.text = "".join(chars)
        self.index = index

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Original [start, end) of normalized [a, b)."""
        if b <= a:
            o = self.index[a] if a < len(self.index) else (self.index[-1] + 1 if self.index else 0)
            return o, o
        return self.index[a], self.index[b - 1] + 1


def normalize(s: str) -> str:
    return NormalizedText(unicodedata.normalize("NFC", s)).text


@dataclass(frozen=True, slots=True)
class QuoteMatch:
    """Where a quote is. `score` is 1.0 for an exact match, lower for fuzzy ones;
    `occurrences` > 1 when an exact quote appears several times (the first is returned)."""

    range: Range
    ranges: tuple[Range, ...]
    prose_start: int
    prose_end: int
    score: float
    exact: bool
    matched_text: str
    occurrences: int = 1

    def to_dict(self) -> dict:
        return {
            "range": self.range.to_dict(),
            "ranges": [r.to_dict() for r in self.ranges],
            "prose": [self.prose_start, self.prose_end],
            "score": round(self.score, 4),
            "exact": self.exact,
            "matched_text": self.matched_text,
            "occurrences": self.occurrences,
        }


def _make(visible: VisibleText, a: int, b: int, score: float, exact: bool, occ: int = 1):
    ranges = visible.source_ranges(a, b)
    if not ranges:
        return None
    return QuoteMatch(ranges[0], tuple(ranges), a, b, score, exact, visible.text[a:b], occ)


def find_quote(
    visible: VisibleText,
    quote: str,
    normalized: NormalizedText | None = None,
    rendered_quote: str | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> QuoteMatch | None:
    """Best source range for `quote`, or None when nothing scores at least `min_score`.
    `rendered_quote` is the quote with its LaTeX markup rendered away (the project does this)."""
    text = visible.text
    if not quote or not quote.strip() or not text:
        return None
    # 1. verbatim
    pos = text.find(quote)
    if pos >= 0 and quote.strip():
        occ = text.count(quote) if len(quote) < 400 else 1
        return _make(visible, pos, pos + len(quote), 1.0, True, occ)
    norm = normalized or NormalizedText(text)
    best = None
    for q in dict.fromkeys(x for x in (quote, rendered_quote) if x):
        nq = normalize(q)
        if not nq:
            continue
        # 2. exact after normalization
        p = norm.text.find(nq)
        if p >= 0:
            a, b = norm.span(p, p + len(nq))
            occ = norm.text.count(nq) if len(nq) < 400 else 1
            return _make(visible, a, b, 0.99, True, occ)
        # 3. fuzzy
        m = _fuzzy(norm, nq)
        if m is not None and (best is None or m[2] > best[2]):
            best = m
    if best is None or best[2] < min_score:
        return None
    a, b, score = best
    return _make(visible, a, b, score, False)


def _fuzzy(norm: NormalizedText, nq: str) -> tuple[int, int, float] | None:
    hay = norm.text
    if len(nq) < 8:
        return None
    size = max(3 * len(nq), 240)
    step = max(size - len(nq) - 1, 1)
    starts = list(range(0, max(len(hay) - len(nq), 0) + 1, step)) or [0]
    windows = [hay[s : s + size] for s in starts]
    hit = process.extractOne(nq, windows, scorer=fuzz.partial_ratio, score_cutoff=50)
    if hit is None:
        return None
    _, _, wi = hit
    base = starts[wi]
    window = windows[wi]
    al = fuzz.partial_ratio_alignment(nq, window)
    if al is None:
        return None
    s, e = base + al.dest_start, base + al.dest_end
    # snap to word boundaries
    while s > 0 and hay[s - 1] != " " and s > base - len(nq):
        s -= 1
    while e < len(hay) and hay[e] != " " and e > 0 and hay[e - 1] != " ":
        e += 1
    while s < e and hay[s] == " ":
        s += 1
    while e > s and hay[e - 1] == " ":
        e -= 1
    if e <= s:
        return None
    score = fuzz.ratio(nq, hay[s:e]) / 100
    score = max(score, al.score / 100 * 0.98)
    a, b = norm.span(s, e)
    return a, b, score


# ---------------------------------------------------------------------------------------------
# "Section 4", "Table 2", "Figure 3", "Eq. (5)", "the abstract"


@dataclass(frozen=True, slots=True)
class ReferenceMatch:
    """A resolved reference: `kind` ("section", "figure", "table", "equation", "abstract",
    "title", "bibliography", ...), its number, the source range of the object and its slice
    of the visible text."""

    kind: str
    number: str | None
    description: str
    range: Range
    prose_start: int
    prose_end: int

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "number": self.number,
            "description": self.description,
            "range": self.range.to_dict(),
            "prose": [self.prose_start, self.prose_end],
        }


_NUM = r"([A-Za-z]?\d*(?:\.\d+)*[a-z]?|[A-Z](?:\.\d+)*)"
_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("abstract", re.compile(r"^(?:the\s+)?abstract$", re.I)),
    ("title", re.compile(r"^(?:the\s+)?(?:paper\s+)?title$", re.I)),
    (
        "bibliography",
        re.compile(r"^(?:the\s+)?(?:references|bibliography|reference\s+list)$", re.I),
    ),
    ("appendix", re.compile(r"^(?:appendix|app\.)\s*" + _NUM + r"$", re.I)),
    (
        "section",
        re.compile(
            r"^(?:sections?|sec\.?|secs\.?|§+|subsection|subsec\.?|chapter|ch\.?)\s*" + _NUM + r"$",
            re.I,
        ),
    ),
    ("figure", re.compile(r"^(?:figures?|figs?\.?)\s*(\d+(?:\.\d+)?)\s*\(?([a-z])?\)?$", re.I)),
    ("table", re.compile(r"^(?:tables?|tabs?\.?)\s*(\d+(?:\.\d+)?)$", re.I)),
    ("algorithm", re.compile(r"^(?:algorithms?|algs?\.?)\s*(\d+(?:\.\d+)?)$", re.I)),
    (
        "equation",
        re.compile(r"^(?:equations?|eqs?\.?|eqn\.?)?\s*\(?\s*(\d+(?:\.\d+)?)\s*\)?$", re.I),
    ),
]


def resolve_reference(
    structure: Structure, visible: VisibleText, ref: str
) -> ReferenceMatch | None:
    """Resolve "Section 4", "Sec. 3.2", "Appendix A", "Table 2", "Figure 3" / "Fig. 3b",
    "Eq. (5)", "(5)", "the abstract", "the title", "the references", a label key, or a section
    title ("the Related Work section"). None when there is no such object."""
    s = re.sub(r"\s+", " ", ref.strip().rstrip(".,;:")).strip()
    if not s:
        return None
    for kind, pat in _PATTERNS:
        m = pat.match(s)
        if not m:
            continue
        if kind in ("abstract", "title", "bibliography"):
            node = next((n for n in structure.root.walk() if n.kind == kind), None)
            return _node_match(node) if node is not None else None
        if kind in ("section", "appendix"):
            number = m.group(1)
            for node in structure.root.walk():
                if (
                    node.number
                    and node.number.lower() == number.lower()
                    and node.kind not in ("document", "title", "abstract", "bibliography")
                ):
                    if kind == "appendix" and not node.appendix:
                        continue
                    return _node_match(node)
            return None
        if kind == "figure":
            number = m.group(1) + (m.group(2) or "")
            return _float_match(structure, "figure", number)
        if kind in ("table", "algorithm"):
            return _float_match(structure, kind, m.group(1))
        if kind == "equation":
            for eq in structure.equations:
                if eq.number == m.group(1):
                    return ReferenceMatch(
                        "equation",
                        eq.number,
                        f"Equation ({eq.number})",
                        eq.range,
                        eq.prose_start,
                        eq.prose_end,
                    )
            return None
    if s in structure.labels:
        info = structure.labels[s]
        for obj in list(structure.root.walk()) + structure.floats:
            if getattr(obj, "label", None) == s:
                if isinstance(obj, SectionNode):
                    return _node_match(obj)
                return _float_to_match(obj)
        for eq in structure.equations:
            if eq.label == s:
                return ReferenceMatch(
                    "equation",
                    eq.number,
                    f"Equation ({eq.number})",
                    eq.range,
                    eq.prose_start,
                    eq.prose_end,
                )
        return ReferenceMatch(info.kind, info.number, s, info.range, 0, 0)
    # a section by its title: "the introduction", "Related Work section"
    t = re.sub(r"^(?:the\s+)", "", s, flags=re.I)
    t = re.sub(r"\s+(?:section|chapter|part)$", "", t, flags=re.I)
    t = re.sub(r"^(?:section|chapter)\s+", "", t, flags=re.I)
    nodes = [n for n in structure.root.walk() if n.kind not in ("document",) and n.title]
    if not nodes or not t:
        return None
    hit = process.extractOne(
        t.lower(), [n.title.lower() for n in nodes], scorer=fuzz.WRatio, score_cutoff=88
    )
    if hit is None:
        return None
    return _node_match(nodes[hit[2]])


def _node_match(node: SectionNode) -> ReferenceMatch | None:
    if node.range is None:
        return None
    return ReferenceMatch(
        node.kind, node.number, node.display_name(), node.range, node.prose_start, node.prose_end
    )


def _float_to_match(fl: FloatInfo) -> ReferenceMatch:
    word = fl.kind.capitalize()
    return ReferenceMatch(
        fl.kind,
        fl.number,
        f"{word} {fl.number}: {fl.caption}",
        fl.range,
        fl.prose_start,
        fl.prose_end,
    )


def _float_match(structure: Structure, kind: str, number: str) -> ReferenceMatch | None:
    for fl in structure.floats:
        if fl.kind == kind and fl.number == number:
            return _float_to_match(fl)
    return None
