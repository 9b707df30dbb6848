"""Per-file parse: a LaTeX source string -> a tree of nodes with exact offsets.

Written by hand, on purpose. pylatexenc 2.x's LatexWalker gives node positions too, but it
took ~1 s on a 283 KB file here (the whole-project budget is 300 ms) and it cannot say which
groups are `\\verb`, `\\iffalse` or raw `\\url` arguments without custom context databases.
This parser is a single regex-driven pass, never raises on any input (unbalanced braces,
stray `\\end`, unterminated math or verbatim, deep nesting are all tolerated) and records
the macros the project model needs (includes, definitions, bibliography resources) while it
parses. pylatexenc is still used where it serves: rendering accents and text symbols to
Unicode (see `render/symbols.py`).
"""

from __future__ import annotations

import re

from papercycle.latex.document.nodes import (
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
    content_digest,
)
from papercycle.latex.document.specs import (
    DEF_MACROS,
    DEFAULT_ENV_SPEC,
    ENV_SPECS,
    MACRO_SPECS,
    MATH_ENVS,
    RAW_ENVS,
    RECORDED,
)

_TOKEN = re.compile(
    r"(?P<text>[^\\{}%$\[\]#]+)"
    r"|(?P<cs>\\(?:[A-Za-z@]+|.)?)"
    r"|(?P<open>\{)"
    r"|(?P<close>\})"
    r"|(?P<comment>%[^\n]*(?:\n[ \t]*)?)"
    r"|(?P<dollar>\$\$?)"
    r"|(?P<param>#+[1-9]?)"
    r"|(?P<bracket>[\[\]])",
    re.S,
)
_WS = re.compile(r"[ \t\r]*(?:\n[ \t\r]*)?")  # spaces and at most one newline
_MAGIC_ROOT = re.compile(r"^[ \t]*%[ \t]*!\s*TeX[ \t]+root[ \t]*=[ \t]*(.+?)[ \t]*$", re.I | re.M)
_IF_TOKENS = re.compile(r"\\(if[A-Za-z@]*|fi|else|or)(?![A-Za-z@])|%[^\n]*")
_BARE_FILE = re.compile(r"[^\s{}%\\]+")
_ENV_NAME = re.compile(r"\s*\{([^{}\\\n]*)\}")
_END_TAG = re.compile(r"\\end\s*\{([^{}\\\n]*)\}")
_DEF_HEAD = re.compile(r"\s*(\\(?:[A-Za-z@]+|.))([^{]*)", re.S)
_LET = re.compile(r"\s*\\(?:[A-Za-z@]+|.)\s*=?\s*(?:\\(?:[A-Za-z@]+|.)|.)?", re.S)
MAX_DEPTH = 150  # deeper brace nesting is read as text (no recursion error on any input)
_VERBATIM_BODY_ENVS = MATH_ENVS | RAW_ENVS  # bodies read up to their \end tag, not parsed
_BRACE_SCAN = re.compile(r"\\.|%[^\n]*|[{}]", re.S)
# only the escapes that matter for brackets (\[ \] \{ \} \% \\), not every macro: 5x fewer hits
_BRACKET_SCAN = re.compile(r"\\[\[\]{}%\\]|%[^\n]*|[\[\]{}]")


def parse(text: str) -> Document:
    """Parse LaTeX source. Never raises."""
    parser = _Parser(text)
    nodes = parser.parse_top()
    doc = Document(
        text=text,
        nodes=nodes,
        digest=content_digest(text),
        recorded=parser.recorded,
        begin_document=parser.begin_document,
        documentclass=parser.documentclass,
        problems=parser.problems,
    )
    head = text[:20000]
    m = _MAGIC_ROOT.search(head)
    if m:
        doc.magic_root = (m.group(1), m.start(1), m.end(1))
    return doc


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.depth = 0
        self.def_depth = 0
        self.recorded: list[tuple[Macro, bool]] = []
        self.begin_document: int | None = None
        self.documentclass: Macro | None = None
        self.problems: list[tuple[int, int, str]] = []
        self.env_stack: list[str] = []
        self.failed_brackets: set[int] = set()
        self.limit = self.n  # parsing stops here (inside an optional argument: at its "]")
        self._brackets: dict[int, int] | None = None

    # -- sequences ---------------------------------------------------------------------------

    def parse_top(self) -> list[Node]:
        out: list[Node] = []
        while self.pos < self.n:
            out.extend(self.parse_seq(stop=None))
            if self.pos < self.n:  # a stray "}" or "\end" at top level
                ch = self.text[self.pos]
                if ch == "}":
                    self.problems.append((self.pos, self.pos + 1, "unmatched '}'"))
                    out.append(Text(self.pos, self.pos + 1))
                    self.pos += 1
        return out

    def parse_seq(self, stop: str | None) -> list[Node]:
        """Parse until `stop` ("}" or "]" or "\\end") at this level, or EOF. Leaves pos at the
        stop token (not consumed)."""
        text = self.text
        out: list[Node] = []
        append = out.append
        match = _TOKEN.match
        while self.pos < self.limit:
            m = match(text, self.pos)
            if m is None:  # cannot happen with this pattern; be safe anyway
                append(Text(self.pos, self.pos + 1))
                self.pos += 1
                continue
            kind = m.lastgroup
            start, end = m.span()
            if kind == "text":
                append(Text(start, end))
                self.pos = end
            elif kind == "cs":
                name = text[start + 1 : end]
                if name == "end" and stop is not None and stop.startswith("\\end"):
                    return out
                if name == "end" and self.env_stack:
                    # an \end for an outer environment closes this one implicitly
                    ename = self._peek_env_name(end)
                    if ename is not None and ename in self.env_stack:
                        return out
                node = self.parse_control(start, end, name)
                if node is not None:
                    append(node)
            elif kind == "open":
                if self.depth >= MAX_DEPTH:
                    append(Text(start, end))
                    self.pos = end
                else:
                    append(self.parse_group(start))
            elif kind == "close":
                if stop is not None:
                    return out  # the caller decides what a "}" means here
                self.problems.append((start, end, "unmatched '}'"))
                append(Text(start, end))
                self.pos = end
            elif kind == "comment":
                append(Comment(start, end))
                self.pos = end
            elif kind == "dollar":
                append(self.parse_dollar(start, end))
            elif kind == "param":
                digits = text[end - 1]
                if digits.isdigit():
                    append(Param(start, end, int(digits)))
                else:
                    append(Text(start, end))
                self.pos = end
            else:  # bracket
                if stop == "]" and text[start] == "]":
                    return out
                append(Text(start, end))
                self.pos = end
        return out

    def parse_group(self, start: int) -> Group:
        self.pos = start + 1
        self.depth += 1
        children = self.parse_seq(stop="}")
        self.depth -= 1
        if self.pos < self.n and self.text[self.pos] == "}":
            self.pos += 1
            return Group(start, self.pos, children, True)
        if self.pos >= self.n:
            self.problems.append((start, start + 1, "'{' is never closed"))
        return Group(start, self.pos, children, self.pos < self.n)

    # -- control sequences -------------------------------------------------------------------

    def parse_control(self, start: int, end: int, name: str) -> Node | None:
        text = self.text
        self.pos = end
        if name == "begin":
            return self.parse_env(start)
        if name == "end":  # stray \end{x} that matches nothing open
            ename_arg = self.parse_arg("{", allow_token=True)
            if not self.def_depth:  # half an environment is normal in a macro body
                self.problems.append((start, self.pos, "\\end without matching \\begin"))
            return Macro(start, self.pos, "end", False, [ename_arg])
        if name == "iffalse":
            return self.parse_iffalse(start)
        if name in ("verb", "verb*", "lstinline", "mintinline"):
            return self.parse_verb(start, name)
        if name in ("(", "["):
            close = "\\)" if name == "(" else "\\]"
            stop = self._find_math_close(end, close)
            if stop < 0:
                return Text(start, end)
            self.pos = stop + 2
            return Math(start, self.pos, end, stop, name == "[", None)
        if name in ("def", "gdef", "edef", "xdef"):
            return self.parse_def(start, name)
        if name == "let":
            return self.parse_let(start)
        spec = MACRO_SPECS.get(name)
        if spec is None:
            return Macro(start, end, name, False, [])
        in_def = name in DEF_MACROS
        saved_envs = self.env_stack
        if in_def:
            # a definition body is not structure: an \\end{align} in it closes nothing outside
            self.def_depth += 1
            self.env_stack = []
        star = False
        args: list[Arg | None] = []
        for ch in spec:
            if ch == "*":
                if self.pos < self.n and text[self.pos] == "*":
                    star = True
                    self.pos += 1
            else:
                args.append(self.parse_arg(ch, allow_token=True))
        if in_def:
            self.def_depth -= 1
            self.env_stack = saved_envs
        node = Macro(start, self.pos, name, star, args)
        if name in RECORDED:
            self.recorded.append((node, self.def_depth > 0))
            if name == "documentclass" and self.documentclass is None and self.def_depth == 0:
                self.documentclass = node
        return node

    def _skip_ws(self, allow_par: bool = False) -> int:
        """Position after spaces and at most one newline (TeX skips these before arguments)."""
        m = _WS.match(self.text, self.pos)
        return m.end() if m else self.pos

    def parse_arg(self, kind: str, allow_token: bool) -> Arg | None:
        text = self.text
        p = self._skip_ws()
        if p >= self.n:
            return None
        ch = text[p]
        if kind == "[":
            if ch != "[" or p in self.failed_brackets or self.depth >= MAX_DEPTH:
                return None
            close = self._bracket_close(p)
            if close < 0 or close >= self.limit:
                # no "]" at this brace depth before the group ends, or the "]" belongs to an
                # enclosing optional argument (LaTeX takes the first "]" at the same depth)
                return None
            saved = (self.limit, len(self.recorded), len(self.problems))
            self.limit = min(self.limit, close)
            self.pos = p + 1
            self.depth += 1
            children = self.parse_seq(stop="]")
            self.depth -= 1
            self.limit = saved[0]
            if self.pos == close:
                self.pos += 1
                return Arg("[", p, self.pos, p + 1, self.pos - 1, children)
            # the "]" was inside something else (math, verbatim): not an argument after all
            del self.recorded[saved[1] :]
            del self.problems[saved[2] :]
            self.failed_brackets.add(p)
            self.pos = p
            return None
        if kind == "g" and ch != "{":
            return None
        if kind == "p":  # booktabs' (lr) trim
            if ch != "(":
                return None
            q = text.find(")", p, p + 40)
            if q < 0:
                return None
            self.pos = q + 1
            return Arg("raw", p, q + 1, p + 1, q, [])
        if kind == "r":
            if ch != "{":
                return None
            depth = 0
            q = p
            while q < self.n:
                c = text[q]
                if c == "\\":
                    q += 2
                    continue
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        self.pos = q + 1
                        return Arg("raw", p, q + 1, p + 1, q, [])
                q += 1
            self.pos = self.n
            return Arg("raw", p, self.n, p + 1, self.n, [])
        if kind == "f" and ch != "{":
            m = _BARE_FILE.match(text, p)
            if not m:
                return None
            self.pos = m.end()
            return Arg("raw", p, m.end(), p, m.end(), [])
        if ch == "{":
            if self.depth >= MAX_DEPTH:
                return None
            g = self.parse_group(p)
            return Arg(
                "{", g.start, g.end, g.start + 1, g.end - 1 if g.closed else g.end, g.children
            )
        if not allow_token or ch in "}]":
            return None
        # a single token as argument: \section\foo or \'e
        if ch == "\\":
            m = _TOKEN.match(text, p)
            e = m.end() if m else p + 1
        elif ch == "%":
            return None
        else:
            e = p + 1
        self.pos = e
        return Arg(
            "{",
            p,
            e,
            p,
            e,
            [Macro(p, e, text[p + 1 : e], False, [])] if ch == "\\" else [Text(p, e)],
        )

    def _bracket_close(self, p: int) -> int:
        """Offset of the "]" ending an optional argument opened at p, -1 if none. Like LaTeX:
        the first "]" at the same brace depth (braces protect inner brackets). One linear pass
        for the whole file, so unclosed brackets can never make parsing quadratic."""
        if self._brackets is None:
            matches: dict[int, int] = {}
            pending: list[list[int]] = [[]]
            for m in _BRACKET_SCAN.finditer(self.text):
                c = m.group(0)
                if c == "[":
                    pending[-1].append(m.start())
                elif c == "]":
                    for q in pending[-1]:
                        matches[q] = m.start()
                    pending[-1] = []
                elif c == "{":
                    pending.append([])
                elif c == "}" and len(pending) > 1:
                    pending.pop()
            self._brackets = matches
        return self._brackets.get(p, -1)

    def _peek_env_name(self, p: int) -> str | None:
        m = _ENV_NAME.match(self.text, p)
        return m.group(1).strip() if m else None

    def parse_env(self, start: int) -> Node:
        text = self.text
        m = _ENV_NAME.match(text, self.pos)
        if not m:
            # \begin without a name: keep as a macro
            return Macro(start, self.pos, "begin", False, [])
        name = m.group(1).strip()
        self.pos = m.end()
        if name == "document" and self.begin_document is None and self.def_depth == 0:
            self.begin_document = start
        if self.def_depth and name in _VERBATIM_BODY_ENVS:
            # `\\newcommand{\\intertext}[1]{\\end{align}#1\\begin{align}}`: an environment
            # opened in a definition body and closed outside it is not one here; searching for
            # its \\end would swallow the document up to the next one
            body_end = self._group_close(self.pos)
            stop = text.find("\\end{" + name + "}", self.pos)
            if stop < 0 or (body_end >= 0 and stop > body_end):
                return Macro(start, self.pos, "begin", False, [])
        if name in MATH_ENVS:
            end_tag = "\\end{" + name + "}"
            stop = text.find(end_tag, self.pos)
            if stop < 0:
                self.problems.append((start, self.pos, f"\\begin{{{name}}} is never closed"))
                body_end = self.n
                self.pos = self.n
            else:
                body_end = stop
                self.pos = stop + len(end_tag)
            return Math(start, self.pos, m.end(), body_end, name not in ("math",), name)
        spec = ENV_SPECS.get(name, DEFAULT_ENV_SPEC)
        args: list[Arg | None] = []
        for ch in spec:
            if ch == "*":
                continue
            if ch == "[":
                # an optional argument only directly after \begin{x} (no newline)
                if self.pos < self.n and text[self.pos] == "[":
                    args.append(self.parse_arg("[", False))
                else:
                    args.append(None)
            else:
                args.append(self.parse_arg(ch, allow_token=False))
        if name in RAW_ENVS:
            end_tag = "\\end{" + name + "}"
            body_start = self.pos
            stop = text.find(end_tag, self.pos)
            if stop < 0:
                self.problems.append((start, body_start, f"\\begin{{{name}}} is never closed"))
                self.pos = self.n
                return Env(start, self.n, name, args, [], body_start, self.n, True, False)
            self.pos = stop + len(end_tag)
            return Env(start, self.pos, name, args, [], body_start, stop, True, True)
        body_start = self.pos
        if self.depth >= MAX_DEPTH:
            return Macro(start, self.pos, "begin", False, args)
        self.depth += 1
        self.env_stack.append(name)
        children = self.parse_seq(stop="\\end")
        self.env_stack.pop()
        self.depth -= 1
        body_end = self.pos
        closed = False
        if self.pos < self.n and text.startswith("\\end", self.pos):
            em = _END_TAG.match(text, self.pos)
            if em and em.group(1).strip() == name:
                self.pos = em.end()
                closed = True
            else:
                self.problems.append(
                    (start, body_start, f"\\begin{{{name}}} closed by a different \\end")
                )
        elif not self.def_depth:
            self.problems.append((start, body_start, f"\\begin{{{name}}} is never closed"))
        return Env(start, self.pos, name, args, children, body_start, body_end, False, closed)

    def _group_close(self, p: int) -> int:
        """Offset of the "}" closing the group p is in, -1 when none (escapes and comments
        skipped)."""
        depth = 0
        for m in _BRACE_SCAN.finditer(self.text, p):
            c = m.group(0)
            if c == "{":
                depth += 1
            elif c == "}":
                if depth == 0:
                    return m.start()
                depth -= 1
        return -1

    def parse_iffalse(self, start: int) -> Node:
        depth = 1
        for m in _IF_TOKENS.finditer(self.text, self.pos):
            tok = m.group(1)
            if tok is None:
                continue
            if tok.startswith("if"):
                depth += 1
            elif tok == "fi":
                depth -= 1
                if depth == 0:
                    self.pos = m.end()
                    return Verbatim(start, self.pos, "iffalse")
            elif tok == "else" and depth == 1:
                # \iffalse A \else B \fi: A is hidden, B is read normally
                self.pos = m.end()
                return Verbatim(start, self.pos, "iffalse")
        self.problems.append((start, start + 8, "\\iffalse is never closed by \\fi"))
        self.pos = self.n
        return Verbatim(start, self.n, "iffalse")

    def parse_verb(self, start: int, name: str) -> Node:
        text = self.text
        p = self.pos
        if name == "mintinline":
            self.parse_arg("[", False)
            self.parse_arg("{", False)
            p = self.pos
        if name == "lstinline" and p < self.n and text[p] == "[":
            self.parse_arg("[", False)
            p = self.pos
        if p < self.n and text[p] == "*" and name == "verb":
            p += 1
        if p >= self.n:
            self.pos = self.n
            return Verbatim(start, self.n, "verb")
        delim = text[p]
        close = "}" if delim == "{" else delim
        stop = text.find(close, p + 1)
        nl = text.find("\n", p + 1)
        if stop < 0 or (nl >= 0 and nl < stop):
            self.pos = p
            return Macro(start, p, name, False, [])
        self.pos = stop + 1
        return Verbatim(start, self.pos, "verb")

    def parse_def(self, start: int, name: str) -> Node:
        text = self.text
        m = _DEF_HEAD.match(text, self.pos)
        if not m:
            return Macro(start, self.pos, name, False, [])
        name_arg = Arg("raw", m.start(1), m.end(1), m.start(1), m.end(1), [])
        params = Arg("raw", m.start(2), m.end(2), m.start(2), m.end(2), [])
        self.pos = m.end()
        self.def_depth += 1
        saved_envs, self.env_stack = self.env_stack, []  # a body closes nothing outside it
        body = self.parse_arg("{", allow_token=False)
        self.env_stack = saved_envs
        self.def_depth -= 1
        node = Macro(start, self.pos, "def", False, [name_arg, params, body])
        self.recorded.append((node, self.def_depth > 0))
        return node

    def parse_let(self, start: int) -> Node:
        m = _LET.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return Macro(start, self.pos, "let", False, [])

    def parse_dollar(self, start: int, end: int) -> Node:
        display = end - start == 2
        close = "$$" if display else "$"
        stop = self._find_math_close(end, close)
        if stop < 0:
            self.pos = end
            return Text(start, end)
        self.pos = stop + len(close)
        return Math(start, self.pos, end, stop, display, None)

    def _find_math_close(self, p: int, close: str) -> int:
        """Offset of the closing delimiter, skipping escapes and comments; -1 when none comes
        before a blank line (TeX ends inline math at a paragraph break with an error)."""
        text = self.text
        n = self.n
        first = close[0]
        while p < n:
            c = text[p]
            if c == "\\":
                if close[0] == "\\" and text.startswith(close, p):
                    return p
                p += 2
                continue
            if c == "%":
                nl = text.find("\n", p)
                if nl < 0:
                    return -1
                p = nl + 1
                continue
            if c == first and text.startswith(close, p):
                return p
            if c == "\n":
                q = p + 1
                while q < n and text[q] in " \t\r":
                    q += 1
                if q < n and text[q] == "\n":
                    return -1
            p += 1
        return -1
