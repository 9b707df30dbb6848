"""Command handlers: what the renderer does for each action of the command table
(`project/commands.py`). Each is `handler(r, macro, command, siblings, index)` and writes only
through the emit API (`emit.py`); it returns the index of the last sibling it consumed, or None
for just itself."""

from __future__ import annotations

import re
from collections.abc import Callable

from papercycle.latex.commands import Command
from papercycle.latex.document import Group, Macro, Node, Text, words
from papercycle.latex.hidden import (
    INVISIBLE_OPACITY,
    TINY_FONT_PT,
    parse_dimension_pt,
    resolve_color,
    tikz_hidden_nodes,
)
from papercycle.latex.render.emit import Emitter
from papercycle.latex.render.fragment import (
    AbstractBegin,
    AbstractEnd,
    Appendix,
    Bibitem,
    BibliographyStart,
    Caption,
    Citation,
    FloatBegin,
    FloatEnd,
    Heading,
    Include,
    Label,
    Maketitle,
    Piece,
    RawFinding,
    Ref,
)
from papercycle.latex.render.math_text import compact_math

TABULAR_ENVS = frozenset(words("tabular tabular* tabularx tabulary longtable array"))
PHANTOM_PADDING_CHARS = 3


def _drop(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """Set-up, layout, definitions: the parser read the arguments; nothing is shown."""
    return None


def _footnote(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """A footnote is read where it is called, marked as such for the model."""
    arg = m.arg(1)
    if arg is None:
        return
    r.out(" [Footnote: ", m.start, m.start)
    r.render(arg.children)
    r.trim_space()
    r.out("]", m.end, m.end)


def _label(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    key = r.arg_text(m.arg(0)).strip()
    if key and r.invocation is None:
        r.event(Label(key, r.start_of(m.start), r.end_of(m.end)))
    elif key and r.invocation is not None:
        r.event(Label(key, *r.invocation))


def _color(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    model = r.arg_text(m.arg(0)) if m.arg(0) is not None else None
    color = resolve_color(model, r.arg_text(m.arg(1)), r.ctx.colors)
    if color is None:
        return
    st = r.state.copy()
    st.fg = color
    r.set_state(st, m.start)


def _textcolor(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    body = m.arg(2)
    if body is None:
        return
    model = r.arg_text(m.arg(0)) if m.arg(0) is not None else None
    color = resolve_color(model, r.arg_text(m.arg(1)), r.ctx.colors)
    if color is None:
        r.render(body.children)
        return
    st = r.state.copy()
    st.fg = color
    r.render_with_state(st, m, body.children)


def _colorbox(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    if m.name == "fcolorbox":
        model, spec, body = m.arg(0), m.arg(3), m.arg(4)
    else:
        model, spec, body = m.arg(0), m.arg(1), m.arg(2)
    if body is None:
        return
    color = resolve_color(
        r.arg_text(model) if model is not None else None, r.arg_text(spec), r.ctx.colors
    )
    if color is None:
        r.render(body.children)
        return
    st = r.state.copy()
    st.bg = color
    st.boxed = True
    r.render_with_state(st, m, body.children)


def _pagecolor(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    model = r.arg_text(m.arg(0)) if m.arg(0) is not None else None
    color = resolve_color(model, r.arg_text(m.arg(1)), r.ctx.colors)
    if color is not None:
        st = r.state.copy()
        st.bg = color
        r.set_state(st, m.start)


def _fontsize(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    size = parse_dimension_pt(r.arg_text(m.arg(0)))
    st = r.state.copy()
    if size is not None and size < TINY_FONT_PT:
        st.tiny = f"font size {r.arg_text(m.arg(0)).strip()} (under {TINY_FONT_PT:g}pt)"
    else:
        st.tiny = None
    r.set_state(st, m.start)


def _phantom(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(0)
    if arg is None:
        return
    before = len(r.findings)
    r.render_hidden("phantom", f"\\{m.name} typesets nothing visible", m, arg.children)
    found = r.findings[before:]
    if len(found) == 1 and _is_padding(found[0].text):
        del r.findings[before:]


def _is_padding(text: str) -> bool:
    """`\\phantom{0}`, `\\phantom{00.0}`, `\\hphantom{$-$}` aligning a table's numbers: too short,
    or without a letter, to carry a message."""
    text = text.replace(" ", "")
    return len(text) <= PHANTOM_PADDING_CHARS or not any(c.isalpha() for c in text)


def _transparent(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """transparent's `\\transparent{0}` (a switch) and `\\texttransparent{0}{text}`."""
    spec = r.arg_text(m.arg(0)).strip()
    body = m.arg(1) if m.name == "texttransparent" else None
    try:
        opacity = float(spec)
    except ValueError:  # an opacity we cannot read: the text stays as it is
        if body is not None:
            r.render(body.children)
        return
    st = r.state.copy()
    st.transparent = (
        f"\\{m.name}{{{spec}}}: fully transparent text" if opacity < INVISIBLE_OPACITY else None
    )
    if body is not None:
        r.render_with_state(st, m, body.children)
    elif m.name == "transparent":
        r.set_state(st, m.start)


def _tikz(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """`\\tikz[...]{...}` or `\\tikz ... ;` inline: a picture, not prose (its hidden nodes are
    findings); returns the last sibling it consumes."""
    j = i + 1
    while j < min(len(nodes), i + 200):  # an inline picture is short; never scan a whole file
        node = nodes[j]
        head = r.src[m.end : node.start].strip()
        if type(node) is Group and (not head or (head[0] == "[" and head[-1] == "]")):
            render_tikz(r, m.start, node.end)
            return j
        if type(node) is Text and ";" in r.src[node.start : node.end]:
            stop = r.src.index(";", node.start, node.end) + 1
            render_tikz(r, m.start, stop)
            r.text(stop, node.end)
            return j
        j += 1
    return i


def _scalebox(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    if m.name == "scalebox":
        factor_s, body = r.arg_text(m.arg(0)), m.arg(2)
        try:
            factor = float(factor_s)
        except ValueError:
            factor = 1.0
        tiny = abs(factor) < 0.1
        detail = f"\\scalebox{{{factor_s}}}"
    else:  # resizebox{w}{h}{body}
        w, h, body = r.arg_text(m.arg(0)), r.arg_text(m.arg(1)), m.arg(2)
        dims = [parse_dimension_pt(x) for x in (w, h)]
        tiny = any(d is not None and d < TINY_FONT_PT for d in dims)
        detail = f"\\resizebox{{{w}}}{{{h}}}"
    if body is None:
        return
    if tiny:
        r.render_hidden("tiny-font", f"{detail} shrinks text to nothing", m, body.children)
    else:
        r.render(body.children)


def _caption(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(1) if m.name == "caption" else m.arg(2)
    if arg is None:
        return
    piece = r.subpiece(arg.children)
    if m.name == "captionof":
        kind = r.arg_text(m.arg(0)).strip()
        r.event(FloatBegin(kind, r.start_of(m.start), r.start_of(m.start)))
        r.event(Caption(r.start_of(m.start), r.end_of(m.end), piece))
        r.event(FloatEnd(r.end_of(m.end)))
    else:
        r.event(Caption(r.start_of(m.start), r.end_of(m.end), piece))


def _item(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    label = m.arg(0)
    if r.list_counters and label is None:
        r.list_counters[-1] += 1
        env = r.env_stack[-1] if r.env_stack else ""
        bullet = f"{r.list_counters[-1]}. " if env in ("enumerate", "compactenum") else "- "
    else:
        bullet = ""
    r.newline(m.start, m.start)
    if bullet:
        r.out(bullet, m.start, m.end)
    if label is not None:
        r.render(label.children)
        r.out(" ", label.end - 1, label.end)


def _bibitem(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    key = r.arg_text(m.arg(1)).strip()
    r.newline(m.start, m.start)
    r.out(f"[{key}] ", m.start, m.end)
    r.event(Bibitem(key, r.start_of(m.start), r.end_of(m.end)))


def _bibliography(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    if m.name in ("bibliography", "printbibliography"):
        r.event(BibliographyStart(m.name, r.start_of(m.start), r.end_of(m.end)))


def _abstract(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(0)
    if arg is None:  # \abstract as the begin-macro of the environment: nothing to do
        return
    r.event(AbstractBegin(r.start_of(m.start), r.end_of(arg.inner_start)))
    r.render(arg.children)
    r.event(AbstractEnd(r.end_of(m.end)))


def _maketitle(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    r.event(Maketitle(r.start_of(m.start), r.end_of(m.end)))


def _appendix(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    r.event(Appendix(r.start_of(m.start), r.end_of(m.end)))


def _url(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(0)
    if arg is not None:
        r.out(r.src[arg.inner_start : arg.inner_end], arg.inner_start, arg.inner_end)


def _ensuremath(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(0)
    if arg is not None:
        r.out(f"${compact_math(r.arg_text(arg))}$", m.start, m.end)


def _section(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    level = command.value
    title_arg = m.arg(1)
    title = r.subpiece(title_arg.children) if title_arg is not None else Piece("", [])
    start, end = r.span(m)
    r.event(Heading(level, m.name, m.star, start, end, title))


def _cite(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    arg = m.arg(2)
    keys: list[tuple[str, int, int]] = []
    every_entry = False
    if arg is not None:
        raw = (
            r.arg_text(arg) if r.invocation is not None else r.src[arg.inner_start : arg.inner_end]
        )
        for km in re.finditer(r"[^,\s]+", raw):
            if km.group(0) == "*":
                every_entry = True  # \nocite{*}: every entry, not a key
                continue
            if r.invocation is None:
                keys.append((km.group(0), arg.inner_start + km.start(), arg.inner_start + km.end()))
            else:
                keys.append((km.group(0), *r.invocation))
    start, end = r.span(m)
    r.citations.append(Citation(m.name, keys, start, end, every_entry))
    shows = command.value
    if shows == "none" or not keys:
        return
    shown = "[" + "; ".join(k for k, _, _ in keys) + "]"
    if shows != "keys":
        shown = "[" + shows + ": " + shown[1:]
    r.out(shown, m.start, m.end)


def _show(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """Formatting and boxes: only one argument is prose."""
    arg = m.arg(command.value)
    if arg is not None:
        r.render(arg.children)


def _ref(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    keys = [k.strip() for k in r.arg_text(m.arg(0)).split(",") if k.strip()]
    r.event(Ref(m.name, keys, *r.span(m)))


def _include(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    if r.invocation is not None:
        return None  # inside a macro body: not an include of this file
    hidden = r.hidden_reason()
    if hidden is not None:
        # an included file inside hidden text is hidden too: the assembler renders it with
        # this reason
        r.keep_event(Include(m.start, m.end, m.name, hidden))
    else:
        r.event(Include(m.start, m.end, m.name, None))


def _text(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """Fixed text: a control symbol (`\\%`), a logo, an abbreviation, a space."""
    text = command.value
    if text.startswith(";"):  # \and between authors
        r.trim_space()
    if text == "\n\n":
        r.parbreak(m.start, m.end)
    elif text == " ":
        r.space(m.start, m.end)
    else:
        r.out(text, m.start, m.end)


def _linebreak(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    """`\\\\`: a row of a table ends a line; elsewhere a space."""
    if r.env_stack and r.env_stack[-1] in TABULAR_ENVS:
        r.newline(m.start, m.end)
    else:
        r.space(m.start, m.end)


def _accent(r: Emitter, m: Macro, command: Command, nodes: list[Node], i: int) -> int | None:
    # a one-letter accent (\u, \c) read as a bare token has no argument: a symbol if any
    if not m.name.isalpha() or m.args or m.name in r.symbols:
        r.symbol(m)


def render_tikz(r: Emitter, start: int, end: int) -> None:
    """TikZ pictures are not prose; nodes whose text is invisible are findings."""
    for s, e, detail, text in tikz_hidden_nodes(r.src, start, end, r.ctx.colors, r.state.bg):
        span = r.invocation or (s, e)
        r.findings.append(RawFinding(span[0], span[1], "tikz", detail, text))


Handler = Callable[[Emitter, Macro, Command, list[Node], int], int | None]

# One handler per action of the command table.
HANDLERS: dict[str, Handler] = {
    "section": _section,
    "cite": _cite,
    "ref": _ref,
    "include": _include,
    "show": _show,
    "text": _text,
    "linebreak": _linebreak,
    "accent": _accent,
    "drop": _drop,
    "footnote": _footnote,
    "label": _label,
    "color": _color,
    "textcolor": _textcolor,
    "colorbox": _colorbox,
    "pagecolor": _pagecolor,
    "fontsize": _fontsize,
    "phantom": _phantom,
    "transparent": _transparent,
    "tikz": _tikz,
    "scalebox": _scalebox,
    "caption": _caption,
    "item": _item,
    "bibitem": _bibitem,
    "bibliography": _bibliography,
    "abstract": _abstract,
    "maketitle": _maketitle,
    "appendix": _appendix,
    "url": _url,
    "ensuremath": _ensuremath,
}
