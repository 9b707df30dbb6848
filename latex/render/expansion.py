"""User macros and environments: a definition's body renders mapped to its invocation (every
output character points at `\\mymacro{...}`), its `#n` render the actual arguments mapped to
where they are. Budgets keep `\\def\\a#1{#1#1}`-style doubling from blowing up time or memory."""

from __future__ import annotations

from papercycle.latex.document import Arg, Comment, Env, Group, Macro, Node, Param, Text
from papercycle.latex.render.definitions import MacroDef
from papercycle.latex.render.emit import MAX_EXPANSION_WORK, Emitter
from papercycle.latex.render.fragment import Heading, Piece

MAX_EXPANSIONS = 20000
MAX_EXPANSION_DEPTH = 24
__all__ = ["MAX_EXPANSIONS", "MAX_EXPANSION_DEPTH", "MAX_EXPANSION_WORK", "Expansion"]


class Expansion(Emitter):
    """The expansion part of the renderer (`walk.Renderer`)."""

    def user_env(self, env: Env, begin: MacroDef, end: MacroDef) -> None:
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
                args[len(args) + 1] = (node.children, self.src, self.invocation, outer)
            elif type(node) is not Text or self.src[node.start : node.end].strip():
                break
            k += 1
        saved = self.state
        self.definition_body(begin, (env.start, env.body_start), args)
        self.render(children[k:] if args else children)
        self.definition_body(end, (env.body_end, env.end), {})
        self.set_state(saved, env.end)

    def definition_body(self, d: MacroDef, span: tuple[int, int], args: dict) -> None:
        """Render a definition's body mapped to `span`, keeping the state it sets."""
        if self.exp_depth >= MAX_EXPANSION_DEPTH or self.expansions >= MAX_EXPANSIONS:
            return
        self.expansions += 1
        saved = (self.src, self.invocation)
        self.src, self.invocation = d.doc.text, self.invocation or span
        self._bindings.append(args)
        self.exp_depth += 1
        try:
            self.render(d.body, scoped=False)
        finally:
            self.exp_depth -= 1
            self._bindings.pop()
            self.src, self.invocation = saved

    def arg_text(self, arg: Arg | None) -> str:
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

    def sibling_heading(self, m: Macro, level: int, nodes: list[Node], i: int) -> int:
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
            title = self.subpiece(g.children)
            self.event(
                Heading(level, m.name, star, self.start_of(m.start), self.end_of(g.end), title)
            )
            return j
        self.event(
            Heading(level, m.name, star, self.start_of(m.start), self.end_of(m.end), Piece("", []))
        )
        return i

    def param(self, p: Param) -> None:
        # a #n outside an expansion (in a definition body rendered directly): nothing
        if not self._bindings:
            return
        bound = self._bindings[-1].get(p.number)
        if bound is None:
            return
        nodes, src, repl, outer = bound
        saved = (self.src, self.invocation)
        self.src, self.invocation = src, repl
        self._bindings.append(outer)
        try:
            self.render(nodes)
        finally:
            self._bindings.pop()
            self.src, self.invocation = saved

    def expand(self, d: MacroDef, m: Macro, nodes: list[Node], i: int) -> int:
        """Expand a user macro: its body renders mapped to the invocation; #n render the actual
        arguments mapped to where they are."""
        if self.exp_depth >= MAX_EXPANSION_DEPTH or self.expansions >= MAX_EXPANSIONS:
            return i
        if d.section_level is not None:
            return self.sibling_heading(m, d.section_level, nodes, i)
        self.expansions += 1
        args: dict[int, tuple] = {}
        outer = self._bindings[-1] if self._bindings else {}
        end = m.end
        j = i
        if m.args:  # a builtin spec already parsed the arguments (a redefined \emph)
            mand = [a for a in m.args if a is not None and a.kind != "["]
            for k in range(1, d.nargs + 1):
                if k - 1 < len(mand):
                    args[k] = (mand[k - 1].children, self.src, self.invocation, outer)
        else:
            k = 1
            span0 = self.invocation if self.invocation is not None else (m.start, m.end)
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
                    args[1] = (nodes[jj + 1 : close], self.src, self.invocation, outer)
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
                    args[k] = (nxt.children, self.src, self.invocation, outer)
                    end = nxt.end
                    j = jj
                else:
                    break  # a single-token argument: rare, keep it as text
                k += 1
        span = self.invocation if self.invocation is not None else (m.start, end)
        saved = (self.src, self.invocation)
        self.src, self.invocation = d.doc.text, span
        self._bindings.append(args)
        self.exp_depth += 1
        try:
            self.render(d.body)
        finally:
            self.exp_depth -= 1
            self._bindings.pop()
            self.src, self.invocation = saved
        return j


# Names always handled by the renderer even when a user redefines them: the project structure
