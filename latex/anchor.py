"""Anchoring: a reviewer's quote, or a reference like "Section 4" / "Table 2" / "Eq. (5)" /
"the abstract", to a source range.

Quotes are matched on a normalized copy of the visible text (case, whitespace, quote and dash
forms folded; LaTeX markup in the quote rendered away first), exactly when possible and
otherwise with rapidfuzz's partial_ratio_alignment over overlapping windows.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from papercycle.latex.positions import Range
from papercycle.latex.source_map import VisibleText
from papercycle.latex.structure import FloatInfo, SectionNode, Structure
from rapidfuzz import fuzz, process

DEFAULT_MIN_SCORE = 0.8
MAX_FUZZY_QUOTE = 1000  # characters; longer quotes are matched exactly or not at all

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


_ONE_TO_ONE = {k: v for k, v in _FOLD.items() if len(v) == 1}
_MULTI = re.compile("[" + "".join(chr(k) for k, v in _FOLD.items() if len(v) != 1) + "]")
_WS = [c for c in range(0x3001) if chr(c).isspace()]


class NormalizedText:
    """Folded text (lower case, one space for any whitespace run, quote and dash forms unified)
    plus, for each of its characters, the offset in the original."""

    __slots__ = ("index", "text")

    def __init__(self, original: str) -> None:
        folded = original.translate(_ONE_TO_ONE).lower()
        if len(folded) == len(original) and not _MULTI.search(original):
            self._fast(folded)
        else:
            self._slow(original)

    def _fast(self, folded: str) -> None:
        # every character maps to itself; only whitespace runs shrink to one space. Vectorised
        # with numpy: a Python loop over a 300 KB paper takes ~45 ms, this ~3 ms.
        import numpy as np  # imported on first use: `papercycle project` starts faster

        arr = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        ws = np.isin(arr, np.array(_WS, dtype=np.uint32))
        prev_ws = np.empty_like(ws)
        if len(ws):
            prev_ws[0] = True  # no leading space
            prev_ws[1:] = ws[:-1]
        keep = ~ws | ~prev_ws
        index = np.flatnonzero(keep)
        kept = np.where(ws[index], np.uint32(32), arr[index])
        if len(kept) and kept[-1] == 32:
            kept = kept[:-1]
            index = index[:-1]
        self.text = kept.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
        self.index = index

    def _slow(self, original: str) -> None:
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
            folded = ch.translate(_FOLD).lower()
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
        n = len(self.index)
        if b <= a:
            o = int(self.index[a]) if a < n else (int(self.index[-1]) + 1 if n else 0)
            return o, o
        return int(self.index[a]), int(self.index[b - 1]) + 1


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
    normalized: NormalizedText | Callable[[], NormalizedText] | None = None,
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
    norm = normalized() if callable(normalized) else (normalized or NormalizedText(text))
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
        # 3. fuzzy (a reviewer quotes a sentence or a paragraph, not pages)
        if len(nq) > MAX_FUZZY_QUOTE:
            continue
        m = _fuzzy(norm, nq, min_score)
        if m is not None and (best is None or m[2] > best[2]):
            best = m
    if best is None or best[2] < min_score:
        return None
    a, b, score = best
    return _make(visible, a, b, score, False)


_WORD = re.compile(r"\w{4,}")
MAX_WORD_HITS = 400


def _candidate_windows(hay: str, nq: str) -> list[tuple[int, str]]:
    """Windows of the text likely to hold the quote: the quote's rarest words vote for where
    they occur. Empty when the quote has no usable rare word (then every window is scored)."""
    words = set(_WORD.findall(nq))
    hits: list[list[int]] = []
    for w in words:
        pos: list[int] = []
        p = hay.find(w)
        while p >= 0 and len(pos) <= MAX_WORD_HITS:
            pos.append(p)
            p = hay.find(w, p + 1)
        if 0 < len(pos) <= MAX_WORD_HITS:
            hits.append(pos)
    if not hits:
        return []
    hits.sort(key=len)
    size = max(len(nq), 40)
    votes: dict[int, int] = {}
    for pos in hits[:8]:
        for b in {p // size for p in pos}:
            for bb in (b - 1, b, b + 1):
                votes[bb] = votes.get(bb, 0) + 1
    best = sorted(votes.items(), key=lambda kv: -kv[1])[:6]
    out = []
    for b, _ in best:
        start = max(0, (b - 1) * size)
        out.append((start, hay[start : start + 3 * size]))
    return out


def _all_windows(hay: str, nq: str) -> list[tuple[int, str]]:
    size = max(3 * len(nq), 240)
    step = max(size - len(nq) - 1, 1)
    starts = list(range(0, max(len(hay) - len(nq), 0) + 1, step)) or [0]
    return [(s, hay[s : s + size]) for s in starts]


def _align(hay: str, nq: str, cands: list[tuple[int, str]]) -> tuple[int, int, float] | None:
    """Best alignment of the quote in the candidate windows, snapped to word boundaries, in
    coordinates of `hay`, with a 0..1 score."""
    windows = [w for _, w in cands]
    hit = process.extractOne(nq, windows, scorer=fuzz.partial_ratio, score_cutoff=50)
    if hit is None:
        return None
    base, window = cands[hit[2]]
    al = fuzz.partial_ratio_alignment(nq, window)
    if al is None:
        return None
    s, e = base + al.dest_start, base + al.dest_end
    while s > 0 and hay[s - 1] != " " and s > base:
        s -= 1
    while e < len(hay) and hay[e] != " " and hay[e - 1] != " ":
        e += 1
    while s < e and hay[s] == " ":
        s += 1
    while e > s and hay[e - 1] == " ":
        e -= 1
    if e <= s:
        return None
    score = max(fuzz.ratio(nq, hay[s:e]) / 100, al.score / 100 * 0.98)
    return s, e, score


def _fuzzy(
    norm: NormalizedText, nq: str, min_score: float = DEFAULT_MIN_SCORE
) -> tuple[int, int, float] | None:
    hay = norm.text
    if len(nq) < 8:
        return None
    cands = _candidate_windows(hay, nq)
    best = _align(hay, nq, cands) if cands else None
    if best is None or best[2] < min_score:
        # the rare-word vote found nothing convincing: score every window (slower)
        full = _align(hay, nq, _all_windows(hay, nq))
        if full is not None and (best is None or full[2] > best[2]):
            best = full
    if best is None:
        return None
    a, b = norm.span(best[0], best[1])
    return a, b, best[2]


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
        re.compile(r"^(?:equations?|eqs?\.?|eqn\.?)?\s*\(?\s*(\d+(?:\.\d+)?[a-z]?)\s*\)?$", re.I),
    ),
]


_NAMED_OBJECT = re.compile(r"^([A-Za-z]+\.?)\s*(\d+(?:\.\d+)*)$")
_ABBREV = {
    "thm": "theorem",
    "lem": "lemma",
    "prop": "proposition",
    "cor": "corollary",
    "def": "definition",
    "defn": "definition",
    "rem": "remark",
    "ex": "example",
    "conj": "conjecture",
    "assum": "assumption",
}


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
    m = _NAMED_OBJECT.match(s)
    if m:
        word = _ABBREV.get(m.group(1).lower().rstrip("."), m.group(1).lower().rstrip("."))
        for fl in structure.floats:
            if fl.kind == word and fl.number == m.group(2):
                return _float_to_match(fl)
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
