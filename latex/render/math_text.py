"""Math as text: display and inline math compacted to one line of source, and the numbering
of a display-math block (which rows get a number, their tags and labels)."""

from __future__ import annotations

import functools
import re

from papercycle.latex.document import words

_MATH_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")
_MATH_DROP = re.compile(r"\\(?:label\s*\{[^{}]*\}|nonumber\b|notag\b)|%[^\n]*")
MATH_WS = re.compile(r"\s+")
_MATH_TAG = re.compile(r"\\tag\*?\s*\{([^{}]*)\}")
_MATH_BEGIN_END = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}")
_MATH_ROW = re.compile(r"\\\\")
_NUMBERED_MULTIROW = frozenset(words("align alignat flalign gather eqnarray"))


@functools.lru_cache(maxsize=4096)
def compact_math(src: str) -> str:
    return MATH_WS.sub(" ", _MATH_DROP.sub("", src)).strip()


def _blank_nested_envs(body: str) -> str:
    """Spaces over nested environments (split, aligned, cases, matrices): their `\\\\` do
    not start numbered rows. One linear scan."""
    spans: list[tuple[int, int]] = []
    stack: list[int] = []
    for m in _MATH_BEGIN_END.finditer(body):
        if m.group(1) == "begin":
            stack.append(m.start())
        elif stack:
            start = stack.pop()
            if not stack:
                spans.append((start, m.end()))
    if not spans:
        return body
    out, pos = [], 0
    for a, b in spans:
        out.append(body[pos:a])
        out.append(" " * (b - a))
        pos = b
    out.append(body[pos:])
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def equation_rows(env: str | None, body: str) -> list[tuple[bool, str | None, list[str]]]:
    """Numbering of a display-math block: one (numbered, tag, labels) per numbered line."""
    if env is None:
        return []
    base = env.rstrip("*")
    starred = env.endswith("*") or env in ("displaymath", "math")
    if base in _NUMBERED_MULTIROW:
        flat = _blank_nested_envs(body)
        rows = []
        pos = 0
        pieces = []
        for m in _MATH_ROW.finditer(flat):
            pieces.append((pos, m.start()))
            pos = m.end()
        pieces.append((pos, len(flat)))
        for i, (a, b) in enumerate(pieces):
            row = body[a:b]
            if i == len(pieces) - 1 and not compact_math(row) and len(pieces) > 1:
                continue  # a trailing \\ does not open a row
            labels = _MATH_LABEL.findall(row)
            tag = _MATH_TAG.search(row)
            numbered = not starred and not re.search(r"\\(?:nonumber|notag)\b", row)
            if tag:
                rows.append((True, tag.group(1), labels))
            elif numbered:
                rows.append((True, None, labels))
            elif labels:
                rows.append((False, None, labels))
        return rows
    if base in ("equation", "multline", "dmath"):
        labels = _MATH_LABEL.findall(body)
        tag = _MATH_TAG.search(body)
        if tag:
            return [(True, tag.group(1), labels)]
        if starred or re.search(r"\\(?:nonumber|notag)\b", body):
            return [(False, None, labels)] if labels else []
        return [(True, None, labels)]
    return []
