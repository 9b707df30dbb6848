r"""Citations in drafted text: keep the keys the project's bibliography holds, never let an
invented one through silently.

A model drafting from a `.bib` may still write `\cite{smith2020}` for a paper the user never
listed. `check_citations(text, known)` finds every citation command (`\cite`, `\citep`,
`\citet`, `\citealp`, `\autocite`, `\parencite`, `\textcite`, ... with optional arguments and
starred forms) and, per key that is not in `known`:

- `mode="remove"` (default): the key leaves the command; a command left without keys is
  removed with the space before it;
- `mode="mark"`: the key leaves the command and a visible `\papercyclemissingcite{key}` is put
  in its place (rendered as a red "[?key]" by the macro `PREAMBLE` defines), so the author
  sees where the model wanted a reference and can add the entry.

The report lists kept, removed and marked keys; the text it returns contains no citation key
outside `known`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# \cite-like commands: natbib, biblatex and plain LaTeX.
CITE_RE = re.compile(
    r"\\(?P<cmd>(?:[Cc]ite[a-zA-Z]*|[Pp]arencite|[Tt]extcite|[Aa]utocite|[Ff]ootcite"
    r"|[Ss]martcite|[Ss]upercite|nocite|fullcite|footfullcite))"
    r"(?P<star>\*?)(?P<opts>(?:\s*\[[^\]\n]*\]){0,2})\s*\{(?P<keys>[^{}\n]*)\}"
)
MISSING_MACRO = "papercyclemissingcite"
PREAMBLE = (
    r"\providecommand{\papercyclemissingcite}[1]"
    r"{\ifdefined\textcolor\textcolor{red}{[?#1]}\else[?#1]\fi}"
)
MODES = ("remove", "mark")


@dataclass
class CitationReport:
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)

    @property
    def invented(self) -> list[str]:
        return [*self.removed, *self.marked]

    def to_dict(self) -> dict[str, list[str]]:
        return {"kept": self.kept, "removed": self.removed, "marked": self.marked}


def cited_keys(text: str) -> list[str]:
    """Every key cited in `text`, in order (repeats kept)."""
    out = []
    for m in CITE_RE.finditer(text):
        out += [k.strip() for k in m.group("keys").split(",") if k.strip()]
    return out


def check_citations(
    text: str, known: Iterable[str], mode: str = "remove"
) -> tuple[str, CitationReport]:
    """`text` with every key not in `known` removed or marked, and the report."""
    if mode not in MODES:
        raise ValueError(f"citation mode {mode!r} is not one of {MODES}")
    known = set(known)
    report = CitationReport()
    pieces: list[str] = []
    last = 0
    for m in CITE_RE.finditer(text):
        keys = [k.strip() for k in m.group("keys").split(",") if k.strip()]
        good = [k for k in keys if k in known]
        bad = [k for k in keys if k not in known]
        for k in good:
            if k not in report.kept:
                report.kept.append(k)
        if not bad:
            continue
        start = m.start()
        replacement = ""
        if good:
            replacement = (
                f"\\{m.group('cmd')}{m.group('star')}{m.group('opts')}{{{','.join(good)}}}"
            )
        elif mode == "remove":
            # Drop the command and the space that separated it from the previous word.
            while start > last and text[start - 1] in " \t~":
                start -= 1
        if mode == "mark":
            replacement += "".join(f"\\{MISSING_MACRO}{{{_safe(k)}}}" for k in bad)
            report.marked += [k for k in bad if k not in report.marked]
        else:
            report.removed += [k for k in bad if k not in report.removed]
        pieces += [text[last:start], replacement]
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces), report


def _safe(key: str) -> str:
    """A key as visible text: no characters TeX would read as commands."""
    return re.sub(r"[^A-Za-z0-9:._/-]", "", key) or "key"


def citation_grammar_rule(keys: Iterable[str]) -> str:
    """GBNF alternatives of `\\cite{key}` over the known keys (for constrained drafting)."""
    alts = [f'"\\\\cite{{{_gbnf_escape(k)}}}"' for k in sorted(set(keys))]
    return " | ".join(alts)


def _gbnf_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
