"""Accents and text symbols (`\\'e`, `\\L`, `\\ldots`) as Unicode, via pylatexenc's latex2text:
one cached call per distinct macro snippet."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4096)
def symbol_text(snippet: str) -> str:
    """Unicode for an accent or text-symbol macro, via pylatexenc's latex2text."""
    try:
        from pylatexenc.latex2text import LatexNodes2Text

        return _l2t(LatexNodes2Text).latex_to_text(snippet)
    except Exception:  # pylatexenc raises on some malformed snippets; the text is then dropped
        return ""


@functools.lru_cache(maxsize=1)
def _l2t(cls):
    return cls(math_mode="verbatim", strict_latex_spaces=True)


@functools.lru_cache(maxsize=1)
def symbol_macros() -> frozenset[str]:
    """Macros pylatexenc renders to a fixed text (\\ldots, \\ss, \\L, \\textasciitilde, ...)."""
    try:
        from pylatexenc import latex2text

        db = latex2text.get_default_latex_context_db()
        names = set()
        for spec in db.iter_macro_specs():
            repl = getattr(spec, "simplify_repl", None)
            if isinstance(repl, str) and "%" not in repl and repl.strip():
                names.add(spec.macroname)
        return frozenset(names)
    except Exception:
        return frozenset()
