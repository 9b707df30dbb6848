"""Hidden text: what a reader of the PDF cannot see but a model reading the source would.

The renderer in `prose.py` asks this module whether a color is invisible on its background,
whether a font size is too small to read, and where zero-width / bidi control characters
are; findings are collected there (each with its source range) and never reach the model's
input. `injection.py` flags instruction-like content aimed at an AI reviewer.

Written by hand: xcolor's color models and mixing syntax (`red!20!white`) are small and no
maintained Python library parses LaTeX color specifications.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from papercycle.latex.diagnostics import Severity
from papercycle.latex.positions import Range

RGB = tuple[float, float, float]

WHITE: RGB = (1.0, 1.0, 1.0)
BLACK: RGB = (0.0, 0.0, 0.0)

# xcolor's base names plus the dvipsnames most used for "white-ish" tricks.
NAMED_COLORS: dict[str, RGB] = {
    "white": WHITE,
    "black": BLACK,
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "gray": (0.5, 0.5, 0.5),
    "darkgray": (0.25, 0.25, 0.25),
    "lightgray": (0.75, 0.75, 0.75),
    "brown": (0.75, 0.5, 0.25),
    "lime": (0.75, 1.0, 0.0),
    "olive": (0.5, 0.5, 0.0),
    "orange": (1.0, 0.5, 0.0),
    "pink": (1.0, 0.75, 0.75),
    "purple": (0.75, 0.0, 0.25),
    "teal": (0.0, 0.5, 0.5),
    "violet": (0.5, 0.0, 0.5),
    "snow": (1.0, 0.98, 0.98),
    "ivory": (1.0, 1.0, 0.94),
    "ghostwhite": (0.97, 0.97, 1.0),
    "whitesmoke": (0.96, 0.96, 0.96),
}

# Text whose color is within this distance (max over channels) of its background is invisible.
INVISIBLE_DISTANCE = 0.06
TINY_FONT_PT = 1.0

_UNITS_PT = {
    "pt": 1.0,
    "bp": 72.27 / 72,
    "mm": 72.27 / 25.4,
    "cm": 72.27 / 2.54,
    "in": 72.27,
    "pc": 12.0,
    "dd": 1238 / 1157,
    "cc": 12 * 1238 / 1157,
    "sp": 1 / 65536,
    "px": 1.0,
    "em": 10.0,
    "ex": 4.3,
}
_DIMEN = re.compile(r"^\s*([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([a-zA-Z]{2})?\s*$")


def parse_dimension_pt(spec: str) -> float | None:
    """`0.1pt` -> 0.1; `1mm` -> 2.845; a bare number is read as pt. None when unreadable."""
    m = _DIMEN.match(spec)
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    unit = (m.group(2) or "pt").lower()
    factor = _UNITS_PT.get(unit)
    return None if factor is None else value * factor


def _clamp(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def parse_color_model(model: str, spec: str) -> RGB | None:
    """Color in an explicit xcolor model, e.g. ("rgb", "1,1,1"), ("HTML", "FFFFFF")."""
    model = model.strip()
    spec = spec.strip()
    try:
        if model == "HTML":
            h = spec.lstrip("#")
            if len(h) != 6:
                return None
            return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)
        parts = [float(p) for p in re.split(r"[,\s]+", spec) if p]
        if model == "rgb" and len(parts) == 3:
            r, g, b = (_clamp(p) for p in parts)
            return (r, g, b)
        if model == "RGB" and len(parts) == 3:
            r, g, b = (_clamp(p / 255) for p in parts)
            return (r, g, b)
        if model == "gray" and len(parts) == 1:
            v = _clamp(parts[0])
            return (v, v, v)
        if model == "Gray" and len(parts) == 1:
            v = _clamp(parts[0] / 15)
            return (v, v, v)
        if model == "cmyk" and len(parts) == 4:
            c, m, y, k = (_clamp(p) for p in parts)
            return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
        if model == "cmy" and len(parts) == 3:
            c, m, y = (_clamp(p) for p in parts)
            return (1 - c, 1 - m, 1 - y)
    except ValueError:
        return None
    return None


def parse_color_expr(expr: str, defined: dict[str, RGB]) -> RGB | None:
    """An xcolor expression: a name, or a mix `red!30!white`, `white!90`, `-red` (complement).
    None when unknown."""
    expr = expr.strip()
    if not expr:
        return None
    complement = False
    if expr.startswith("-"):
        complement = True
        expr = expr.lstrip("-")
    parts = expr.split("!")

    def lookup(name: str) -> RGB | None:
        name = name.strip()
        if name in defined:
            return defined[name]
        return NAMED_COLORS.get(name)

    color = lookup(parts[0])
    if color is None:
        return None
    i = 1
    while i < len(parts):
        try:
            pct = float(parts[i]) / 100
        except ValueError:
            return None
        pct = _clamp(pct)
        other = lookup(parts[i + 1]) if i + 1 < len(parts) else WHITE
        if other is None:
            return None
        color = tuple(pct * a + (1 - pct) * b for a, b in zip(color, other, strict=True))  # type: ignore[assignment]
        i += 2
    if complement:
        color = tuple(1 - c for c in color)  # type: ignore[assignment]
    return color


def resolve_color(model: str | None, spec: str, defined: dict[str, RGB]) -> RGB | None:
    if model:
        # \color[rgb]{1,1,1}; a model list like "rgb/cmyk" takes the first
        return parse_color_model(model.split("/")[0].split(":")[0], spec)
    return parse_color_expr(spec, defined)


def invisible_on(fg: RGB, bg: RGB) -> bool:
    return max(abs(a - b) for a, b in zip(fg, bg, strict=True)) <= INVISIBLE_DISTANCE


# -- control characters ----------------------------------------------------------------------

# Invisible format characters (Unicode category Cf and the fillers that render as nothing):
# zero-width, bidi embeddings/overrides/isolates, Unicode tag characters U+E0000-E007F (each
# carries one ASCII character invisibly: a whole instruction fits in them), the deprecated
# format controls, interlinear annotation marks and the supplementary variation selectors used
# to smuggle bytes. U+FEFF is reported except as the first character of a file (BOM).
CONTROL_CHARS = re.compile(
    "[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\u180e\u061c\u034f\u115f\u1160"
    "\u3164\uffa0\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0000-\U000e007f"
    "\U000e0100-\U000e01ef]+"
)

CONTROL_NAMES = {
    "\u200b": "ZERO WIDTH SPACE",
    "\u200c": "ZERO WIDTH NON-JOINER",
    "\u200d": "ZERO WIDTH JOINER",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u202a": "LEFT-TO-RIGHT EMBEDDING",
    "\u202b": "RIGHT-TO-LEFT EMBEDDING",
    "\u202c": "POP DIRECTIONAL FORMATTING",
    "\u202d": "LEFT-TO-RIGHT OVERRIDE",
    "\u202e": "RIGHT-TO-LEFT OVERRIDE",
    "\u2060": "WORD JOINER",
    "\u2061": "FUNCTION APPLICATION",
    "\u2062": "INVISIBLE TIMES",
    "\u2063": "INVISIBLE SEPARATOR",
    "\u2064": "INVISIBLE PLUS",
    "\u2066": "LEFT-TO-RIGHT ISOLATE",
    "\u2067": "RIGHT-TO-LEFT ISOLATE",
    "\u2068": "FIRST STRONG ISOLATE",
    "\u2069": "POP DIRECTIONAL ISOLATE",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
    "\u180e": "MONGOLIAN VOWEL SEPARATOR",
    "\u061c": "ARABIC LETTER MARK",
}
_TAGS = range(0xE0000, 0xE0080)
_VARIATION_SELECTORS = range(0xE0100, 0xE01F0)


def describe_controls(chars: str) -> tuple[str, str]:
    """(detail, hidden text) for a run of invisible characters. Tag characters spell ASCII
    (U+E0041 is "A"): their decoded text is what a model reading the source receives."""
    names: set[str] = set()
    decoded = []
    for c in chars:
        code = ord(c)
        if code in _TAGS:
            names.add("Unicode tag characters")
            if 0xE0020 <= code <= 0xE007E:
                decoded.append(chr(code - 0xE0000))
        elif code in _VARIATION_SELECTORS:
            names.add("variation selectors")
        else:
            names.add(CONTROL_NAMES.get(c) or unicodedata.name(c, f"U+{code:04X}"))
    return "invisible control characters: " + ", ".join(sorted(names)), "".join(decoded)


# -- TikZ ------------------------------------------------------------------------------------

# `\\node ...` or a path's `node[...] {...}` (not `every node/.style`)
_TIKZ_NODE = re.compile(r"\\node\b|(?<![\\\w])node\b(?=\s*[\[({]|\s+at\b)")
_TIKZ_OPACITY = re.compile(
    r"\b(text\s+opacity|fill\s+opacity|draw\s+opacity|opacity)\s*=\s*\{?\s*([0-9]*\.?[0-9]+)"
    r"|\b(transparent)\b(?!\s*=)"
)
_TIKZ_TEXT_COLOR = re.compile(r"\b(?:text|color)\s*=\s*\{?\s*([A-Za-z][\w!.-]*)")
INVISIBLE_OPACITY = 0.1


def _node_text_opacity(options: str) -> float:
    """TikZ: `text opacity` wins; otherwise the last of `opacity` and `fill opacity` (text is
    filled, so fill opacity applies to it); `transparent` is opacity 0."""
    text_opacity = None
    fill = 1.0
    for m in _TIKZ_OPACITY.finditer(options):
        if m.group(3):
            fill = 0.0
            continue
        value = float(m.group(2))
        key = m.group(1).split()[0]
        if key == "text":
            text_opacity = value
        elif key in ("opacity", "fill"):
            fill = value
    return fill if text_opacity is None else text_opacity


_TIKZ_SCOPE = re.compile(
    r"\\(begin|end)\s*\{(?:tikzpicture|scope)\}(\s*\[[^\]]*\])?|\\tikz\s*(\[[^\]]*\])"
)


def _scope_options(src: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """(start, end, options) of the pictures and scopes in src[start:end], outermost first:
    `\\begin{scope}[opacity=0]` hides every node inside it."""
    spans, stack = [], []
    for m in _TIKZ_SCOPE.finditer(src, start, end):
        if m.group(3) is not None:  # \tikz[...]: the rest of this inline picture
            spans.append((m.start(), end, m.group(3)))
        elif m.group(1) == "begin":
            stack.append((m.start(), m.group(2) or ""))
        elif stack:
            open_at, options = stack.pop()
            spans.append((open_at, m.end(), options))
    spans.extend((open_at, end, options) for open_at, options in stack)
    return sorted(spans)


def tikz_hidden_nodes(
    src: str, start: int, end: int, defined: dict[str, RGB], page: RGB
) -> list[tuple[int, int, str, str]]:
    """(start, end, detail, text) of TikZ nodes in src[start:end] whose text cannot be seen:
    opacity (or text/fill opacity) under 0.1, or a text color equal to the page."""
    found = []
    scopes = _scope_options(src, start, end)
    for m in _TIKZ_NODE.finditer(src, start, end):
        p, depth = m.end(), 0
        while p < end:  # the node's head: options, name, position, up to its text group
            c = src[p]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth <= 0 and c in "{;":
                break
            p += 1
        if p >= end or src[p] != "{":
            continue
        inherited = [o for s, e, o in scopes if s <= m.start() < e]
        head = ",".join([*inherited, src[m.end() : p]])
        q, depth = p, 0
        while q < end:
            if src[q] == "\\":
                q += 2
                continue
            depth += {"{": 1, "}": -1}.get(src[q], 0)
            q += 1
            if depth == 0:
                break
        text = " ".join(re.sub(r"\\[A-Za-z@]+\*?|[{}$]", " ", src[p + 1 : q - 1]).split())
        if not text:
            continue
        opacity = _node_text_opacity(head)
        color = next(
            (parse_color_expr(c.group(1), defined) for c in _TIKZ_TEXT_COLOR.finditer(head)),
            None,
        )
        if opacity < INVISIBLE_OPACITY:
            found.append((m.start(), q, f"TikZ node with text opacity {opacity:g}", text))
        elif color is not None and invisible_on(color, page):
            found.append((m.start(), q, "TikZ node text in the page color", text))
    return found


SOURCE_ONLY_METHODS = frozenset(["comment", "iffalse", "comment-environment"])
"""Findings only in the source (never typeset, never sent to a model): information level."""


@dataclass(frozen=True, slots=True)
class HiddenFinding:
    """Text a reader cannot see. `method` says how it is hidden ("white-text", "tiny-font",
    "phantom", "colorbox", "control-chars", "comment", "iffalse", ...); `text` is what a model
    reading the source would have read; `injection` is True when it reads like an instruction
    to an AI reviewer."""

    range: Range
    method: str
    detail: str
    text: str
    injection: bool

    def to_dict(self) -> dict:
        return {
            "range": self.range.to_dict(),
            "method": self.method,
            "detail": self.detail,
            "text": self.text,
            "injection": self.injection,
        }


def hidden_severity(finding: HiddenFinding) -> Severity:
    """Source-only text is information (the PDF and the model never hold it), an instruction
    to a model is an error, other text a reader cannot see a warning."""
    if finding.method in SOURCE_ONLY_METHODS:
        return Severity.INFORMATION
    return Severity.ERROR if finding.injection else Severity.WARNING
