"""The output side of rendering: the emit API command handlers write through.

`Emitter` is the base of the renderer (`walk.Renderer`). What handlers may call:

- text out: `out(text, start, end)` (mapped to `src[start:end]`), `space`, `newline`,
  `parbreak`, `trim_space`, `text(start, end)` (source text as prose), `symbol(macro)`;
- structure: `event(Event)`, `keep_event(Event)` (also inside hidden text), `subpiece(nodes)`
  (a title or caption as its own piece), `span(node)`, `start_of(offset)`, `end_of(offset)`
  (inside a macro expansion: the invocation's span);
- hidden text: `state` (a `TextState`), `set_state(state, at)`, `render_with_state(state,
  node, nodes)`, `render_hidden(method, detail, node, nodes)`, `hidden_reason()`, `findings`;
- `render(nodes)` (the walk), `arg_text(arg)` (expansion.py), and the attributes `src`, `ctx`,
  `invocation`, `env_stack`, `list_counters`, `citations`, `symbols` (pylatexenc's names).
"""

from __future__ import annotations

import re

from papercycle.latex.document import Arg, Macro, Node
from papercycle.latex.hidden import BLACK, CONTROL_CHARS, WHITE, invisible_on
from papercycle.latex.render.definitions import RenderContext
from papercycle.latex.render.fragment import (
    Citation,
    Event,
    Label,
    Piece,
    RawFinding,
    Ref,
    TextRun,
)
from papercycle.latex.render.math_text import MATH_WS
from papercycle.latex.render.symbols import symbol_text

MAX_EXPANSION_WORK = 100_000  # nodes (and output chars / 4) inside expansions, per file
_SPACE_RUN = re.compile(r"[ \t\r]*\n[ \t\r]*(?:\n[ \t\r\n]*)?|[ \t\r]{2,}|[\t\r]")


class HiddenRun:
    """Hidden text being collected: where it started, why, and its words."""

    __slots__ = ("detail", "method", "parts", "start")

    def __init__(self, start: int, method: str, detail: str) -> None:
        self.start = start
        self.method = method
        self.detail = detail
        self.parts: list[str] = []


class TextState:
    """What decides whether text is visible: colors, size, transparency, explicit hiding."""

    __slots__ = ("bg", "boxed", "fg", "reason", "tiny", "transparent")

    def __init__(
        self, fg=None, bg=WHITE, tiny=None, reason=None, boxed=False, transparent=None
    ) -> None:
        self.fg = fg  # None: default (black)
        self.bg = bg
        self.tiny = tiny  # detail string when the font is unreadably small
        self.reason = reason  # ("phantom", detail) etc. for explicitly invisible content
        self.boxed = boxed  # inside a \colorbox
        self.transparent = transparent  # detail string under \transparent{0}

    def copy(self) -> TextState:
        return TextState(self.fg, self.bg, self.tiny, self.reason, self.boxed, self.transparent)

    def hidden(self) -> tuple[str, str] | None:
        if self.reason is not None:
            return self.reason
        if self.transparent is not None:
            return ("transparent", self.transparent)
        if self.tiny is not None:
            return ("tiny-font", self.tiny)
        fg = self.fg if self.fg is not None else BLACK
        if invisible_on(fg, self.bg):
            if self.bg == WHITE:
                return ("white-text", "text color is white on a white page")
            if self.boxed:
                return ("colorbox", "text color equals its box background")
            return ("page-color", "text color equals the page color")
        return None


class Emitter:
    """Output buffer, events and hidden state of one file's rendering (see the module doc).
    The attributes are set by `walk.Renderer`."""

    src: str
    ctx: RenderContext
    events: list[Event]
    citations: list[Citation]
    findings: list[RawFinding]
    state: TextState
    hide: HiddenRun | None
    invocation: tuple[int, int] | None
    env_stack: list[str]
    list_counters: list[int]
    symbols: frozenset[str]
    exp_depth: int
    exp_work: int

    # -- output ------------------------------------------------------------------------------

    def out(self, s: str, start: int, end: int) -> None:
        """Append s, mapping to src[start:end] (inside an expansion: to the invocation)."""
        if not s:
            return
        if self.exp_depth:
            self.exp_work += len(s) // 4  # output inside expansions counts against the budget
            if self.exp_work > MAX_EXPANSION_WORK:
                return
        if self.hide is not None:
            self.hide.parts.append(s)
            return
        if self.invocation is not None:
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
        start, end = self.invocation
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

    def space(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append(" ")
            return
        if self._last in " \n":
            return
        self.out(" ", start, end)

    def trim_space(self) -> None:
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

    def newline(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append("\n")
            return
        self.trim_space()
        if self._last != "\n":
            self.out("\n", start, end)

    def parbreak(self, start: int, end: int) -> None:
        if self.hide is not None:
            self.hide.parts.append("\n")
            return
        self.trim_space()
        if self._last == "\n":
            return
        self.out("\n\n", start, end)

    def flush(self) -> None:
        if self._parts:
            self.events.append(TextRun(Piece("".join(self._parts), self._segs)))
            self._parts = []
            self._segs = []
            self._len = 0

    def event(self, ev: Event) -> None:
        if self.hide is not None:
            return  # structure inside hidden text does not exist for the reader
        self.flush()
        self.events.append(ev)
        # what follows an event is not at the start of a line: keep its leading space
        self._last = "x"

    def subpiece(self, nodes: list[Node]) -> Piece:
        """Render nodes into a separate piece (titles, captions); `\\ref`s inside are kept as
        holes, labels inside still count."""
        saved = (self._parts, self._segs, self._len, self._last, self.events)
        self._parts, self._segs, self._len, self._last = [], [], 0, "\n"
        self.events = []
        self.render(nodes)
        self.flush()
        inner_events = self.events
        self._parts, self._segs, self._len, self._last, self.events = saved
        parts: list[str] = []
        segs: list[list[int]] = []
        refs: list[tuple[int, Ref]] = []
        n = 0
        for ev in inner_events:
            if type(ev) is TextRun:
                piece = ev.piece
                parts.append(piece.text)
                segs.extend([a + n, b + n, c, d] for a, b, c, d in piece.segs)
                n += len(piece.text)
            elif type(ev) is Ref:
                refs.append((n, ev))
            elif type(ev) is Label:
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
            refs = [(min(o, cut), ref) for o, ref in refs]
            text = stripped
        return Piece(text, segs, refs)

    # -- hidden state ------------------------------------------------------------------------

    def set_state(self, new: TextState, at: int) -> None:
        was = self.state.hidden()
        self.state = new
        now = new.hidden()
        if was is None and now is not None and self.hide is None:
            self.hide = HiddenRun(self.start_of(at), now[0], now[1])
        elif was is not None and now is None and self.hide is not None:
            self.close_hide(at)

    def close_hide(self, end: int) -> None:
        h = self.hide
        self.hide = None
        if h is None:
            return
        start, stop = (h.start, end) if self.invocation is None else self.invocation
        text = re.sub(r"\s+", " ", "".join(h.parts)).strip()
        if not text:
            return  # nothing was hidden (e.g. a box whose text color is set right after)
        self.findings.append(RawFinding(start, max(stop, start), h.method, h.detail, text))

    def render_hidden(self, method: str, detail: str, node: Node, nodes: list[Node]) -> None:
        """Render `nodes` as explicitly hidden content spanning `node`."""
        if self.hide is not None:
            self.render(nodes)
            return
        saved = self.state
        st = saved.copy()
        st.reason = (method, detail)
        self.state = st
        self.hide = HiddenRun(node.start, method, detail)
        self.render(nodes)
        self.close_hide(node.end)
        self.state = saved

    def render_with_state(self, st: TextState, node: Node, nodes: list[Node]) -> None:
        saved = self.state
        self.set_state(st, node.start)
        self.render(nodes)
        self.set_state(saved, node.end)

    # -- text ----------------------------------------------------------------------------------

    def text(self, start: int, end: int) -> None:
        src = self.src
        has = self._has_controls.get(id(src))
        if has is None:
            has = self._has_controls[id(src)] = CONTROL_CHARS.search(src) is not None
        if has:
            # split around invisible characters: they are findings, not prose (also in macro
            # bodies and arguments, whichever file they come from)
            for m in CONTROL_CHARS.finditer(src, start, end):
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
        if self.invocation is not None:
            s = MATH_WS.sub(" ", s)
            if s == " " and self._last in " \n":
                return
            self.out(s, start, end)
            return
        if "\n" not in s and "  " not in s and "\t" not in s and "\r" not in s:
            if s[0] == " " and self._last in " \n":
                if len(s) == 1:
                    return
                start += 1
                s = s[1:]
            self.out(s, start, end)
            return
        pos = 0
        n = len(s)
        for m in _SPACE_RUN.finditer(s):
            a, b = m.span()
            if a > pos:
                piece = s[pos:a]
                if piece[0] == " " and self._last in " \n":
                    if len(piece) > 1:
                        self.out(piece[1:], start + pos + 1, start + a)
                else:
                    self.out(piece, start + pos, start + a)
            if m.group(0).count("\n") >= 2:
                self.parbreak(start + a, start + b)
            else:
                self.space(start + a, start + b)
            pos = b
        if pos < n:
            piece = s[pos:]
            if piece[0] == " " and self._last in " \n":
                if len(piece) > 1:
                    self.out(piece[1:], start + pos + 1, end)
            else:
                self.out(piece, start + pos, end)

    def span(self, node: Node) -> tuple[int, int]:
        return self.invocation if self.invocation is not None else (node.start, node.end)

    def start_of(self, offset: int) -> int:
        """A start offset for an event: inside a macro expansion, the invocation's start."""
        return offset if self.invocation is None else self.invocation[0]

    def end_of(self, offset: int) -> int:
        return offset if self.invocation is None else self.invocation[1]

    def symbol(self, m: Macro) -> None:
        snippet = self.src[m.start : m.end]
        text = symbol_text(snippet)
        if text:
            self.out(text, m.start, m.end)

    def hidden_reason(self) -> tuple[str, str] | None:
        """(method, detail) while the output is hidden text, else None."""
        return None if self.hide is None else (self.hide.method, self.hide.detail)

    def keep_event(self, ev: Event) -> None:
        """An event that exists even inside hidden text (an include: the assembler renders the
        included file hidden)."""
        self.flush()
        self.events.append(ev)

    def render(self, nodes: list[Node], scoped: bool = True) -> None:
        raise NotImplementedError  # walk.Renderer

    def arg_text(self, arg: Arg | None) -> str:
        raise NotImplementedError  # expansion.Expansion
