"""Visible prose: the paper as a reader sees it, stitched from the per-file fragments in
include order, with a source map from every character back to (file, offset), numbering of
sections, floats and equations, resolved `\\ref`s, and each section's slice of the text.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.daemon.project.diagnostics import Diagnostic, Severity
from papercycle.daemon.project.positions import Range
from papercycle.daemon.project.render import Citation, Fragment, Piece, RawFinding, Ref
from papercycle.daemon.project.render.fragment import Event, Include
from papercycle.daemon.project.structure import (
    LEVEL_KIND,
    CitationInfo,
    EquationInfo,
    FloatInfo,
    LabelInfo,
    Numbering,
    RefInfo,
    SectionNode,
    Structure,
)

_WS = " \n\t"


class SourceMap:
    """Maps offsets of the visible text to (file, offset) and back. Segments are sorted by
    output offset; a segment whose output and source lengths are equal maps character by
    character, otherwise its whole output span maps to its whole source span."""

    __slots__ = ("_by_file", "files", "out_end", "out_start", "src_end", "src_file", "src_start")

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.out_start: list[int] = []
        self.out_end: list[int] = []
        self.src_file: list[int] = []
        self.src_start: list[int] = []
        self.src_end: list[int] = []
        self._by_file: dict[int, tuple[list[int], list[int]]] | None = None

    def __len__(self) -> int:
        return len(self.out_start)

    def _seg_range(self, i: int, a: int, b: int) -> tuple[int, int]:
        os_, oe, ss, se = self.out_start[i], self.out_end[i], self.src_start[i], self.src_end[i]
        if oe - os_ == se - ss:
            return ss + (max(a, os_) - os_), ss + (min(b, oe) - os_)
        return ss, se

    def to_source(self, start: int, end: int) -> list[Range]:
        """Source ranges of the visible text [start, end): one per file run, in text order."""
        if end <= start or not self.out_start:
            if self.out_start and start == end:
                i = max(0, bisect.bisect_right(self.out_start, start) - 1)
                s, _ = self._seg_range(i, start, start)
                return [Range(self.files[self.src_file[i]], s, s)]
            return []
        i = max(0, bisect.bisect_right(self.out_start, start) - 1)
        out: list[Range] = []
        cur_file = -1
        cur_s = cur_e = 0
        n = len(self.out_start)
        while i < n and self.out_start[i] < end:
            if self.out_end[i] > start:
                s, e = self._seg_range(i, start, end)
                f = self.src_file[i]
                if f == cur_file and s >= cur_s:
                    cur_e = max(cur_e, e)
                else:
                    if cur_file >= 0:
                        out.append(Range(self.files[cur_file], cur_s, cur_e))
                    cur_file, cur_s, cur_e = f, s, e
            i += 1
        if cur_file >= 0:
            out.append(Range(self.files[cur_file], cur_s, cur_e))
        return out

    def offset_to_source(self, offset: int) -> tuple[Path, int] | None:
        if not self.out_start:
            return None
        i = max(0, bisect.bisect_right(self.out_start, offset) - 1)
        s, _ = self._seg_range(i, offset, offset + 1)
        return self.files[self.src_file[i]], s

    def from_source(self, path: Path, offset: int, nearest: bool = False) -> int | None:
        """Visible-text offset of a source position. None when that position produces no
        visible text (markup, a comment, hidden text, the preamble) unless `nearest` is set:
        then the nearest visible character after it (for a cursor). None when the file
        contributes nothing visible."""
        if self._by_file is None:
            by: dict[int, list[tuple[int, int]]] = {}
            for i, f in enumerate(self.src_file):
                by.setdefault(f, []).append((self.src_start[i], i))
            self._by_file = {}
            for f, lst in by.items():
                lst.sort()
                self._by_file[f] = ([s for s, _ in lst], [i for _, i in lst])
        try:
            fidx = self.files.index(path)
        except ValueError:
            return None
        if fidx not in self._by_file:
            return None
        starts, idxs = self._by_file[fidx]
        j = bisect.bisect_right(starts, offset) - 1
        # the segment holding the offset: the last one starting at or before it, or an earlier,
        # wider one (a macro invocation around its arguments)
        for k in range(j, max(j - 16, -1), -1):
            i = idxs[k]
            if self.src_start[i] <= offset < self.src_end[i] or (
                self.src_start[i] == offset == self.src_end[i]
                and self.out_end[i] > self.out_start[i]
            ):
                if self.out_end[i] - self.out_start[i] == self.src_end[i] - self.src_start[i]:
                    return self.out_start[i] + offset - self.src_start[i]
                # one expansion may be several segments of the same span: its first one
                first = self.out_start[i]
                while k > 0 and (
                    self.src_start[idxs[k - 1]] == self.src_start[i]
                    and self.src_end[idxs[k - 1]] == self.src_end[i]
                ):
                    k -= 1
                    first = min(first, self.out_start[idxs[k]])
                return first
        if not nearest:
            return None
        if j < 0:
            return self.out_start[idxs[0]]
        return self.out_start[idxs[j + 1]] if j + 1 < len(idxs) else self.out_end[idxs[j]]

    def from_source_span(self, path: Path, start: int, end: int) -> tuple[int, int] | None:
        """The visible text [a, b) produced by the source [start, end) of `path`: from the first
        to the last visible character any of its segments produce, whatever the source holds at
        either end (a newline, a comment, markup). None when it produces nothing visible."""
        try:
            fidx = self.files.index(path)
        except ValueError:
            return None
        a = b = None
        for i, f in enumerate(self.src_file):
            if f != fidx or self.out_end[i] <= self.out_start[i]:
                continue
            ss, se = self.src_start[i], self.src_end[i]
            if se <= start or ss >= end:
                continue
            os_, oe = self.out_start[i], self.out_end[i]
            if oe - os_ == se - ss:  # character by character: clip to the span
                os_, oe = os_ + max(0, start - ss), oe - max(0, se - end)
            a = os_ if a is None else min(a, os_)
            b = oe if b is None else max(b, oe)
        return None if a is None else (a, b)


@dataclass(slots=True)
class VisibleText:
    """What the model reads. `text[a:b]` maps to `source_map.to_source(a, b)`."""

    text: str
    source_map: SourceMap

    def source_ranges(self, start: int, end: int) -> list[Range]:
        return self.source_map.to_source(start, end)

    def source_range(self, start: int, end: int) -> Range | None:
        """The first file's range for [start, end) (a quote rarely spans files)."""
        r = self.source_map.to_source(start, end)
        return r[0] if r else None


@dataclass(slots=True)
class Assembly:
    visible: VisibleText
    structure: Structure
    citations: list[tuple[Path, Citation]]
    findings: list[tuple[Path, RawFinding]]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    visited: list[Path] = field(default_factory=list)


class _Out:
    def __init__(self, smap: SourceMap) -> None:
        self.parts: list[str] = []
        self.len = 0
        self.last = "\n"
        self.m = smap

    def add(self, s: str, fidx: int, start: int, end: int) -> None:
        if not s:
            return
        m = self.m
        m.out_start.append(self.len)
        m.out_end.append(self.len + len(s))
        m.src_file.append(fidx)
        m.src_start.append(start)
        m.src_end.append(end)
        self.parts.append(s)
        self.len += len(s)
        self.last = s[-1]

    def trim_space(self) -> None:
        """Drop trailing spaces before a line break (and from the source map)."""
        m = self.m
        while self.last == " " and self.parts and m.out_end and m.out_end[-1] == self.len:
            part = self.parts[-1]
            if m.out_end[-1] - m.out_start[-1] == m.src_end[-1] - m.src_start[-1]:
                m.src_end[-1] -= 1
            m.out_end[-1] -= 1
            if m.out_end[-1] <= m.out_start[-1]:
                for lst in (m.out_start, m.out_end, m.src_file, m.src_start, m.src_end):
                    lst.pop()
            self.parts[-1] = part[:-1]
            if not self.parts[-1]:
                self.parts.pop()
            self.len -= 1
            self.last = self.parts[-1][-1] if self.parts else "\n"

    def rich(self, p: Piece, fidx: int, ref_text: Callable[[Ref], str]) -> None:
        """A piece with `\\ref` holes (titles, captions): the text around each hole, then the
        reference's text mapped to the `\\ref` command."""
        if not p.refs:
            self.piece(p, fidx)
            return
        pos = 0
        for off, ref in p.refs:
            if off > pos:
                self.piece(_slice(p, pos, off), fidx)
            self.add(ref_text(ref), fidx, ref.start, ref.end)
            pos = max(pos, off)
        if pos < len(p.text):
            self.piece(_slice(p, pos, len(p.text)), fidx)

    def piece(self, p: Piece, fidx: int) -> None:
        text = p.text
        if not text:
            return
        k = 0
        if self.last == " " and text[0] == "\n":
            self.trim_space()  # a paragraph break after a space: the break wins
        if self.last in _WS:
            while k < len(text) and text[k] in _WS:
                k += 1
            if k == len(text):
                return
        base = self.len - k
        m = self.m
        for os_, oe, ss, se in p.segs:
            if oe <= k:
                continue
            if os_ < k:
                if oe - os_ == se - ss:
                    ss += k - os_
                os_ = k
            m.out_start.append(base + os_)
            m.out_end.append(base + oe)
            m.src_file.append(fidx)
            m.src_start.append(ss)
            m.src_end.append(se)
        self.parts.append(text[k:] if k else text)
        self.len = base + len(text)
        self.last = text[-1]

    def breakline(self, fidx: int, at: int, par: bool = True) -> None:
        if self.len == 0:
            return
        self.trim_space()
        want = "\n\n" if par else "\n"
        if self.last == "\n":
            if par and not "".join(self.parts[-1:]).endswith("\n\n"):
                self.add("\n", fidx, at, at)
            return
        self.add(want, fidx, at, at)


def _slice(p: Piece, a: int, b: int) -> Piece:
    segs = []
    for os_, oe, ss, se in p.segs:
        if oe <= a or os_ >= b:
            continue
        exact = oe - os_ == se - ss
        na, nb = max(os_, a), min(oe, b)
        if exact:
            segs.append([na - a, nb - a, ss + na - os_, ss + nb - os_])
        else:
            segs.append([na - a, nb - a, ss, se])
    return Piece(p.text[a:b], segs)


def rich_text(p: Piece, ref_text: Callable[[Ref], str]) -> str:
    """The plain text of a piece with its `\\ref` holes filled."""
    if not p.refs:
        return p.text
    out, pos = [], 0
    for offset, ref in p.refs:
        out.append(p.text[pos:offset])
        out.append(ref_text(ref))
        pos = max(pos, offset)
    out.append(p.text[pos:])
    return "".join(out)


def _float_kind(env: str) -> str:
    base = env.rstrip("*")
    return {
        "wrapfigure": "figure",
        "wraptable": "table",
        "subfigure": "figure",
        "subtable": "table",
        "sidewaysfigure": "figure",
        "sidewaystable": "table",
        "SCfigure": "figure",
    }.get(base, base)


def _label_kind(obj) -> str:
    if isinstance(obj, SectionNode):
        return obj.kind
    if isinstance(obj, FloatInfo):
        return ("sub" + obj.kind) if obj.parent is not None else obj.kind
    return "equation"


_REF_WORD = {
    "figure": "Figure",
    "table": "Table",
    "algorithm": "Algorithm",
    "subfigure": "Figure",
    "subtable": "Table",
    "equation": "Eq.",
    "section": "Section",
    "subsection": "Section",
    "subsubsection": "Section",
    "chapter": "Chapter",
    "part": "Part",
    "paragraph": "Paragraph",
    "appendix": "Appendix",
}


def assemble(
    root: Path,
    fragment: Callable[[Path, tuple[str, str] | None], Fragment | None],
    include_target: Callable[[Path, int], Path | None],
    title: Callable[[], list[tuple[str, Path, Piece]]],
    bibliography_lines: Callable[[list[str]], list[tuple[str, Path, int, int]]],
    has_chapters: bool,
) -> Assembly:
    """Stitch fragments from `root` following includes. `include_target(file, macro_start)`
    gives the file an include command resolves to (None: not followed)."""
    smap = SourceMap()
    file_idx: dict[Path, int] = {}

    def fid(p: Path) -> int:
        i = file_idx.get(p)
        if i is None:
            i = file_idx[p] = len(smap.files)
            smap.files.append(p)
        return i

    # pass 1: flatten the include tree
    flat: list[tuple[int, Event]] = []
    citations: list[tuple[Path, Citation]] = []
    findings: list[tuple[Path, RawFinding]] = []
    visited: list[Path] = []
    visited_set: set[Path] = set()
    seen_frag: set[tuple[Path, object]] = set()

    def walk(path: Path, hidden: tuple[str, str] | None, stack: tuple[Path, ...]) -> None:
        frag = fragment(path, hidden)
        if frag is None:
            return
        if path not in visited_set:
            visited_set.add(path)
            visited.append(path)
        f = fid(path)
        if (path, hidden) not in seen_frag:
            seen_frag.add((path, hidden))
            citations.extend((path, c) for c in frag.citations)
            findings.extend((path, x) for x in frag.findings)
        for ev in frag.events:
            if type(ev) is Include:
                target = include_target(path, ev.start)
                if target is not None and target not in stack and len(stack) < 64:
                    walk(target, ev.hidden or hidden, (*stack, target))
            else:
                flat.append((f, ev))

    walk(root, None, (root,))
    files = smap.files

    # pass 2: numbering and structure objects
    has_ch = has_chapters
    num = Numbering(has_ch)
    doc_node = SectionNode("document", "", -3, None)
    structure = Structure(doc_node)
    objs: list[object] = [None] * len(flat)
    stack: list[SectionNode] = [doc_node]
    float_stack: list[FloatInfo] = []
    last_heading: SectionNode | None = None
    last_label_target: object = None
    cited: list[str] = []
    cited_set: set[str] = set()
    for _, c in citations:
        for k, _, _ in c.keys:
            if k not in cited_set:
                cited_set.add(k)
                cited.append(k)
    diags: list[Diagnostic] = []
    label_objs: dict[str, object] = {}
    label_ranges: dict[str, Range] = {}
    for idx, (f, ev) in enumerate(flat):
        kind = ev.kind
        path = files[f]
        if kind == "heading":
            level, command, starred, s, e, tpiece = (
                ev.level,
                ev.command,
                ev.starred,
                ev.start,
                ev.end,
                ev.title,
            )
            number = num.heading(level, starred)
            node = SectionNode(
                LEVEL_KIND.get(level, "section"),
                tpiece.text,
                level,
                Range(path, s, e),
                number=number,
                starred=starred,
                appendix=num.appendix,
                command=command,
            )
            ts = [x for x in tpiece.segs]
            if ts:
                node.title_range = Range(path, min(x[2] for x in ts), max(x[3] for x in ts))
            while stack[-1] is not doc_node and stack[-1].level >= level:
                stack.pop()
            stack[-1].children.append(node)
            stack.append(node)
            last_heading = node
            last_label_target = node
            objs[idx] = node
        elif kind == "appendix":
            num.start_appendix()
        elif kind == "float_begin":
            env, s, e = ev.env, ev.start, ev.end
            parent = (
                float_stack[-1]
                if float_stack and env.rstrip("*") in ("subfigure", "subtable")
                else None
            )
            fl = FloatInfo(_float_kind(env), env, None, Range(path, s, e), parent=parent)
            float_stack.append(fl)
            structure.floats.append(fl)
            objs[idx] = fl
        elif kind == "caption":
            s, e, piece = ev.start, ev.end, ev.piece
            if float_stack:
                fl = float_stack[-1]
                if fl.number is None:
                    if fl.parent is not None:
                        # the parent's number is known only at its own caption, usually after
                        # the subfigures: keep the letter now, prefix it below
                        siblings = [
                            x for x in structure.floats if x.parent is fl.parent and x.number
                        ]
                        fl.number = "\0" + chr(97 + len(siblings))
                    else:
                        fl.number = num.float_number(fl.kind)
                if not fl.caption:
                    fl.caption = piece.text
                    fl.caption_range = Range(path, s, e)
                last_label_target = fl
                objs[idx] = fl
        elif kind == "float_end" or kind == "theorem_end":
            if float_stack:
                fl = float_stack.pop()
                objs[idx] = fl
            last_label_target = float_stack[-1] if float_stack else last_heading
        elif kind == "theorem_begin":
            env, (printed, counter, within), s, e, note = (
                ev.env,
                ev.theorem,
                ev.start,
                ev.end,
                ev.note,
            )
            number = num.theorem_number(counter, within) if counter else None
            fl = FloatInfo(printed.lower(), env, number, Range(path, s, e))
            if note is not None:
                fl.caption = note.text
            float_stack.append(fl)
            structure.floats.append(fl)
            objs[idx] = fl
        elif kind == "label":
            key, s, e = ev.key, ev.start, ev.end
            target = float_stack[-1] if float_stack else last_label_target
            if key in label_objs:
                diags.append(
                    Diagnostic(
                        Severity.WARNING,
                        "label-duplicate",
                        f"label {key!r} is defined more than once",
                        Range(path, s, e),
                    )
                )
            else:
                label_objs[key] = target
                label_ranges[key] = Range(path, s, e)
                if (
                    isinstance(target, (SectionNode, FloatInfo, EquationInfo))
                    and target.label is None
                ):
                    target.label = key
        elif kind == "subequations_begin":
            eq = EquationInfo(num.begin_subequations(), Range(path, ev.start, ev.end), None)
            structure.equations.append(eq)
            float_stack.append(eq)  # a \label right inside names the whole group
            objs[idx] = eq
        elif kind == "subequations_end":
            num.end_subequations()
            if float_stack and isinstance(float_stack[-1], EquationInfo):
                float_stack.pop()
        elif kind == "equation":
            s, e, rows = ev.start, ev.end, ev.rows
            eqs = []
            for numbered, tag, labels in rows:
                n = tag if tag is not None else (num.equation_number() if numbered else None)
                if n is not None:
                    eq = EquationInfo(n, Range(path, s, e), labels[0] if labels else None)
                    structure.equations.append(eq)
                    eqs.append(eq)
                for key in labels:
                    if key in label_objs:
                        diags.append(
                            Diagnostic(
                                Severity.WARNING,
                                "label-duplicate",
                                f"label {key!r} is defined more than once",
                                Range(path, s, e),
                            )
                        )
                    else:
                        label_objs[key] = eqs[-1] if (eqs and n is not None) else None
                        label_ranges[key] = Range(path, s, e)
            objs[idx] = eqs
        elif kind == "abstract_begin":
            node = SectionNode("abstract", "Abstract", -2, Range(path, ev.start, ev.end))
            doc_node.children.append(node)
            objs[idx] = node
        elif kind == "maketitle":
            objs[idx] = True
        elif kind == "bibliography":
            node = SectionNode(
                "bibliography", "References", 1, Range(path, ev.start, ev.end), command=ev.command
            )
            while stack[-1] is not doc_node and stack[-1].level >= 1:
                stack.pop()
            stack[-1].children.append(node)
            objs[idx] = node
        elif kind == "ref":
            structure.refs.append(
                RefInfo(ev.command, tuple(ev.keys), Range(path, ev.start, ev.end))
            )

    for fl in structure.floats:
        if fl.number is not None and fl.number.startswith("\0"):
            fl.number = (fl.parent.number if fl.parent and fl.parent.number else "?") + fl.number[
                1:
            ]
    for key, obj in label_objs.items():
        number = None
        if isinstance(obj, (SectionNode, FloatInfo, EquationInfo)):
            number = obj.number
        structure.labels[key] = LabelInfo(
            key, _label_kind(obj) if obj is not None else "unknown", number, label_ranges[key]
        )
    for ref in structure.refs:
        for key in ref.keys:
            if key not in structure.labels:
                diags.append(
                    Diagnostic(
                        Severity.WARNING,
                        "ref-undefined",
                        f"reference to undefined label {key!r}",
                        ref.range,
                    )
                )
    for path, c in citations:
        for key, s, e in c.keys:
            structure.citations.append(
                CitationInfo(c.command, key, Range(path, s, e), Range(path, c.start, c.end))
            )

    # pass 3: the text
    out = _Out(smap)
    open_floats: list[FloatInfo] = []
    open_groups: list[EquationInfo] = []
    headings: list[SectionNode] = []
    abstract_node: SectionNode | None = None
    labels = structure.labels

    def ref_text(ref: Ref) -> str:
        return _ref_text(ref.command, ref.keys, labels)

    for idx, (f, ev) in enumerate(flat):
        kind = ev.kind
        if kind == "text":
            out.piece(ev.piece, f)
        elif kind == "heading":
            node = objs[idx]
            level, s, e, tpiece = ev.level, ev.start, ev.end, ev.title
            out.breakline(f, s)
            node.prose_start = out.len
            if node.number:
                prefix = "Appendix " if node.appendix and level == (0 if has_ch else 1) else ""
                out.add(f"{prefix}{node.number} ", f, s, e)
            out.rich(tpiece, f, ref_text)
            if tpiece.refs:
                node.title = rich_text(tpiece, ref_text)
            out.breakline(f, e)
            node.body_start = out.len
            headings.append(node)
        elif kind == "caption":
            fl = objs[idx]
            s, e, piece = ev.start, ev.end, ev.piece
            if isinstance(fl, FloatInfo) and fl.number:
                word = fl.kind.capitalize()
                label = f"({fl.number[-1]}) " if fl.parent is not None else f"{word} {fl.number}: "
                out.add(label, f, s, e)
            out.rich(piece, f, ref_text)
            if (
                isinstance(fl, FloatInfo)
                and piece.refs
                and fl.caption_range == Range(files[f], s, e)
            ):
                fl.caption = rich_text(piece, ref_text)
            out.breakline(f, e)
        elif kind == "float_begin":
            fl = objs[idx]
            fl.prose_start = out.len
            open_floats.append(fl)
        elif kind == "float_end" or kind == "theorem_end":
            if open_floats:
                open_floats.pop().prose_end = out.len
            if kind == "theorem_end":
                out.breakline(f, ev.end)
        elif kind == "theorem_begin":
            fl = objs[idx]
            printed, s, e, note = ev.theorem[0], ev.start, ev.end, ev.note
            out.breakline(f, s)
            fl.prose_start = out.len
            head = f"{printed} {fl.number}" if fl.number else printed
            out.add(head + (" (" if note is not None else ". "), f, s, e)
            if note is not None:
                out.rich(note, f, ref_text)
                out.add("). ", f, e, e)
            open_floats.append(fl)
        elif kind == "subequations_begin":
            objs[idx].prose_start = out.len
            open_groups.append(objs[idx])
        elif kind == "subequations_end":
            if open_groups:
                open_groups.pop().prose_end = out.len
        elif kind == "equation":
            s, e, shown = ev.start, ev.end, ev.shown
            eqs = objs[idx]
            if out.last not in _WS:
                out.add(" ", f, s, s)
            start = out.len
            out.add(shown, f, s, e)
            if eqs:
                out.add(" (" + ", ".join(q.number for q in eqs) + ")", f, s, e)
            for q in eqs:
                q.prose_start, q.prose_end = start, out.len
            out.add(" ", f, e, e)
        elif kind == "ref":
            out.add(_ref_text(ev.command, ev.keys, structure.labels), f, ev.start, ev.end)
        elif kind == "abstract_begin":
            abstract_node = objs[idx]
            out.breakline(f, ev.start)
            abstract_node.prose_start = out.len
            out.add("Abstract\n\n", f, ev.start, ev.end)
            abstract_node.body_start = out.len
        elif kind == "abstract_end":
            if abstract_node is not None:
                abstract_node.prose_end = out.len
            out.breakline(f, ev.end)
        elif kind == "maketitle":
            for what, tpath, piece in title():
                start = out.len
                out.piece(piece, fid(tpath))
                if what == "title":
                    rng = (
                        Range(tpath, min(x[2] for x in piece.segs), max(x[3] for x in piece.segs))
                        if piece.segs
                        else None
                    )
                    node = SectionNode(
                        "title",
                        piece.text,
                        -3,
                        rng,
                        prose_start=start,
                        prose_end=out.len,
                        body_start=start,
                    )
                    doc_node.children.insert(0, node)
                out.breakline(f, ev.end)
        elif kind == "bibliography":
            node = objs[idx]
            out.breakline(f, ev.start)
            node.prose_start = out.len
            out.add("References\n\n", f, ev.start, ev.end)
            node.body_start = out.len
            if ev.command != "thebibliography":
                for text, bpath, bs, be in bibliography_lines(cited):
                    out.add(text + "\n", fid(bpath), bs, be)
            headings.append(node)
    total = out.len
    text = "".join(out.parts)
    # section extents: up to the next heading of the same or a higher level
    for i, node in enumerate(headings):
        end = total
        for nxt in headings[i + 1 :]:
            if nxt.level <= node.level or nxt.kind == "bibliography":
                end = nxt.prose_start
                break
        node.prose_end = end
    for fl in open_floats:
        fl.prose_end = total
    doc_node.prose_end = total
    if abstract_node is not None and abstract_node.prose_end == 0:
        abstract_node.prose_end = total
    return Assembly(VisibleText(text, smap), structure, citations, findings, diags, visited)


def _ref_text(command: str, keys: list[str], labels: dict[str, LabelInfo]) -> str:
    parts = []
    for key in keys:
        info = labels.get(key)
        number = info.number if info is not None and info.number else "??"
        if command == "eqref":
            parts.append(f"({number})")
        elif (
            command in ("cref", "Cref", "autoref", "Autoref", "vref", "Vref", "labelcref")
            and info is not None
        ):
            word = _REF_WORD.get(info.kind) or (
                "" if info.kind == "unknown" else info.kind.capitalize()
            )
            if info.kind == "equation":
                parts.append(f"Eq. ({number})")
            else:
                parts.append(f"{word} {number}".strip())
        elif command == "pageref":
            parts.append("page ??")
        elif command == "nameref" and info is not None:
            parts.append(number)
        else:
            parts.append(number)
    return ", ".join(parts)
