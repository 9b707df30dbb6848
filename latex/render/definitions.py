"""Project-wide definitions every file's rendering depends on: colors, user macros and
environments (`\\newcommand`, `\\def`, `\\newenvironment`), theorem environments and the page
color, collected from all files in include order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from papercycle.latex import hidden
from papercycle.latex.document import Arg, Document, Macro, Node, content_digest


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

    colors: dict[str, hidden.RGB] = field(default_factory=dict)
    macros: dict[str, MacroDef] = field(default_factory=dict)
    # \newtheorem: environment -> (printed name, counter or None when unnumbered, within)
    theorems: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    # \newenvironment: name -> (begin code, end code)
    environments: dict[str, tuple[MacroDef, MacroDef]] = field(default_factory=dict)
    page_color: hidden.RGB = hidden.WHITE  # \pagecolor in the preamble
    signature: str = ""


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
                        color = hidden.parse_color_model(
                            doc.arg_text(macro.arg(2)), doc.arg_text(macro.arg(3))
                        )
                    else:
                        model = doc.arg_text(macro.arg(2)) or None
                        color = hidden.resolve_color(model, doc.arg_text(macro.arg(3)), ctx.colors)
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
                    color = hidden.resolve_color(model, doc.arg_text(macro.arg(1)), ctx.colors)
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
