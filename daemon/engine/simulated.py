r"""Simulated results are labelled, always.

A researcher model writes experiment results it never measured (CycleResearcher's authors say
so; their licence requires labelling them). Every such text that papercycle drafts carries
visible markers until the author replaces it:

- the block is framed by `% papercycle: simulated` comment lines and opens with a highlighted
  banner, `\papercyclesimulated{Simulated results: ...}`;
- every number the model wrote in it is wrapped, `\papercyclesimulated{93.4}`;
- the macro is defined where it is used (`DEFINITION`: a yellow `\colorbox` when a colour
  package is loaded, an `\fbox` otherwise; `\protected`, so it survives captions), so the
  draft compiles in any document and the project model sees a visible box, not hidden text.

`mark_block` frames and wraps a results text; `mark_numbers` wraps only the numbers that are
not in an allowed set (numbers the paper or its bibliography already hold), for drafts of
other sections that invent a figure. `unmarked_numbers` is the guard every path to a file runs
(`ensure_marked` raises when a number escaped), and `find_markers` (the project model's
`simulated_markers`, which the language server reads too) is what `papercycle check` and the
review results report, one Error diagnostic per marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from papercycle.latex.simulated_markers import (
    COMMENT_MARK,
    MACRO,
    MACRO_USE,
    Marker,
    find_markers,
    project_markers,
)

COMMENT = "% papercycle: simulated"
DEFINITION = (
    r"\ifdefined\papercyclesimulated\else\protected\def\papercyclesimulated#1"
    r"{\ifdefined\colorbox\colorbox{yellow}{#1}\else\fbox{#1}\fi}\fi"
)
# Short: a \colorbox does not break lines.
BANNER = r"\papercyclesimulated{\textbf{Simulated results: written by a model, not measured}}"
BEGIN = f"{COMMENT} -- begin: invented by a model; replace with measured results"
END = f"{COMMENT} -- end"

# Section titles whose drafted text is results (wrapped as a block).
RESULTS_TITLE = re.compile(
    r"experiment|result|evaluation|ablation|analys|benchmark|empirical|finding", re.I
)

NUMBER = re.compile(r"(?<![A-Za-z0-9_.@:])[-+]?\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
_UNIT = re.compile(
    r"\s*(?:pt|em|ex|cm|mm|in|bp|sp|pc|mu|\\(?:line|text|column)width|\\hsize|\\baselineskip)",
)
# Spans whose numbers are LaTeX syntax, not claims.
_PROTECTED = re.compile(
    r"(?<!\\)%[^\n]*"  # comments
    r"|\\" + MACRO + r"\{(?:[^{}]|\{[^{}]*\})*\}"  # already marked
    r"|\\(?:label|ref|eqref|autoref|cref|Cref|pageref|nameref|cite[a-zA-Z]*|[Pp]arencite"
    r"|[Tt]extcite|input|include|includegraphics|url|href|vspace|hspace|setlength"
    r"|addtolength|multicolumn|multirow|cline|cmidrule|fontsize|rule|resizebox|scalebox"
    r"|definecolor|color|textcolor|colorbox|usepackage|documentclass|bibliography"
    r"|bibliographystyle|arraystretch|setcounter|addtocounter|papercyclemissingcite"
    r")(?![A-Za-z])\*?"
    r"(?:\s*\[[^\]]*\])*(?:\s*\{[^{}]*\})?"
    r"|\\begin\s*\{[^{}]*\}(?:\s*\[[^\]]*\])?(?:\s*\{[^{}]*\}){0,2}"
    r"|\\end\s*\{[^{}]*\}"
    r"|\\[A-Za-z]+\*?\s*\[[^\]]*\]"  # optional arguments: [t], [width=0.5\linewidth]
    r"|\\(?:ifdefined|protected|def)[^\n]*",  # the macro's own definition line
    re.M,
)


def _protected_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _PROTECTED.finditer(text)]


def _claim_numbers(text: str) -> list[re.Match]:
    """Numbers in `text` that are claims: not in commands' arguments, comments, lengths, or
    markers already there."""
    spans = _protected_spans(text)
    out = []
    i = 0
    for m in NUMBER.finditer(text):
        while i < len(spans) and spans[i][1] <= m.start():
            i += 1
        if i < len(spans) and spans[i][0] <= m.start() < spans[i][1]:
            continue
        if _UNIT.match(text, m.end()):
            continue
        out.append(m)
    return out


def _normal(number: str) -> str:
    return number.lstrip("+-").replace(",", "")


def mark_numbers(text: str, allowed: Iterable[str] = ()) -> tuple[str, int]:
    """Wrap every claim number not in `allowed`; (text, numbers wrapped)."""
    allowed_set = {_normal(a) for a in allowed}
    pieces, last, count = [], 0, 0
    for m in _claim_numbers(text):
        if _normal(m.group()) in allowed_set:
            continue
        pieces += [text[last : m.start()], f"\\{MACRO}{{{m.group()}}}"]
        last = m.end()
        count += 1
    pieces.append(text[last:])
    return "".join(pieces), count


def mark_block(text: str) -> tuple[str, int]:
    """A results text framed as simulated: begin comment, definition, banner, the text with
    every number wrapped, end comment. (text, markers in it)."""
    body, count = mark_numbers(text.strip("\n"))
    block = "\n".join([BEGIN, DEFINITION, BANNER, "", body, END]) + "\n"
    return block, count + 3  # the numbers, the banner and the two comments


def mark_draft(text: str, allowed: Iterable[str]) -> tuple[str, int]:
    """A non-results draft: numbers the paper does not hold are wrapped, and then the draft
    gets the comment and the definition so it compiles. (text, markers)."""
    body, count = mark_numbers(text, allowed)
    if not count:
        return text, 0
    head = f"{COMMENT} -- numbers not found in the paper are highlighted; check them\n"
    return head + DEFINITION + "\n" + body, count + 1


def is_results_title(title: str) -> bool:
    return bool(RESULTS_TITLE.search(title or ""))


def unmarked_numbers(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """Claim numbers of `text` that carry no marker (and are not allowed)."""
    allowed_set = {_normal(a) for a in allowed}
    return [m.group() for m in _claim_numbers(text) if _normal(m.group()) not in allowed_set]


class UnmarkedSimulation(RuntimeError):
    """A simulated text is about to reach a file without its markers (a bug: never shipped)."""


def ensure_marked(text: str, allowed: Iterable[str] = (), *, block: bool = True) -> None:
    """The last check on every path to a file: raise when a number escaped its marker, or a
    results block lost its frame."""
    escaped = unmarked_numbers(text, allowed)
    if escaped:
        raise UnmarkedSimulation(f"simulated numbers without a marker: {escaped[:5]}")
    if block and not (COMMENT_MARK.search(text) and MACRO_USE.search(text)):
        raise UnmarkedSimulation("a simulated results text without its markers")


def scan_paths(paths: Iterable[Path]) -> list[Marker]:
    out = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        out += find_markers(text, str(path))
    return out


def findings(project) -> list[dict]:
    """Markers as review findings (`simulated` next to `hidden`), Error severity."""
    from papercycle.latex.positions import Range

    out = []
    for marker in project_markers(project):
        end = marker.offset + len(marker.text)
        out.append(
            {
                "method": f"simulated-{marker.kind}",
                "detail": "simulated result: replace it with a measured one, then remove "
                "the marker",
                "text": marker.text,
                "severity": "error",
                "range": project.range_dict(Range(Path(marker.path), marker.offset, end)),
            }
        )
    return out
