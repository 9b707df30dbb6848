"""The walk over one parsed file: sequences, groups, comments, math, environments, and the
dispatch of each command through the command table (`project/commands.py`) to its handler.
`render_document` renders a whole file into a `Fragment`; never raises on a parsed document.

Written by hand because no library renders LaTeX to text *with* a per-character source map
and hidden-text tracking. Hidden text (white, tiny, phantom, same color as its box, zero-width
and bidi controls) is kept out of the pieces and reported as findings.
"""

from __future__ import annotations

import re

from papercycle.latex.commands import COMMANDS
from papercycle.latex.document import (
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
from papercycle.latex.hidden import CONTROL_CHARS, describe_controls
from papercycle.latex.injection import injection_matches, looks_like_injection
from papercycle.latex.render.definitions import RenderContext
from papercycle.latex.render.emit import MAX_EXPANSION_WORK, HiddenRun, TextState
from papercycle.latex.render.expansion import Expansion
from papercycle.latex.render.fragment import (
    AbstractBegin,
    AbstractEnd,
    BibliographyStart,
    Citation,
    Equation,
    FloatBegin,
    FloatEnd,
    Fragment,
    Piece,
    RawFinding,
    SubequationsBegin,
    SubequationsEnd,
    TextRun,
    TheoremBegin,
    TheoremEnd,
)
from papercycle.latex.render.handlers import HANDLERS, TABULAR_ENVS, render_tikz
from papercycle.latex.render.math_text import compact_math, equation_rows
from papercycle.latex.render.symbols import symbol_macros

_FLOATS = frozenset(
    words(
        """figure figure* table table* wrapfigure wraptable subfigure subtable algorithm
        algorithm* sidewaysfigure sidewaystable SCfigure"""
    )
)
_SKIP_ENVS = frozenset(["tikzpicture", "pgfpicture", "filecontents", "filecontents*"])
_LIST_ENVS = frozenset(["itemize", "enumerate", "description", "compactitem", "compactenum"])


class Renderer(Expansion):
    """Renders one file. Use `render_document`."""

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
        self.state = TextState(bg=ctx.page_color)
        if entry_hidden is not None:
            self.state.reason = entry_hidden
        self.hide: HiddenRun | None = None
        # inside a macro expansion: the invocation's span, where all output maps
        self.invocation: tuple[int, int] | None = None
        self.env_stack: list[str] = []
        self.expansions = 0
        self.exp_work = 0
        self.exp_depth = 0
        self.list_counters: list[int] = []
        self.symbols = symbol_macros()
        self._bindings: list[dict] = []
        controls = [
            (m.start(), m.end())
            for m in CONTROL_CHARS.finditer(doc.text)
            if not (m.start() == 0 and doc.text[0] == "\ufeff" and m.end() == 1)
        ]
        self.controls = controls  # reported once per file, from its whole text
        self._has_controls: dict[int, bool] = {}  # id(source text) -> holds any
        if entry_hidden is not None:
            self.hide = HiddenRun(0, entry_hidden[0], entry_hidden[1])

    # -- sequences ---------------------------------------------------------------------------

    def render(self, nodes: list[Node], scoped: bool = True) -> None:
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
                self.text(node.start, node.end)
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
                    self.out(self._verb_text(node), node.start, node.end)
            elif t is Param:
                self.param(node)
            i += 1
        if scoped and self.state is not saved:
            # \color or \fontsize inside this sequence ends with it
            self.set_state(saved, nodes[-1].end if nodes else 0)

    def _group(self, g: Group) -> None:
        self.render(g.children)

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
                RawFinding(*self.span(node), "comment", "instruction-like text in a comment", text)
            )

    def _source_only(self, node: Node, method: str) -> None:
        """Content present only in the source (\\iffalse, comment environment): never prose;
        reported only when it reads like an instruction to a model."""
        body = self.src[node.start : node.end]
        if looks_like_injection(body):
            self.findings.append(
                RawFinding(
                    *self.span(node),
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
                self.event(Equation(self.start_of(node.start), self.end_of(node.end), shown, rows))
                return
            self.space(node.start, node.start)
            self.out(shown, node.start, node.end)
            self.space(node.end, node.end)
        else:
            self.out(f"${text}$", node.start, node.end)

    # -- environments --------------------------------------------------------------------------

    def _env(self, env: Env) -> None:
        name = env.name
        if env.raw:
            if name == "comment":
                self._source_only(env, "comment-environment")
            return
        if name in _SKIP_ENVS:
            if name == "tikzpicture":
                render_tikz(self, env.start, env.end)
            return
        self.env_stack.append(name)
        try:
            thm = self.ctx.theorems.get(name)
            if thm is not None:
                opt = env.args[0] if env.args else None
                note = self.subpiece(opt.children) if opt is not None else None
                self.parbreak(env.start, env.start)
                self.event(
                    TheoremBegin(
                        name, thm, self.start_of(env.start), self.end_of(env.body_start), note
                    )
                )
                self.render(env.children)
                self.parbreak(env.end, env.end)
                self.event(TheoremEnd(self.end_of(env.end)))
            elif name == "subequations":
                self.event(SubequationsBegin(self.start_of(env.start), self.end_of(env.body_start)))
                self.render(env.children)
                self.event(SubequationsEnd(self.end_of(env.end)))
            elif name == "proof":
                self.parbreak(env.start, env.start)
                opt = env.args[0] if env.args else None
                if opt is not None:  # \begin{proof}[Proof of Theorem 2]
                    self.render(opt.children)
                    self.out(". ", opt.end, opt.end)
                else:
                    self.out("Proof. ", env.start, env.body_start)
                self.render(env.children)
                self.parbreak(env.end, env.end)
            elif name in _FLOATS:
                self.event(FloatBegin(name, self.start_of(env.start), self.end_of(env.body_start)))
                self.parbreak(env.start, env.start)
                self.render(env.children)
                self.parbreak(env.end, env.end)
                self.event(FloatEnd(self.end_of(env.end)))
            elif name == "abstract":
                self.event(AbstractBegin(self.start_of(env.start), self.end_of(env.body_start)))
                self.render(env.children)
                self.event(AbstractEnd(self.end_of(env.end)))
            elif name in _LIST_ENVS:
                self.list_counters.append(0)
                self.parbreak(env.start, env.start)
                self.render(env.children)
                self.list_counters.pop()
                self.parbreak(env.end, env.end)
            elif name == "thebibliography":
                self.event(
                    BibliographyStart(
                        "thebibliography", self.start_of(env.start), self.end_of(env.body_start)
                    )
                )
                self.render(env.children)
            elif name in TABULAR_ENVS:
                self.parbreak(env.start, env.start)
                self.render(env.children)
                self.parbreak(env.end, env.end)
            elif name in self.ctx.environments:
                self.user_env(env, *self.ctx.environments[name])
            else:
                self.render(env.children)
        finally:
            self.env_stack.pop()

    # -- commands ------------------------------------------------------------------------------

    def _macro(self, m: Macro, nodes: list[Node], i: int) -> int:
        """Render one command; returns the index of the last sibling it consumed. A user
        definition wins unless the command is structural; otherwise the command table says
        which handler renders it."""
        name = m.name
        user = self.ctx.macros.get(name)
        command = COMMANDS.get(name)
        if user is not None and (command is None or not command.structural):
            return self.expand(user, m, nodes, i)
        if command is not None and command.action is not None:
            consumed = HANDLERS[command.action](self, m, command, nodes, i)
            return i if consumed is None else consumed
        if len(name) == 1 and not name.isalpha():
            return i  # an unknown control symbol: nothing
        if name in self.symbols:
            self.symbol(m)
            return i
        if user is not None and user.section_level is not None:
            return self.sibling_heading(m, user.section_level, nodes, i)
        return i


def render_document(
    doc: Document, ctx: RenderContext, entry_hidden: tuple[str, str] | None = None
) -> Fragment:
    """Render a whole file: its `document` environment when it has one, otherwise every node.
    Never raises on a parsed document."""
    r = Renderer(doc, ctx, entry_hidden)
    initial = r.state.hidden()
    if r.hide is None and initial is not None:  # e.g. default black text on a black page
        r.hide = HiddenRun(0, *initial)
    nodes = doc.nodes
    if doc.begin_document is not None:
        for node in nodes:
            if type(node) is Env and node.name == "document":
                nodes = node.children
                break
    r.render(nodes)
    if r.hide is not None:
        r.close_hide(len(doc.text))
    r.flush()
    # instructions to an AI reviewer in the visible text: reported (they stay in the text, a
    # reader sees them); scanned here so the result is cached with the fragment
    for ev in r.events:
        if type(ev) is TextRun:
            _scan_visible_instructions(ev.piece, r.findings)
    for cs, ce in r.controls:
        detail, text = describe_controls(doc.text[cs:ce])
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
    piece = r.subpiece(nodes)
    if r.hide is not None:
        r.close_hide(nodes[-1].end if nodes else 0)
    return piece, r.findings
