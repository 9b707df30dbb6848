"""How the parser reads commands and environments. Commands come from the one table in
`project/commands.py`; environments, which have no renderer actions of their own beyond their
kind, are listed here."""

from __future__ import annotations

from papercycle.latex.commands import COMMANDS, named


def words(s: str) -> list[str]:
    """Whitespace-separated names (keeps the long name lists readable)."""
    return s.split()


# Views of the command table the parser and the project level read.
MACRO_SPECS: dict[str, str] = {c.name: c.args for c in COMMANDS.values() if c.args is not None}
SECTION_LEVELS: dict[str, int] = {
    c.name: c.value for c in COMMANDS.values() if c.action == "section"
}
CITE_COMMANDS: dict[str, str] = {c.name: c.value for c in COMMANDS.values() if c.action == "cite"}
CITE_MACROS = frozenset(CITE_COMMANDS)
REF_MACROS = named("ref")
INCLUDE_MACROS = named("include")
BIB_MACROS = frozenset(c.name for c in COMMANDS.values() if c.bib)
DEF_MACROS = frozenset(c.name for c in COMMANDS.values() if c.defines)
RECORDED = frozenset(c.name for c in COMMANDS.values() if c.recorded)

ENV_SPECS: dict[str, str] = {
    "figure": "[",
    "figure*": "[",
    "table": "[",
    "table*": "[",
    "tabular": "[{",
    "tabular*": "{[{",
    "tabularx": "{[{",
    "tabulary": "{[{",
    "longtable": "[{",
    "array": "[{",
    "minipage": "[[[{",
    "subfigure": "[{",
    "subtable": "[{",
    "wrapfigure": "[{[{",
    "wraptable": "[{[{",
    "thebibliography": "{",
    "multicols": "{[",
    "algorithm": "[",
    "itemize": "[",
    "enumerate": "[",
    "description": "[",
    "lstlisting": "[",
    "minted": "[{",
    "filecontents": "[{",
    "filecontents*": "[{",
    "Verbatim": "[",
    "BVerbatim": "[",
    "abstract": "",
    "document": "",
    "center": "",
    "flushleft": "",
    "flushright": "",
    "quote": "",
    "quotation": "",
    "proof": "[",
    "tikzpicture": "[",
}
DEFAULT_ENV_SPEC = "["  # theorem-like environments take an optional title

RAW_ENVS = frozenset(
    words("""verbatim verbatim* Verbatim Verbatim* BVerbatim LVerbatim lstlisting minted comment
    filecontents filecontents* alltt""")
)
MATH_ENVS = frozenset(
    words("""equation equation* align align* alignat alignat* flalign flalign* gather gather*
    multline multline* eqnarray eqnarray* displaymath math dmath dmath* darray""")
)
# Macros the parser records as it goes, for the project level (include graph, definitions,
