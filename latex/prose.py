"""Visible prose: the paper as a reader sees it, stitched from the per-file fragments in
include order (pass 1), numbered (pass 2, `numbering.py`) and written out with resolved
`\\ref`s, headings, captions, equations and the reference list, every character mapped back to
(file, offset) (pass 3, the source map in `source_map.py`), with each section's extent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic
from papercycle.latex.numbering import number
from papercycle.latex.positions import Range
from papercycle.latex.render import Citation, Fragment, Piece, RawFinding, Ref
from papercycle.latex.render.fragment import Event, Include
from papercycle.latex.source_map import SourceMap, VisibleText
from papercycle.latex.structure import (
    EquationInfo,
    FloatInfo,
    LabelInfo,
    SectionNode,
    Structure,
)

__all__ = ["Assembly", "SourceMap", "VisibleText", "assemble", "rich_text"]

_WS = " \n\t"


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
    numbered = number(flat, files, citations, has_chapters)
    structure, objs, doc_node = numbered.structure, numbered.objects, numbered.document
    cited, diags, has_ch = numbered.cited, numbered.diagnostics, has_chapters

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
