"""Hidden text: what a reader of the PDF cannot see but a model reading the source would.

The renderer in `prose.py` asks this module whether a color is invisible on its background,
whether a font size is too small to read, and where zero-width / bidi control characters
are; findings are collected there (each with its source range) and never reach the model's
input. `injection_matches` flags instruction-like content aimed at an AI reviewer.

Written by hand: xcolor's color models and mixing syntax (`red!20!white`) are small and no
maintained Python library parses LaTeX color specifications.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from papercycle.daemon.project.positions import Range

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

# Zero-width and bidirectional control characters (Unicode general category Cf, the ones used to
# hide or reorder text). U+FEFF is reported except as the first character of a file (BOM).
CONTROL_CHARS = re.compile(
    "[\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u180e\u061c]+"
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


# -- injected instructions -------------------------------------------------------------------

_INJECTION_PATTERNS = [
    r"\bignore\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|preceding|other)\s+(?:instructions|prompts|directions|rules)",
    r"\bdisregard\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier)\s+(?:instructions|prompts)",
    r"\bforget\s+(?:all\s+|your\s+)?(?:previous|prior)\s+instructions",
    r"\bgive\s+(?:a\s+|an\s+|only\s+)?(?:very\s+|highly\s+|strongly\s+)?positive\s+review",
    r"\bpositive\s+review\s+only\b",
    r"\bdo\s+not\s+(?:highlight|mention|point\s+out|discuss)\s+(?:any\s+)?(?:negatives|weaknesses|flaws|limitations)",
    r"\bas\s+an?\s+(?:large\s+)?language\s+model\b",
    r"\bas\s+an?\s+ai\b(?:\s+(?:reviewer|assistant|model))?",
    r"\brecommend\s+(?:accepting|acceptance\s+of|to\s+accept)\s+(?:this|the)\s+(?:paper|submission|manuscript)",
    r"\b(?:you\s+should|you\s+must|please)\s+(?:recommend|accept|rate|score)\b",
    r"\bnote\s+(?:to|for)\s+(?:the\s+)?(?:ai|llm|language\s+model|automated)\s+reviewers?\b",
    r"\b(?:for|to)\s+(?:ai|llm)\s+reviewers?\b",
    r"\binclude\s+both\s+the\s+phrases\b",
    r"\bin\s+your\s+review\b",
    r"\byou\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|reviewer)\b",
    r"\bnew\s+instructions?\s*:",
    r"\bsystem\s+prompt\b",
    r"\b(?:rate|score)\s+this\s+paper\s+(?:as\s+)?(?:highly|\d)",
]
_INJECTION = re.compile("|".join(f"(?:{p})" for p in _INJECTION_PATTERNS), re.I)
# Phrases that are instructions to a model wherever they appear, visible or not; every one of
# them contains one of _STRONG_KEYS.
_STRONG_KEYS = ("ignore", "disregard", "forget", "positive", "reviewer", "phrases")
_STRONG = re.compile(
    "|".join(f"(?:{p})" for p in _INJECTION_PATTERNS[:5] + _INJECTION_PATTERNS[10:13]), re.I
)


def injection_matches(text: str, strong_only: bool = False) -> list[tuple[int, int]]:
    """Spans of instruction-like phrases aimed at an AI reviewer. `strong_only` keeps the
    phrases that are instructions anywhere (checked on visible text too)."""
    if strong_only:
        low = text.lower()
        if not any(k in low for k in _STRONG_KEYS):  # cheap test first: most text has none
            return []
        return [m.span() for m in _STRONG.finditer(text)]
    return [m.span() for m in _INJECTION.finditer(text)]


def looks_like_injection(text: str) -> bool:
    return _INJECTION.search(text) is not None


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
