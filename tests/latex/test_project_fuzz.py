"""Arbitrary text and bytes never raise out of the project model."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from papercycle.latex import Project, ProjectError
from papercycle.latex.document import parse
from papercycle.latex.render import build_context, render_document

TOKENS = [
    "\\",
    "{",
    "}",
    "[",
    "]",
    "$",
    "$$",
    "%",
    "#1",
    "&",
    "~",
    "_",
    "^",
    "\n",
    "\n\n",
    " ",
    "a",
    "é",
    "😀",
    "\u200b",
    "\u202e",
    "\\section",
    "\\section*",
    "\\subsection",
    "\\label{x}",
    "\\ref{x}",
    "\\cite{a,b}",
    "\\begin{figure}",
    "\\end{figure}",
    "\\begin{equation}",
    "\\end{equation}",
    "\\begin{align}",
    "\\\\",
    "\\caption{",
    "\\begin{document}",
    "\\end{document}",
    "\\documentclass{article}",
    "\\input{",
    "\\include{main}",
    "\\input{main}",
    "\\iffalse",
    "\\fi",
    "\\verb|",
    "\\textcolor{white}{",
    "\\color[rgb]{1,1,1}",
    "\\fontsize{0.1pt}{1pt}",
    "\\phantom{",
    "\\colorbox{",
    "\\newcommand{\\x}[1]{",
    "\\x",
    "\\def\\y#1{",
    "\\y",
    "\\begin{comment}",
    "\\end{comment}",
    "\\begin{verbatim}",
    "\\item",
    "\\begin{itemize}",
    "\\end{itemize}",
    "\\(",
    "\\)",
    "\\[",
    "\\]",
    "\\appendix",
    "\\abstract{",
    "\\title{",
    "\\maketitle",
    "\\bibliography{x}",
    "\\bibitem{k}",
    "\\@startsection{s}{1}",
    "\\'",
    '\\"',
    "\\renewcommand\\section{",
    "\\definecolor{w}{HTML}{FFFFFF}",
    "\\textcolor{w}{",
    "\\tag{",
    "\\newcommand{\\sw}[2]{#2 #1}",
    "\\sw{a}{b}",
    "\\title{\\sw{x}{y}}",
    "\\caption{\\ref{x}",
    "\\footnote{",
    "\\newtheorem{thm}{Theorem}",
    "\\begin{thm}[",
    "\\end{thm}",
    "\\begin{table}",
    "\\end{table}",
    "\\begin{subfigure}",
    "\\end{subfigure}",
    "\\label{y}",
]

latexish = st.lists(st.sampled_from(TOKENS) | st.text(max_size=4), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), latexish))
def test_parse_and_render_never_raise(text):
    doc = parse(text)
    frag = render_document(doc, build_context([doc]))
    for ev in frag.events:
        if ev.kind == "text":
            for os_, oe, ss, se in ev.piece.segs:
                assert 0 <= os_ < oe <= len(ev.piece.text)
                assert 0 <= ss <= se <= len(text)


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    (base / "main.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n"
    )
    (base / "other.tex").write_text("Other file text.\n")
    return Project.build(base)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(latexish, st.text(max_size=200)), st.text(max_size=80))
def test_project_update_and_queries_never_raise(fuzz_project, text, quote):
    p = fuzz_project
    p.update(p.root_path, text)
    t = p.visible.text
    for r in p.visible.source_ranges(0, len(t)):
        assert 0 <= r.start <= r.end <= len(p.file_text(r.path))
    p.find_quote(quote)
    p.resolve_reference(quote)
    p.section_slices()
    for d in p.diagnostics:
        if d.range is not None:
            p.lsp_range(d.range)
    p.to_dict()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400), st.booleans())
def test_arbitrary_bytes_never_raise(tmp_path_factory, data, with_header):
    base = tmp_path_factory.mktemp("bytes")
    header = (
        b"\\documentclass{article}\\begin{document}\\bibliography{refs}" if with_header else b""
    )
    (base / "main.tex").write_bytes(header + data)
    (base / "refs.bib").write_bytes(data)
    try:
        p = Project.build(base)
    except ProjectError:
        assert not with_header
        return
    p.to_dict()
