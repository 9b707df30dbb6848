"""Constructs of real papers the project model must read: half environments in macro bodies
(a TMLR paper's \\intertext), natbib .bbl labels with \\natexlab, the natbib/ACL citation
family, \\nocite{*}, and macro expansions in the prose map."""

from __future__ import annotations

import pytest
from papercycle.latex import Project
from papercycle.latex.document import parse, swallowed_content
from papercycle.latex.root import is_main_candidate

INTERTEXT_PREAMBLE = r"""
\usepackage{amsmath}
\newcommand{\intertext}[1]{\end{align}#1\begin{align}}
\renewcommand{\qedhere}{\begin{equation*}\end{equation*}}
"""


def test_half_environments_in_macro_bodies_are_not_structure(make_project, doc):
    sections = [f"sec{i}" for i in range(12)]
    body = "\n".join(f"\\input{{{s}}}" for s in sections)
    files = {
        "main.tex": doc(f"\\section{{Intro}}\nWe cite \\citep{{a}}.\n{body}", INTERTEXT_PREAMBLE)
    }
    for i, name in enumerate(sections):
        files[f"{name}.tex"] = (
            f"\\section{{Part {i}}}\nText of part {i} \\citet{{k{i}}}.\n"
            "\\begin{align} x &= 1 \\intertext{so} y &= 2 \\end{align}\n"
        )
    p = Project.build(make_project(files))
    assert len(p.files) == 13
    titles = [s.title for s in p.structure.sections()]
    assert titles == ["Intro"] + [f"Part {i}" for i in range(12)]
    assert {c.key for c in p.structure.citations} == {"a"} | {f"k{i}" for i in range(12)}
    assert "Text of part 11" in p.visible.text
    assert is_main_candidate(parse(p.file_text(p.root_path)))
    assert not [d for d in p.diagnostics if d.code in ("content-lost", "latex-syntax")]


@pytest.mark.parametrize("opening", ["", "{\\small "], ids=["top-level", "in-a-group"])
def test_a_document_that_loses_most_of_its_content_says_so(make_project, doc, opening):
    # an align opened and never closed: everything after it is math, not sections
    body = f"\\section{{Intro}}\nShort.\n{opening}\\begin{{align}} x = 1\n" + "".join(
        f"\\section{{S{i}}}\nParagraph {i} with enough words to matter here.\n" for i in range(30)
    )
    p = Project.build(make_project({"main.tex": doc(body)}))
    [lost] = [d for d in p.diagnostics if d.code == "content-lost"]
    assert lost.severity == 1  # error
    assert "\\begin{align} runs over" in lost.message and "sections and includes" in lost.message
    src = p.file_text(lost.range.path)
    assert src[lost.range.start : lost.range.end] == "\\begin{align}"


def test_long_math_without_structure_is_not_lost_content():
    text = "\\begin{align}\n" + "x_{i} &= y_{i} \\\\\n" * 400 + "\\end{align}\nEnd.\n"
    assert swallowed_content(parse(text)) == []


BBL = r"""\begin{thebibliography}{3}
\providecommand{\natexlab}[1]{#1}
\bibitem[Li et~al.(2023{\natexlab{a}})Li, Wang, and Chen]{li2023a}
Li, Wang, and Chen.
\newblock Sparse routing.
\newblock 2023{\natexlab{a}}.
\bibitem[{Li et~al.(2023{\natexlab{b}})}]{li2023b}
Li.
\newblock Dense routing.
\newblock 2023{\natexlab{b}}.
\bibitem[Zhu(2021)]{zhu2021}
Zhu.
\newblock Plain.
\end{thebibliography}
"""


def test_bbl_labels_with_natexlab_are_read(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\citet{li2023a,li2023b} and \\citep{zhu2021}.\\bibliography{refs}"),
            "main.bbl": BBL,
        }
    )
    p = Project.build(root)
    assert set(p.bibliography.entries) == {"li2023a", "li2023b", "zhu2021"}
    assert not [d for d in p.diagnostics if d.code == "cite-undefined"]


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("newcite", "[k1]"),
        ("shortcite", "[year: k1]"),
        ("citealp", "[k1]"),
        ("Citet", "[k1]"),
        ("citeposs", "[author: k1]"),
        ("citeyearpar", "[year: k1]"),
        ("Citeauthor", "[author: k1]"),
        ("textcite", "[k1]"),
    ],
)
def test_citation_family_is_recognised(make_project, doc, command, shown):
    p = Project.build(make_project({"main.tex": doc(f"As shown by \\{command}{{k1}}, it works.")}))
    assert [(c.command, c.key) for c in p.structure.citations] == [(command, "k1")]
    assert f"As shown by {shown}, it works." in p.visible.text


def test_nocite_star_is_not_a_key(make_project, doc):
    bib = "@article{x, title={X}}\n@article{y, title={Y}}\n"
    root = make_project(
        {"main.tex": doc("\\nocite{*}\\cite{x}\\bibliography{refs}"), "refs.bib": bib}
    )
    p = Project.build(root)
    assert [c.key for c in p.structure.citations] == ["x"]
    assert not [d for d in p.diagnostics if d.code in ("cite-undefined", "bib-unused")]


@pytest.mark.parametrize(
    ("name", "expansion"), [("datanet", "DataComp"), ("method", "ATLAS-T"), ("ab", "XYZ")]
)
def test_a_macro_expansion_maps_to_its_whole_command(make_project, doc, name, expansion):
    assert len(expansion) == len(name) + 1  # the same length as the command: \\ plus its name
    body = f"We train \\{name} on the data. Then \\{name}{{}} wins."
    main = doc(body, f"\\newcommand{{\\{name}}}{{{expansion}}}")
    p = Project.build(make_project({"main.tex": main}))
    src = p.file_text(p.root_path)
    text = p.visible.text
    first = text.index(expansion)
    command = src.index(f"\\{name}", src.index("\\begin{document}"))
    for k in range(len(expansion)):
        [rng] = p.visible.source_ranges(first + k, first + k + 1)
        assert (rng.start, rng.end) == (command, command + len(name) + 1)
    # the text around it still maps character by character
    [after] = p.visible.source_ranges(first + len(expansion) + 1, first + len(expansion) + 3)
    assert src[after.start : after.end] == "on"
    assert p.visible.source_map.from_source(p.root_path, command + len(name)) == first
