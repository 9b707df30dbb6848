"""Per-file rendering: a parsed file -> the prose a reader sees, as pieces with a source map,
interleaved with structural events (headings, floats, captions, labels, equations, includes).

A file is rendered once per (content, definitions, entry state) and cached; `prose.py`
stitches the cached fragments of all files in include order, numbers sections, floats and
equations, and resolves `\\ref`. Hidden text (white, tiny, phantom, same color as its box,
zero-width and bidi controls) is kept out of the pieces and reported as findings.

Written by hand because no library renders LaTeX to text *with* a per-character source map
and hidden-text tracking; pylatexenc's latex2text renders accents and symbols (`\\'e`, `\\L`,
`\\ldots`) here, one cached call per distinct macro snippet.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from papercycle.daemon.project import hidden as hid
from papercycle.daemon.project.document import (
    CITE_COMMANDS,
    CITE_MACROS,
    INCLUDE_MACROS,
    REF_MACROS,
    SECTION_LEVELS,
    Arg,
    Comment,
    Document,
    Env,
    Group,
    Macro,
    Math,
    Node,
    Param,
    Text,
    Verbatim,
    words,
)
from papercycle.daemon.project.injection import injection_matches, looks_like_injection

# ---------------------------------------------------------------------------------------------
# Output pieces and events


class Piece:
    """Rendered text plus segments (out_start, out_end, src_start, src_end), offsets relative to
    the piece and to the file. A segment whose two lengths are equal maps character by
    character; otherwise the whole output span maps to the whole source span. A title or
    caption piece may hold `refs`: (offset in text, command, keys, start, end) for `\\ref`s
    whose text the assembler inserts once numbers are known."""

    __slots__ = ("refs", "segs", "text")

    def __init__(self, text: str, segs: list[list[int]], refs: list[tuple] | None = None) -> None:
        self.text = text
        self.segs = segs
        self.refs = refs or []


# Event kinds (tuples keep the fragment small and fast to walk):
# ("text", Piece)
# ("include", macro_start, macro_end, command, hidden_reason | None)
# ("heading", level, command, starred, start, end, title: Piece)
# ("label", key, start, end)
# ("ref", command, keys, start, end)
# ("float_begin", env_name, start, end) / ("float_end", end)
# ("caption", start, end, Piece)
# ("equation", start, end, math_text, rows: list[(numbered, tag, labels)])
# ("abstract_begin", start, end) / ("abstract_end", end)
# ("maketitle", start, end) / ("appendix", start, end)
# ("bibliography", command, start, end)
# ("bibitem", key, start, end)


@dataclass(slots=True)
class Citation:
    command: str
    keys: list[tuple[str, int, int]]  # (key, start, end) in the file
    start: int
    end: int
    every_entry: bool = False  # \nocite{*}


@dataclass(slots=True)
class RawFinding:
    start: int
    end: int
    method: str
    detail: str
    text: str


@dataclass(slots=True)
class Fragment:
    events: list[tuple]
    citations: list[Citation] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)


@dataclass(slots=True)
class MacroDef:
    name: str
    nargs: int
    default: str | None  # default of the optional first argument (raw source)
    body: list[Node]
    doc: Document
    start: int
    section_level: int | None = None  # defined via \@startsection


@dataclass(slots=True)
class RenderContext:
    """Project-wide definitions the rendering of every file depends on."""

    colors: dict[str, hid.RGB] = field(default_factory=dict)
    macros: dict[str, MacroDef] = field(default_factory=dict)
    # \newtheorem: environment -> (printed name, counter or None when unnumbered, within)
    theorems: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    # \newenvironment: name -> (begin code, end code)
    environments: dict[str, tuple[MacroDef, MacroDef]] = field(default_factory=dict)
    page_color: hid.RGB = hid.WHITE  # \pagecolor in the preamble
    signature: str = ""


# Macros whose arguments are never shown (their spec in document.py consumes them).
_SHOWN_ARG: dict[str, int] = {
    **dict.fromkeys(
        words("""emph textbf textit texttt textsc textsf textrm textsl textup textmd textnormal
        underline mbox text uline sout textsuperscript textsubscript"""),
        0,
    ),
    "footnotetext": 1,
    "multicolumn": 2,
    "hyperref": 1,
    "texorpdfstring": 0,
    "todo": 1,
    "multirow": 5,
    "marginpar": 1,
    "makebox": 2,
    "framebox": 2,
    "parbox": 4,
    "raisebox": 3,
    "rotatebox": 2,
    "href": 1,
}
_CONTROL_SYMBOLS = {
    "%": "%",
    "&": "&",
    "_": "_",
    "#": "#",
    "$": "$",
    "{": "{",
    "}": "}",
    " ": " ",
    "\n": " ",
    "\t": " ",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    "-": "",
    "/": "",
    "@": "",
    "\\": " ",
    "|": "‖",
}
_NAMED_TEXT = {
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "LaTeXe": "LaTeX2e",
    "BibTeX": "BibTeX",
    "ie": "i.e.",
    "eg": "e.g.",
    "etal": "et al.",
    "S": "§",
    "P": "¶",
    "copyright": "©",
    "textregistered": "®",
    "texttrademark": "™",
    "today": "today",
    "par": "\n\n",
    "And": "; ",
    "AND": "; ",
    "and": "; ",
    "newline": " ",
    "linebreak": " ",
    "quad": " ",
    "qquad": " ",
    "enspace": " ",
    "thinspace": " ",
    "space": " ",
}
_ACCENTS = frozenset(
    ["'", "`", "^", '"', "~", "=", ".", "u", "v", "H", "c", "d", "b", "r", "k", "t"]
)
_FLOATS = frozenset(
    words(
        """figure figure* table table* wrapfigure wraptable subfigure subtable algorithm
        algorithm* sidewaysfigure sidewaystable SCfigure"""
    )
)
_SKIP_ENVS = frozenset(["tikzpicture", "pgfpicture", "filecontents", "filecontents*"])
_LIST_ENVS = frozenset(["itemize", "enumerate", "description", "compactitem", "compactenum"])
_TABULAR_ENVS = frozenset(words("tabular tabular* tabularx tabulary longtable array"))
_SPACE_RUN = re.compile(r"[ \t\r]*\n[ \t\r]*(?:\n[ \t\r\n]*)?|[ \t\r]{2,}|[\t\r]")
_MATH_LABEL = re.compile(r"\\label\s*\{([^{}]*)\}")
_MATH_DROP = re.compile(r"\\(?:label\s*\{[^{}]*\}|nonumber\b|notag\b)|%[^\n]*")
_MATH_WS = re.compile(r"\s+")
_MATH_TAG = re.compile(r"\\tag\*?\s*\{([^{}]*)\}")
_MATH_BEGIN_END = re.compile(r"\\(begin|end)\s*\{([^{}]*)\}")
_MATH_ROW = re.compile(r"\\\\")
_NUMBERED_MULTIROW = frozenset(words("align alignat flalign gather eqnarray"))
MAX_EXPANSIONS = 20000
MAX_EXPANSION_DEPTH = 24
MAX_EXPANSION_WORK = 100_000  # nodes (and output chars / 4) inside expansions, per file


@functools.lru_cache(maxsize=4096)
def _symbol_text(snippet: str) -> str:
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
def _symbol_macros() -> frozenset[str]:
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


@functools.lru_cache(maxsize=4096)
def compact_math(src: str) -> str:
    return _MATH_WS.sub(" ", _MATH_DROP.sub("", src)).strip()


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


class _Hide:
    __slots__ = ("detail", "method", "parts", "start")

    def __init__(self, start: int, method: str, detail: str) -> None:
        self.start = start
        self.method = method
        self.detail = detail
        self.parts: list[str] = []


class _State:
    __slots__ = ("bg", "boxed", "fg", "reason", "tiny", "transparent")

    def __init__(
        self, fg=None, bg=hid.WHITE, tiny=None, reason=None, boxed=False, transparent=None
    ) -> None:
        self.fg = fg  # None: default (black)
        self.bg = bg
        self.tiny = tiny  # detail string when the font is unreadably small
        self.reason = reason  # ("phantom", detail) etc. for explicitly invisible content
        self.boxed = boxed  # inside a \colorbox
        self.transparent = transparent  # detail string under \transparent{0}

    def copy(self) -> _State:
        return _State(self.fg, self.bg, self.tiny, self.reason, self.boxed, self.transparent)

    def hidden(self) -> tuple[str, str] | None:
        if self.reason is not None:
            return self.reason
        if self.transparent is not None:
            return ("transparent", self.transparent)
        if self.tiny is not None:
            return ("tiny-font", self.tiny)
        fg = self.fg if self.fg is not None else hid.BLACK
        if hid.invisible_on(fg, self.bg):
            if self.bg == hid.WHITE:
                return ("white-text", "text color is white on a white page")
            if self.boxed:
                return ("colorbox", "text color equals its box background")
            return ("page-color", "text color equals the page color")
        return None


class Renderer:
    """Renders one file. Use `render_file`."""

    def __init__(self, doc: Document, ctx: RenderContext, entry_hidden: tuple[str, str] | None):
        self.doc = doc
        self.src = doc.text
        self.ctx = ctx
        self.events: list[tuple] = []
        self.citations: list[Citation] = []
        self.findings: list[RawFinding] = []
        self._parts: list[str] = []
        self._segs: list[list[int]] = []
        self._len = 0
        self._last = "\n"
        self.state = _State(bg=ctx.page_color)
        if entry_hidden is not None:
            self.state.reason = entry_hidden
        self.hide: _Hide | None = None
        self.repl: tuple[int, int] | None = None  # replacement mode: all output maps here
        self.env_stack: list[str] = []
        self.expansions = 0
        self.exp_work = 0
        self.exp_depth = 0
        self.list_counters: list[int] = []
        self.symbols = _symbol_macros()
        self._bindings: list[dict] = []
        controls = [
            (m.start(), m.end())
            for m in hid.CONTROL_CHARS.finditer(doc.text)
            if not (m.start() == 0 and doc.text[0] == "\ufeff" and m.end() == 1)
        ]
        self.controls = controls  # reported once per file, from its whole text
        self._has_controls: dict[int, bool] = {}  # id(source text) -> holds any
        if entry_hidden is not None:
            self.hide = _Hide(0, entry_hidden[0], entry_hidden[1])

    # -- output ------------------------------------------------------------------------------

    def _out(self, s: str, start: int, end: int) -> None:
        """Append s, mapping to src[start:end] (replacement mode overrides the mapping)."""
        if not s:
            return
        if self.exp_depth:
            self.exp_work += len(s) // 4  # output inside expansions counts against the budget
            if self.exp_work > MAX_EXPANSION_WORK:
                return
        if self.hide is not None:
            self.hide.parts.append(s)
            return
        if self.repl is not None:
            self._out_replaced(s)
            return
        n = len(s)
        segs = self._segs
        if segs and n == end - start:
            last = segs[-1]
            if last[1] == self._len and last[3] == start and last[1] - last[0] == last[3] - last[2]:
                last[1] += n
                last[3] += n
                self._parts.append(s)
                self._len += n
                self._last = s[-1]
                return
        segs.append([self._len, self._len + n, start, end])
        self._parts.append(s)
        self._len += n
        self._last = s[-1]

    def _out_replaced(self, s: str) -> None:
        """Output of a macro expansion: every character maps to the whole invocation. A segment
        whose lengths are equal reads as a character-by-character map (`\\method` expanding to
        "ATLAS-T", 7 for 7), so such a run is cut in two segments of unequal lengths."""
        start, end = self.repl
        width = end - start
        segs = self._segs
        n = len(s)
        last = segs[-1] if segs else None
        if last is not None and not (last[1] == self._len and last[2] == start and last[3] == end):
            last = None
        if last is not None and last[1] - last[0] + n != width:
            last[1] += n
        elif last is None and n != width:
            segs.append([self._len, self._len + n, start, end])
        else:  # the lengths would match: all but the last character, then the last one
            if last is not None:
                last[1] += n - 1
            elif n > 1:
                segs.append([self._len, self._len + n - 1, start, end])
            segs.append([self._len + n - 1, self._len + n, start, end])
        self._parts.append(s)
        self._len += n
        self._last = s[-1]

    def _space(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append(" ")
            return
        if self._last in " \n":
            return
        self._out(" ", start, end)

    def _trim_space(self) -> None:
        """Drop one trailing space before a line break."""
        if self._last != " " or not self._parts or self.hide is not None:
            return
        last_part = self._parts[-1]
        seg = self._segs[-1] if self._segs else None
        if seg is None or seg[1] != self._len:
            return
        if seg[1] - seg[0] == seg[3] - seg[2]:
            seg[3] -= 1
        seg[1] -= 1
        if seg[1] <= seg[0]:
            self._segs.pop()
        self._parts[-1] = last_part[:-1]
        if not self._parts[-1]:
            self._parts.pop()
        self._len -= 1
        self._last = self._parts[-1][-1] if self._parts else "\n"

    def _newline(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append("\n")
            return
        self._trim_space()
        if self._last != "\n":
            self._out("\n", start, end)

    def _parbreak(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append("\n")
            return
        self._trim_space()
        if self._last == "\n":
            return
        self._out("\n\n", start, end)

    def _flush(self) -> None:
        if self._parts:
            self.events.append(("text", Piece("".join(self._parts), self._segs)))
            self._parts = []
            self._segs = []
            self._len = 0

    def _event(self, ev: tuple) -> None:
        if self.hide is not None:
            return  # structure inside hidden text does not exist for the reader
        self._flush()
        self.events.append(ev)
        # what follows an event is not at the start of a line: keep its leading space
        self._last = "x"

    def _subpiece(self, nodes: list[Node]) -> Piece:
        """Render nodes into a separate piece (titles, captions); `\\ref`s inside are kept as
        holes, labels inside still count."""
        saved = (self._parts, self._segs, self._len, self._last, self.events)
        self._parts, self._segs, self._len, self._last = [], [], 0, "\n"
        self.events = []
        self.render_seq(nodes)
        self._flush()
        inner_events = self.events
        self._parts, self._segs, self._len, self._last, self.events = saved
        parts: list[str] = []
        segs: list[list[int]] = []
        refs: list[tuple] = []
        n = 0
        for ev in inner_events:
            if ev[0] == "text":
                piece = ev[1]
                parts.append(piece.text)
                segs.extend([a + n, b + n, c, d] for a, b, c, d in piece.segs)
                n += len(piece.text)
            elif ev[0] == "ref":
                refs.append((n, *ev[1:]))
            elif ev[0] == "label":
                self.events.append(ev)
        text = "".join(parts)
        cut = len(text.rstrip())
        if refs:  # never strip the space before a trailing \ref
            cut = max(cut, max(r[0] for r in refs))
        stripped = text[:cut]
        if len(stripped) < len(text):
            segs = [sg for sg in segs if sg[0] < cut]
            if segs and segs[-1][1] > cut:
                last = segs[-1]
                if last[1] - last[0] == last[3] - last[2]:
                    last[3] -= last[1] - cut
                last[1] = cut
            refs = [(min(o, cut), *rest) for o, *rest in refs]
            text = stripped
        return Piece(text, segs, refs)

    # -- hidden state ------------------------------------------------------------------------

    def _set_state(self, new: _State, at: int) -> None:
        was = self.state.hidden()
        self.state = new
        now = new.hidden()
        if was is None and now is not None and self.hide is None:
            self.hide = _Hide(self._s(at), now[0], now[1])
        elif was is not None and now is None and self.hide is not None:
            self._close_hide(at)

    def _close_hide(self, end: int) -> None:
        h = self.hide
        self.hide = None
        if h is None:
            return
        start, stop = (h.start, end) if self.repl is None else self.repl
        text = re.sub(r"\s+", " ", "".join(h.parts)).strip()
        if not text:
            return  # nothing was hidden (e.g. a box whose text color is set right after)
        self.findings.append(RawFinding(start, max(stop, start), h.method, h.detail, text))

    def _hidden_call(self, method: str, detail: str, node: Node, nodes: list[Node]) -> None:
        """Render `nodes` as explicitly hidden content spanning `node`."""
        if self.hide is not None:
            self.render_seq(nodes)
            return
        saved = self.state
        st = saved.copy()
        st.reason = (method, detail)
        self.state = st
        self.hide = _Hide(node.start, method, detail)
        self.render_seq(nodes)
        self._close_hide(node.end)
        self.state = saved

    def _with_state(self, st: _State, node: Node, nodes: list[Node]) -> None:
        saved = self.state
        self._set_state(st, node.start)
        self.render_seq(nodes)
        self._set_state(saved, node.end)

    # -- text ----------------------------------------------------------------------------------

    def _text(self, start: int, end: int) -> None:
        src = self.src
        has = self._has_controls.get(id(src))
        if has is None:
            has = self._has_controls[id(src)] = hid.CONTROL_CHARS.search(src) is not None
        if has:
            # split around invisible characters: they are findings, not prose (also in macro
            # bodies and arguments, whichever file they come from)
            for m in hid.CONTROL_CHARS.finditer(src, start, end):
                if m.start() > start:
                    self._text_plain(start, m.start())
                start = m.end()
            if start >= end:
                return
        self._text_plain(start, end)

    def _text_plain(self, start: int, end: int) -> None:
        s = self.src[start:end]
        if "~" in s:  # a non-breaking space: one character for one, the map stays exact
            s = s.replace("~", " ")
        if self.repl is not None:
            s = _MATH_WS.sub(" ", s)
            if s == " " and self._last in " \n":
                return
            self._out(s, start, end)
            return
        if "\n" not in s and "  " not in s and "\t" not in s and "\r" not in s:
            if s[0] == " " and self._last in " \n":
                if len(s) == 1:
                    return
                start += 1
                s = s[1:]
            self._out(s, start, end)
            return
        pos = 0
        n = len(s)
        for m in _SPACE_RUN.finditer(s):
            a, b = m.span()
            if a > pos:
                piece = s[pos:a]
                if piece[0] == " " and self._last in " \n":
                    if len(piece) > 1:
                        self._out(piece[1:], start + pos + 1, start + a)
                else:
                    self._out(piece, start + pos, start + a)
            if m.group(0).count("\n") >= 2:
                self._parbreak(start + a, start + b)
            else:
                self._space(start + a, start + b)
            pos = b
        if pos < n:
            piece = s[pos:]
            if piece[0] == " " and self._last in " \n":
                if len(piece) > 1:
                    self._out(piece[1:], start + pos + 1, end)
            else:
                self._out(piece, start + pos, end)

    # -- sequences ---------------------------------------------------------------------------

    def render_seq(self, nodes: list[Node], scoped: bool = True) -> None:
        """Render nodes; a switch inside (`\\color`, `\\fontsize`) ends with them unless
        `scoped` is False (the begin code of a user environment sets the state for its body)."""
        if self.exp_depth:
            # inside macro expansions: a budget, so `\\def\\a#1{#1#1}`-style doubling cannot
            # blow up time or memory
            self.exp_work += len(nodes)
            if self.exp_work > MAX_EXPANSION_WORK:
                return
        saved = self.state
        i = 0
        n = len(nodes)
        while i < n:
            node = nodes[i]
            t = type(node)
            if t is Text:
                self._text(node.start, node.end)
            elif t is Macro:
                i = self._macro(node, nodes, i)
            elif t is Group:
                self._group(node)
            elif t is Comment:
                self._comment(node)
            elif t is Math:
                self._math(node)
            elif t is Env:
                self._env(node)
            elif t is Verbatim:
                if node.kind == "iffalse":
                    self._source_only(node, "iffalse")
                else:
                    self._out(self._verb_text(node), node.start, node.end)
            elif t is Param:
                self._param(node)
            i += 1
        if scoped and self.state is not saved:
            # \color or \fontsize inside this sequence ends with it
            self._set_state(saved, nodes[-1].end if nodes else 0)

    def _group(self, g: Group) -> None:
        self.render_seq(g.children)

    def _verb_text(self, node: Verbatim) -> str:
        s = self.src[node.start : node.end]
        m = re.match(
            r"\\(?:verb\*?|lstinline(?:\[[^\]]*\])?|mintinline(?:\[[^\]]*\])?\{[^}]*\})(.)(.*)(.)$",
            s,
            re.S,
        )
        return m.group(2) if m else ""

    def _comment(self, node: Comment) -> None:
        body = self.src[node.start : node.end]
        if looks_like_injection(body):
            text = body.lstrip("%").strip()
            self.findings.append(
                RawFinding(*self._span(node), "comment", "instruction-like text in a comment", text)
            )

    def _source_only(self, node: Node, method: str) -> None:
        """Content present only in the source (\\iffalse, comment environment): never prose;
        reported only when it reads like an instruction to a model."""
        body = self.src[node.start : node.end]
        if looks_like_injection(body):
            self.findings.append(
                RawFinding(
                    *self._span(node),
                    method,
                    f"instruction-like text in {method} (only in the source)",
                    re.sub(r"\s+", " ", body).strip(),
                )
            )

    # -- math ----------------------------------------------------------------------------------

    def _math(self, node: Math) -> None:
        if self.exp_depth:
            self.exp_work += (node.inner_end - node.inner_start) // 4
            if self.exp_work > MAX_EXPANSION_WORK:
                return
        body = self.src[node.inner_start : node.inner_end]
        text = compact_math(body)
        if node.display:
            rows = equation_rows(node.env, body)
            shown = f"$${text}$$"
            if rows and self.hide is None:
                self._event(("equation", self._s(node.start), self._e(node.end), shown, rows))
                return
            self._space(node.start, node.start)
            self._out(shown, node.start, node.end)
            self._space(node.end, node.end)
        else:
            self._out(f"${text}$", node.start, node.end)

    # -- environments --------------------------------------------------------------------------

    def _env(self, env: Env) -> None:
        name = env.name
        if env.raw:
            if name == "comment":
                self._source_only(env, "comment-environment")
            return
        if name in _SKIP_ENVS:
            if name == "tikzpicture":
                self._tikz(env.start, env.end)
            return
        self.env_stack.append(name)
        try:
            thm = self.ctx.theorems.get(name)
            if thm is not None:
                opt = env.args[0] if env.args else None
                note = self._subpiece(opt.children) if opt is not None else None
                self._parbreak(env.start, env.start)
                self._event(
                    ("theorem_begin", name, thm, self._s(env.start), self._e(env.body_start), note)
                )
                self.render_seq(env.children)
                self._parbreak(env.end, env.end)
                self._event(("theorem_end", self._e(env.end)))
            elif name == "subequations":
                self._event(("subequations_begin", self._s(env.start), self._e(env.body_start)))
                self.render_seq(env.children)
                self._event(("subequations_end", self._e(env.end)))
            elif name == "proof":
                self._parbreak(env.start, env.start)
                opt = env.args[0] if env.args else None
                if opt is not None:  # \begin{proof}[Proof of Theorem 2]
                    self.render_seq(opt.children)
                    self._out(". ", opt.end, opt.end)
                else:
                    self._out("Proof. ", env.start, env.body_start)
                self.render_seq(env.children)
                self._parbreak(env.end, env.end)
            elif name in _FLOATS:
                self._event(("float_begin", name, self._s(env.start), self._e(env.body_start)))
                self._parbreak(env.start, env.start)
                self.render_seq(env.children)
                self._parbreak(env.end, env.end)
                self._event(("float_end", self._e(env.end)))
            elif name == "abstract":
                self._event(("abstract_begin", self._s(env.start), self._e(env.body_start)))
                self.render_seq(env.children)
                self._event(("abstract_end", self._e(env.end)))
            elif name in _LIST_ENVS:
                self.list_counters.append(0)
                self._parbreak(env.start, env.start)
                self.render_seq(env.children)
                self.list_counters.pop()
                self._parbreak(env.end, env.end)
            elif name == "thebibliography":
                self._event(
                    ("bibliography", "thebibliography", self._s(env.start), self._e(env.body_start))
                )
                self.render_seq(env.children)
            elif name in _TABULAR_ENVS:
                self._parbreak(env.start, env.start)
                self.render_seq(env.children)
                self._parbreak(env.end, env.end)
            elif name in self.ctx.environments:
                self._user_env(env, *self.ctx.environments[name])
            else:
                self.render_seq(env.children)
        finally:
            self.env_stack.pop()

    def _user_env(self, env: Env, begin: MacroDef, end: MacroDef) -> None:
        """A `\\newenvironment`: its begin code sets the state its body is rendered in
        (`\\newenvironment{x}{\\color{white}}{}` hides the body), mapped to `\\begin{x}`;
        `#n` take the groups right after `\\begin{x}`."""
        children = env.children
        args: dict[int, tuple] = {}
        k = 0
        while k < len(children) and len(args) < begin.nargs:
            node = children[k]
            if type(node) is Group:
                outer = self._bindings[-1] if self._bindings else {}
                args[len(args) + 1] = (node.children, self.src, self.repl, outer)
            elif type(node) is not Text or self.src[node.start : node.end].strip():
                break
            k += 1
        saved = self.state
        self._definition_body(begin, (env.start, env.body_start), args)
        self.render_seq(children[k:] if args else children)
        self._definition_body(end, (env.body_end, env.end), {})
        self._set_state(saved, env.end)

    def _definition_body(self, d: MacroDef, span: tuple[int, int], args: dict) -> None:
        """Render a definition's body mapped to `span`, keeping the state it sets."""
        if self.exp_depth >= MAX_EXPANSION_DEPTH or self.expansions >= MAX_EXPANSIONS:
            return
        self.expansions += 1
        saved = (self.src, self.repl)
        self.src, self.repl = d.doc.text, self.repl or span
        self._bindings.append(args)
        self.exp_depth += 1
        try:
            self.render_seq(d.body, scoped=False)
        finally:
            self.exp_depth -= 1
            self._bindings.pop()
            self.src, self.repl = saved

    def _tikz(self, start: int, end: int) -> None:
        """TikZ pictures are not prose; nodes whose text is invisible are findings."""
        for s, e, detail, text in hid.tikz_hidden_nodes(
            self.src, start, end, self.ctx.colors, self.state.bg
        ):
            span = self.repl or (s, e)
            self.findings.append(RawFinding(span[0], span[1], "tikz", detail, text))

    # -- macros --------------------------------------------------------------------------------

    def _macro(self, m: Macro, nodes: list[Node], i: int) -> int:
        """Render one macro; returns the index of the last sibling it consumed."""
        name = m.name
        user = self.ctx.macros.get(name)
        if user is not None and name not in _STRUCTURAL:
            return self._expand(user, m, nodes, i)
        handler = _HANDLERS.get(name)
        if handler is not None:
            r = handler(self, m, nodes, i)
            return i if r is None else r
        if name in _SHOWN_ARG:
            arg = m.arg(_SHOWN_ARG[name])
            if arg is not None:
                self.render_seq(arg.children)
            return i
        if name in SECTION_LEVELS:
            self._heading(m, SECTION_LEVELS[name])
            return i
        if name in CITE_MACROS:
            self._cite(m)
            return i
        if name in REF_MACROS:
            keys = [k.strip() for k in self.doc_arg(m.arg(0)).split(",") if k.strip()]
            self._event(("ref", name, keys, *self._span(m)))
            return i
        if name in INCLUDE_MACROS:
            if self.repl is not None:
                return i  # inside a macro body: not an include of this file
            if self.hide is not None:
                # an included file inside hidden text is hidden too: the assembler renders it
                # with this reason
                self._flush()
                self.events.append(
                    ("include", m.start, m.end, name, (self.hide.method, self.hide.detail))
                )
            else:
                self._event(("include", m.start, m.end, name, None))
            return i
        if len(name) == 1 and not name.isalpha():
            if name in _ACCENTS:
                self._symbol(m)
                return i
            sym = _CONTROL_SYMBOLS.get(name)
            if sym is not None:
                if name == "\\" and self.env_stack and self.env_stack[-1] in _TABULAR_ENVS:
                    self._newline(m.start, m.end)
                elif sym == " ":
                    self._space(m.start, m.end)
                else:
                    self._out(sym, m.start, m.end)
            return i
        if name in _ACCENTS and m.args:
            self._symbol(m)
            return i
        named = _NAMED_TEXT.get(name)
        if named is not None:
            if named.startswith(";"):  # \and between authors
                self._trim_space()
            if named == "\n\n":
                self._parbreak(m.start, m.end)
            elif named == " ":
                self._space(m.start, m.end)
            else:
                self._out(named, m.start, m.end)
            return i
        if name in self.symbols:
            self._symbol(m)
            return i
        user_sec = None
        if user is not None:
            user_sec = user.section_level
        if user_sec is not None:
            return self._sibling_heading(m, user_sec, nodes, i)
        return i

    def doc_arg(self, arg: Arg | None) -> str:
        """An argument's source text; inside a macro expansion `#1` is replaced by what was
        passed (`\\newcommand{\\mycite}[1]{\\citep{#1}}`)."""
        if arg is None:
            return ""
        raw = self.src[arg.inner_start : arg.inner_end]
        if "#" not in raw or not self._bindings or not arg.children:
            return raw
        return self._plain(arg.children, self.src, len(self._bindings) - 1)

    def _plain(self, nodes: list[Node], src: str, level: int) -> str:
        out = []
        for node in nodes:
            t = type(node)
            if t is Text:
                out.append(src[node.start : node.end])
            elif t is Group:
                out.append(self._plain(node.children, src, level))
            elif t is Param and level >= 0:
                bound = self._bindings[level].get(node.number)
                if bound is not None:
                    bnodes, bsrc, _repl, outer = bound
                    outer_level = next(
                        (k for k in range(level - 1, -1, -1) if self._bindings[k] is outer), -1
                    )
                    out.append(self._plain(bnodes, bsrc, outer_level))
        return "".join(out)

    def _span(self, node: Node) -> tuple[int, int]:
        return self.repl if self.repl is not None else (node.start, node.end)

    def _s(self, offset: int) -> int:
        """A start offset for an event: inside a macro expansion, the invocation's start."""
        return offset if self.repl is None else self.repl[0]

    def _e(self, offset: int) -> int:
        return offset if self.repl is None else self.repl[1]

    def _symbol(self, m: Macro) -> None:
        snippet = self.src[m.start : m.end]
        text = _symbol_text(snippet)
        if text:
            self._out(text, m.start, m.end)

    def _heading(self, m: Macro, level: int) -> None:
        title_arg = m.arg(1)
        title = self._subpiece(title_arg.children) if title_arg is not None else Piece("", [])
        start, end = self._span(m)
        self._event(("heading", level, m.name, m.star, start, end, title))

    def _sibling_heading(self, m: Macro, level: int, nodes: list[Node], i: int) -> int:
        """A sectioning command defined with \\@startsection: its star, optional and title
        arguments follow it as plain siblings."""
        j = i + 1
        star = False
        while (
            j < len(nodes)
            and type(nodes[j]) is Text
            and not self.src[nodes[j].start : nodes[j].end].strip()
        ):
            j += 1
        if j < len(nodes) and type(nodes[j]) is Text and self.src.startswith("*", nodes[j].start):
            star = True
            if nodes[j].end - nodes[j].start == 1:
                j += 1
        if j < len(nodes) and type(nodes[j]) is Group:
            g = nodes[j]
            title = self._subpiece(g.children)
            self._event(("heading", level, m.name, star, self._s(m.start), self._e(g.end), title))
            return j
        self._event(
            ("heading", level, m.name, star, self._s(m.start), self._e(m.end), Piece("", []))
        )
        return i

    def _cite(self, m: Macro) -> None:
        arg = m.arg(2)
        keys: list[tuple[str, int, int]] = []
        every_entry = False
        if arg is not None:
            raw = (
                self.doc_arg(arg)
                if self.repl is not None
                else self.src[arg.inner_start : arg.inner_end]
            )
            for km in re.finditer(r"[^,\s]+", raw):
                if km.group(0) == "*":
                    every_entry = True  # \nocite{*}: every entry, not a key
                    continue
                if self.repl is None:
                    keys.append(
                        (km.group(0), arg.inner_start + km.start(), arg.inner_start + km.end())
                    )
                else:
                    keys.append((km.group(0), *self.repl))
        start, end = self._span(m)
        self.citations.append(Citation(m.name, keys, start, end, every_entry))
        shows = CITE_COMMANDS[m.name]
        if shows == "none" or not keys:
            return
        shown = "[" + "; ".join(k for k, _, _ in keys) + "]"
        if shows != "keys":
            shown = "[" + shows + ": " + shown[1:]
        self._out(shown, m.start, m.end)

    def _param(self, p: Param) -> None:
        # a #n outside an expansion (in a definition body rendered directly): nothing
        if not self._bindings:
            return
        bound = self._bindings[-1].get(p.number)
        if bound is None:
            return
        nodes, src, repl, outer = bound
        saved = (self.src, self.repl)
        self.src, self.repl = src, repl
        self._bindings.append(outer)
        try:
            self.render_seq(nodes)
        finally:
            self._bindings.pop()
            self.src, self.repl = saved

    def _expand(self, d: MacroDef, m: Macro, nodes: list[Node], i: int) -> int:
        """Expand a user macro: its body renders mapped to the invocation; #n render the actual
        arguments mapped to where they are."""
        if self.exp_depth >= MAX_EXPANSION_DEPTH or self.expansions >= MAX_EXPANSIONS:
            return i
        if d.section_level is not None:
            return self._sibling_heading(m, d.section_level, nodes, i)
        self.expansions += 1
        args: dict[int, tuple] = {}
        outer = self._bindings[-1] if self._bindings else {}
        end = m.end
        j = i
        if m.args:  # a builtin spec already parsed the arguments (a redefined \emph)
            mand = [a for a in m.args if a is not None and a.kind != "["]
            for k in range(1, d.nargs + 1):
                if k - 1 < len(mand):
                    args[k] = (mand[k - 1].children, self.src, self.repl, outer)
        else:
            k = 1
            span0 = self.repl if self.repl is not None else (m.start, m.end)
            if d.default is not None and d.nargs >= 1:
                # optional first argument: "[" ... "]" (brackets are separate text tokens)
                jj = j + 1
                close = -1
                if (
                    jj < len(nodes)
                    and type(nodes[jj]) is Text
                    and self.src.startswith("[", nodes[jj].start)
                ):
                    for kk in range(jj + 1, min(len(nodes), jj + 200)):
                        if type(nodes[kk]) is Text and self.src.startswith("]", nodes[kk].start):
                            close = kk
                            break
                if close > 0:
                    args[1] = (nodes[jj + 1 : close], self.src, self.repl, outer)
                    j = close
                    end = nodes[close].end
                else:
                    args[1] = ([Text(0, len(d.default))], d.default, span0, outer)
                k = 2
            while k <= d.nargs:
                jj = j + 1
                while (jj < len(nodes) and type(nodes[jj]) in (Comment,)) or (
                    jj < len(nodes)
                    and type(nodes[jj]) is Text
                    and not self.src[nodes[jj].start : nodes[jj].end].strip()
                ):
                    jj += 1
                if jj >= len(nodes):
                    break
                nxt = nodes[jj]
                if type(nxt) is Group:
                    args[k] = (nxt.children, self.src, self.repl, outer)
                    end = nxt.end
                    j = jj
                else:
                    break  # a single-token argument: rare, keep it as text
                k += 1
        span = self.repl if self.repl is not None else (m.start, end)
        saved = (self.src, self.repl)
        self.src, self.repl = d.doc.text, span
        self._bindings.append(args)
        self.exp_depth += 1
        try:
            self.render_seq(d.body)
        finally:
            self.exp_depth -= 1
            self._bindings.pop()
            self.src, self.repl = saved
        return j


# Names always handled by the renderer even when a user redefines them: the project structure
# depends on them.
_STRUCTURAL = (
    frozenset(SECTION_LEVELS)
    | CITE_MACROS
    | REF_MACROS
    | INCLUDE_MACROS
    | frozenset(
        words("""label caption begin end bibliography addbibresource printbibliography bibitem item
        maketitle appendix title abstract newcommand renewcommand providecommand def
        DeclareRobustCommand definecolor colorlet""")
    )
)


def _h_invisible(r: Renderer, m: Macro, nodes, i):
    return None


def _h_footnote(r: Renderer, m: Macro, nodes, i):
    """A footnote is read where it is called, marked as such for the model."""
    arg = m.arg(1)
    if arg is None:
        return
    r._out(" [Footnote: ", m.start, m.start)
    r.render_seq(arg.children)
    r._trim_space()
    r._out("]", m.end, m.end)


def _h_label(r: Renderer, m: Macro, nodes, i):
    key = r.doc_arg(m.arg(0)).strip()
    if key and r.repl is None:
        r._event(("label", key, r._s(m.start), r._e(m.end)))
    elif key and r.repl is not None:
        r._event(("label", key, *r.repl))


def _h_color(r: Renderer, m: Macro, nodes, i):
    model = r.doc_arg(m.arg(0)) if m.arg(0) is not None else None
    color = hid.resolve_color(model, r.doc_arg(m.arg(1)), r.ctx.colors)
    if color is None:
        return
    st = r.state.copy()
    st.fg = color
    r._set_state(st, m.start)


def _h_textcolor(r: Renderer, m: Macro, nodes, i):
    body = m.arg(2)
    if body is None:
        return
    model = r.doc_arg(m.arg(0)) if m.arg(0) is not None else None
    color = hid.resolve_color(model, r.doc_arg(m.arg(1)), r.ctx.colors)
    if color is None:
        r.render_seq(body.children)
        return
    st = r.state.copy()
    st.fg = color
    r._with_state(st, m, body.children)


def _h_colorbox(r: Renderer, m: Macro, nodes, i):
    if m.name == "fcolorbox":
        model, spec, body = m.arg(0), m.arg(3), m.arg(4)
    else:
        model, spec, body = m.arg(0), m.arg(1), m.arg(2)
    if body is None:
        return
    color = hid.resolve_color(
        r.doc_arg(model) if model is not None else None, r.doc_arg(spec), r.ctx.colors
    )
    if color is None:
        r.render_seq(body.children)
        return
    st = r.state.copy()
    st.bg = color
    st.boxed = True
    r._with_state(st, m, body.children)


def _h_pagecolor(r: Renderer, m: Macro, nodes, i):
    model = r.doc_arg(m.arg(0)) if m.arg(0) is not None else None
    color = hid.resolve_color(model, r.doc_arg(m.arg(1)), r.ctx.colors)
    if color is not None:
        st = r.state.copy()
        st.bg = color
        r._set_state(st, m.start)


def _h_fontsize(r: Renderer, m: Macro, nodes, i):
    size = hid.parse_dimension_pt(r.doc_arg(m.arg(0)))
    st = r.state.copy()
    if size is not None and size < hid.TINY_FONT_PT:
        st.tiny = f"font size {r.doc_arg(m.arg(0)).strip()} (under {hid.TINY_FONT_PT:g}pt)"
    else:
        st.tiny = None
    r._set_state(st, m.start)


PHANTOM_PADDING_CHARS = 3


def _h_phantom(r: Renderer, m: Macro, nodes, i):
    arg = m.arg(0)
    if arg is None:
        return
    before = len(r.findings)
    r._hidden_call("phantom", f"\\{m.name} typesets nothing visible", m, arg.children)
    found = r.findings[before:]
    if len(found) == 1 and _is_padding(found[0].text):
        del r.findings[before:]


def _is_padding(text: str) -> bool:
    """`\\phantom{0}`, `\\phantom{00.0}`, `\\hphantom{$-$}` aligning a table's numbers: too short,
    or without a letter, to carry a message."""
    text = text.replace(" ", "")
    return len(text) <= PHANTOM_PADDING_CHARS or not any(c.isalpha() for c in text)


def _h_transparent(r: Renderer, m: Macro, nodes, i):
    """transparent's `\\transparent{0}` (a switch) and `\\texttransparent{0}{text}`."""
    spec = r.doc_arg(m.arg(0)).strip()
    body = m.arg(1) if m.name == "texttransparent" else None
    try:
        opacity = float(spec)
    except ValueError:  # an opacity we cannot read: the text stays as it is
        if body is not None:
            r.render_seq(body.children)
        return
    st = r.state.copy()
    st.transparent = (
        f"\\{m.name}{{{spec}}}: fully transparent text" if opacity < hid.INVISIBLE_OPACITY else None
    )
    if body is not None:
        r._with_state(st, m, body.children)
    elif m.name == "transparent":
        r._set_state(st, m.start)


def _h_tikz(r: Renderer, m: Macro, nodes, i):
    """`\\tikz[...]{...}` or `\\tikz ... ;` inline: a picture, not prose (its hidden nodes are
    findings); returns the last sibling it consumes."""
    j = i + 1
    while j < min(len(nodes), i + 200):  # an inline picture is short; never scan a whole file
        node = nodes[j]
        head = r.src[m.end : node.start].strip()
        if type(node) is Group and (not head or (head[0] == "[" and head[-1] == "]")):
            r._tikz(m.start, node.end)
            return j
        if type(node) is Text and ";" in r.src[node.start : node.end]:
            stop = r.src.index(";", node.start, node.end) + 1
            r._tikz(m.start, stop)
            r._text(stop, node.end)
            return j
        j += 1
    return i


def _h_scalebox(r: Renderer, m: Macro, nodes, i):
    if m.name == "scalebox":
        factor_s, body = r.doc_arg(m.arg(0)), m.arg(2)
        try:
            factor = float(factor_s)
        except ValueError:
            factor = 1.0
        tiny = abs(factor) < 0.1
        detail = f"\\scalebox{{{factor_s}}}"
    else:  # resizebox{w}{h}{body}
        w, h, body = r.doc_arg(m.arg(0)), r.doc_arg(m.arg(1)), m.arg(2)
        dims = [hid.parse_dimension_pt(x) for x in (w, h)]
        tiny = any(d is not None and d < hid.TINY_FONT_PT for d in dims)
        detail = f"\\resizebox{{{w}}}{{{h}}}"
    if body is None:
        return
    if tiny:
        r._hidden_call("tiny-font", f"{detail} shrinks text to nothing", m, body.children)
    else:
        r.render_seq(body.children)


def _h_caption(r: Renderer, m: Macro, nodes, i):
    arg = m.arg(1) if m.name == "caption" else m.arg(2)
    if arg is None:
        return
    piece = r._subpiece(arg.children)
    if m.name == "captionof":
        kind = r.doc_arg(m.arg(0)).strip()
        r._event(("float_begin", kind, r._s(m.start), r._s(m.start)))
        r._event(("caption", r._s(m.start), r._e(m.end), piece))
        r._event(("float_end", r._e(m.end)))
    else:
        r._event(("caption", r._s(m.start), r._e(m.end), piece))


def _h_item(r: Renderer, m: Macro, nodes, i):
    label = m.arg(0)
    if r.list_counters and label is None:
        r.list_counters[-1] += 1
        env = r.env_stack[-1] if r.env_stack else ""
        bullet = f"{r.list_counters[-1]}. " if env in ("enumerate", "compactenum") else "- "
    else:
        bullet = ""
    r._newline(m.start, m.start)
    if bullet:
        r._out(bullet, m.start, m.end)
    if label is not None:
        r.render_seq(label.children)
        r._out(" ", label.end - 1, label.end)


def _h_bibitem(r: Renderer, m: Macro, nodes, i):
    key = r.doc_arg(m.arg(1)).strip()
    r._newline(m.start, m.start)
    r._out(f"[{key}] ", m.start, m.end)
    r._event(("bibitem", key, r._s(m.start), r._e(m.end)))


def _h_bibliography(r: Renderer, m: Macro, nodes, i):
    if m.name in ("bibliography", "printbibliography"):
        r._event(("bibliography", m.name, r._s(m.start), r._e(m.end)))


def _h_abstract(r: Renderer, m: Macro, nodes, i):
    arg = m.arg(0)
    if arg is None:  # \abstract as the begin-macro of the environment: nothing to do
        return
    r._event(("abstract_begin", r._s(m.start), r._e(arg.inner_start)))
    r.render_seq(arg.children)
    r._event(("abstract_end", r._e(m.end)))


def _h_maketitle(r: Renderer, m: Macro, nodes, i):
    r._event(("maketitle", r._s(m.start), r._e(m.end)))


def _h_appendix(r: Renderer, m: Macro, nodes, i):
    r._event(("appendix", r._s(m.start), r._e(m.end)))


def _h_url(r: Renderer, m: Macro, nodes, i):
    arg = m.arg(0)
    if arg is not None:
        r._out(r.src[arg.inner_start : arg.inner_end], arg.inner_start, arg.inner_end)


def _h_ensuremath(r: Renderer, m: Macro, nodes, i):
    arg = m.arg(0)
    if arg is not None:
        r._out(f"${compact_math(r.doc_arg(arg))}$", m.start, m.end)


_HANDLERS = {
    "footnote": _h_footnote,
    "label": _h_label,
    "color": _h_color,
    "textcolor": _h_textcolor,
    "colorbox": _h_colorbox,
    "fcolorbox": _h_colorbox,
    "pagecolor": _h_pagecolor,
    "fontsize": _h_fontsize,
    "phantom": _h_phantom,
    "transparent": _h_transparent,
    "texttransparent": _h_transparent,
    "tikz": _h_tikz,
    "hphantom": _h_phantom,
    "vphantom": _h_phantom,
    "scalebox": _h_scalebox,
    "resizebox": _h_scalebox,
    "caption": _h_caption,
    "captionof": _h_caption,
    "item": _h_item,
    "bibitem": _h_bibitem,
    "bibliography": _h_bibliography,
    "printbibliography": _h_bibliography,
    "abstract": _h_abstract,
    "maketitle": _h_maketitle,
    "appendix": _h_appendix,
    "url": _h_url,
    "path": _h_url,
    "ensuremath": _h_ensuremath,
}
for (
    _name
) in words("""usepackage RequirePackage documentclass includegraphics vspace hspace setlength
    addtolength newlength setcounter addtocounter stepcounter refstepcounter pagestyle
    thispagestyle pagenumbering graphicspath hypersetup newtheorem DeclareMathOperator
    definecolor colorlet newcommand renewcommand providecommand DeclareRobustCommand
    newenvironment renewenvironment titleformat titlespacing captionsetup lstset setminted
    geometry linespread SetWatermarkText SetWatermarkColor SetWatermarkScale SetWatermarkAngle
    SetWatermarkHorCenter SetWatermarkVerCenter SetWatermarkLightness SetWatermarkFontSize
    bibliographystyle addbibresource addglobalbib addsectionbib includeonly title author date
    thanks def let end begin @startsection cline cmidrule"""):
    _HANDLERS[_name] = _h_invisible


def render_document(
    doc: Document, ctx: RenderContext, entry_hidden: tuple[str, str] | None = None
) -> Fragment:
    """Render a whole file: its `document` environment when it has one, otherwise every node.
    Never raises on a parsed document."""
    r = Renderer(doc, ctx, entry_hidden)
    initial = r.state.hidden()
    if r.hide is None and initial is not None:  # e.g. default black text on a black page
        r.hide = _Hide(0, *initial)
    nodes = doc.nodes
    if doc.begin_document is not None:
        for node in nodes:
            if type(node) is Env and node.name == "document":
                nodes = node.children
                break
    r.render_seq(nodes)
    if r.hide is not None:
        r._close_hide(len(doc.text))
    r._flush()
    # instructions to an AI reviewer in the visible text: reported (they stay in the text, a
    # reader sees them); scanned here so the result is cached with the fragment
    for ev in r.events:
        if ev[0] == "text":
            _scan_visible_instructions(ev[1], r.findings)
    for cs, ce in r.controls:
        detail, text = hid.describe_controls(doc.text[cs:ce])
        r.findings.append(RawFinding(cs, ce, "control-chars", detail, text))
    return Fragment(r.events, r.citations, r.findings)


def _piece_source(piece: Piece, a: int, b: int) -> tuple[int, int] | None:
    """Source span (in the piece's file) of piece.text[a:b]."""
    start = end = None
    for os_, oe, ss, se in piece.segs:
        if oe <= a or os_ >= b:
            continue
        exact = oe - os_ == se - ss
        s0 = ss + (max(a, os_) - os_) if exact else ss
        e0 = ss + (min(b, oe) - os_) if exact else se
        start = s0 if start is None else min(start, s0)
        end = e0 if end is None else max(end, e0)
    return None if start is None else (start, end)


def _scan_visible_instructions(piece: Piece, findings: list[RawFinding]) -> None:
    text = piece.text
    windows: list[list[int]] = []
    for a, b in injection_matches(text, anywhere_only=True):
        # the sentences holding the phrase: a finding points at them, not at its whole line
        s = max(text.rfind("\n", 0, a), text.rfind(". ", 0, a) + 1) + 1
        while s < a and text[s] == " ":
            s += 1
        s = max(s, a - 200)
        ends = [i for i in (text.find(". ", b) + 1, text.find("\n", b)) if i > 0]
        e = min(min(ends, default=len(text)), b + 200)
        if windows and s <= windows[-1][1] + 1:  # the next sentence: one finding
            windows[-1][1] = max(windows[-1][1], e)
        else:
            windows.append([s, e])
    for s, e in windows:
        span = _piece_source(piece, s, e)
        if span is not None:
            findings.append(
                RawFinding(
                    span[0],
                    span[1],
                    "visible-instruction",
                    "instruction to an AI reviewer in the visible text",
                    text[s:e].strip(),
                )
            )


def render_nodes(doc: Document, nodes: list[Node], ctx: RenderContext) -> Piece:
    """Render a few nodes (a quote) into one piece."""
    return render_inline(doc, nodes, ctx)[0]


def render_inline(
    doc: Document, nodes: list[Node], ctx: RenderContext
) -> tuple[Piece, list[RawFinding]]:
    """Render a few nodes (a title, an author block) into one piece, with hidden-text
    findings."""
    r = Renderer(doc, ctx, None)
    piece = r._subpiece(nodes)
    if r.hide is not None:
        r._close_hide(nodes[-1].end if nodes else 0)
    return piece, r.findings


_NARGS = re.compile(r"#([1-9])")


def _def_name(doc: Document, arg: Arg | None) -> str | None:
    if arg is None:
        return None
    raw = doc.text[arg.inner_start : arg.inner_end].strip()
    m = re.match(r"\\([A-Za-z@]+|.)", raw)
    return m.group(1) if m else None


def build_context(docs: list[Document]) -> RenderContext:
    """Definitions of the whole project (in include order): colors and user macros."""
    ctx = RenderContext()
    sig_parts: list[str] = []
    for doc in docs:
        for macro, in_def in doc.recorded:
            if in_def:
                continue
            name = macro.name
            try:
                if name in ("definecolor", "colorlet"):
                    cname = doc.arg_text(macro.arg(1)).strip()
                    if name == "definecolor":
                        color = hid.parse_color_model(
                            doc.arg_text(macro.arg(2)), doc.arg_text(macro.arg(3))
                        )
                    else:
                        model = doc.arg_text(macro.arg(2)) or None
                        color = hid.resolve_color(model, doc.arg_text(macro.arg(3)), ctx.colors)
                    if cname and color is not None:
                        ctx.colors[cname] = color
                        sig_parts.append(doc.text[macro.start : macro.end])
                elif name in (
                    "newcommand",
                    "renewcommand",
                    "providecommand",
                    "DeclareRobustCommand",
                ):
                    mname = _def_name(doc, macro.arg(0))
                    body = macro.arg(3)
                    if mname is None or body is None:
                        continue
                    if name == "providecommand" and mname in ctx.macros:
                        continue
                    nargs_s = doc.arg_text(macro.arg(1)).strip()
                    nargs = int(nargs_s) if nargs_s.isdigit() else 0
                    default = doc.arg_text(macro.arg(2)) if macro.arg(2) is not None else None
                    ctx.macros[mname] = _make_def(mname, nargs, default, body.children, doc, macro)
                    sig_parts.append(doc.text[macro.start : macro.end])
                elif name in ("newenvironment", "renewenvironment"):
                    ename = doc.arg_text(macro.arg(0)).strip()
                    begin, end = macro.arg(3), macro.arg(4)
                    if not ename or begin is None or end is None:
                        continue
                    nargs_s = doc.arg_text(macro.arg(1)).strip()
                    nargs = int(nargs_s) if nargs_s.isdigit() else 0
                    ctx.environments[ename] = (
                        MacroDef(ename, nargs, None, begin.children, doc, macro.start),
                        MacroDef(ename, 0, None, end.children, doc, macro.start),
                    )
                    sig_parts.append(doc.text[macro.start : macro.end])
                elif name == "pagecolor":
                    preamble = doc.begin_document is not None and macro.start < doc.begin_document
                    model = doc.arg_text(macro.arg(0)) or None
                    color = hid.resolve_color(model, doc.arg_text(macro.arg(1)), ctx.colors)
                    if preamble and color is not None:
                        ctx.page_color = color
                        sig_parts.append(doc.text[macro.start : macro.end])
                elif name == "newtheorem":
                    env = doc.arg_text(macro.arg(0)).strip()
                    shared = doc.arg_text(macro.arg(1)).strip() or None
                    printed = re.sub(r"\s+", " ", doc.arg_text(macro.arg(2))).strip()
                    within = doc.arg_text(macro.arg(3)).strip() or None
                    if env and printed:
                        if macro.star:
                            ctx.theorems[env] = (printed, None, None)
                        elif shared and shared in ctx.theorems:
                            ctx.theorems[env] = (printed, *ctx.theorems[shared][1:])
                        else:
                            ctx.theorems[env] = (printed, env, within)
                        sig_parts.append(doc.text[macro.start : macro.end])
                elif name == "def":
                    mname = _def_name(doc, macro.arg(0))
                    body = macro.arg(2)
                    if mname is None or body is None:
                        continue
                    params = doc.arg_text(macro.arg(1))
                    nargs = len(_NARGS.findall(params))
                    ctx.macros[mname] = _make_def(mname, nargs, None, body.children, doc, macro)
                    sig_parts.append(doc.text[macro.start : macro.end])
            except (ValueError, IndexError):  # a malformed definition is simply not used
                continue
    from papercycle.daemon.project.document import content_digest

    ctx.signature = content_digest("\x00".join(sig_parts))
    return ctx


def _make_def(name, nargs, default, body, doc, macro) -> MacroDef:
    d = MacroDef(name, nargs, default, body, doc, macro.start)
    # \newcommand\mysection{\@startsection{mysection}{1}...}: a new sectioning command
    for node in body:
        if type(node) is Macro and node.name == "@startsection":
            level_s = doc.arg_text(node.arg(1)).strip()
            if level_s.lstrip("-").isdigit():
                d.section_level = int(level_s)
            break
    return d
