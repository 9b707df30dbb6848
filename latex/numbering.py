"""Pass 2 of the assembly: numbers sections, floats, theorems and equations in reading order,
attaches labels to what they name, and collects references and citations into a `Structure`
(the text itself is written in pass 3, `prose.assemble`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.positions import Range
from papercycle.latex.render import Citation
from papercycle.latex.render.fragment import Event
from papercycle.latex.structure import (
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


@dataclass(slots=True)
class Numbered:
    structure: Structure
    objects: list[object]  # per event of the flattened list: the structure object it made
    document: SectionNode
    cited: list[str]  # keys in order of first citation
    diagnostics: list[Diagnostic]


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


def number(
    flat: list[tuple[int, Event]],
    files: list[Path],
    citations: list[tuple[Path, Citation]],
    has_chapters: bool,
) -> Numbered:
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

    def define_label(key: str, target: object, where: Range) -> bool:
        """The first definition of a label counts; a later one is a warning."""
        if key in label_objs:
            diags.append(
                Diagnostic(
                    Severity.WARNING,
                    "label-duplicate",
                    f"label {key!r} is defined more than once",
                    where,
                )
            )
            return False
        label_objs[key] = target
        label_ranges[key] = where
        return True

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
            if (
                define_label(key, target, Range(path, s, e))
                and isinstance(target, (SectionNode, FloatInfo, EquationInfo))
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
                    define_label(
                        key, eqs[-1] if (eqs and n is not None) else None, Range(path, s, e)
                    )
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
    return Numbered(structure, objs, doc_node, cited, diags)
