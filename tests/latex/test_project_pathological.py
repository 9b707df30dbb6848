"""Adversarial inputs: deep nesting, unclosed brackets, self-recursive macros. They must
neither raise (recursion) nor take quadratic time."""

from __future__ import annotations

import time

import pytest
from papercycle.latex.document import parse
from papercycle.latex.render import build_context, render_document

CASES = {
    "deep-braces": "{" * 5000 + "x" + "}" * 5000,
    "unclosed-braces": "{" * 20000,
    "deep-envs": "\\begin{itemize}" * 3000 + "x",
    "closed-envs": "\\begin{center}" * 3000 + "x" + "\\end{center}" * 3000,
    "deep-args": "\\textbf{" * 3000 + "x",
    "unclosed-optional": "\\item[" * 3000,
    "nested-optional": "\\section[" * 2000 + "]" * 10,
    "dollars": "$" * 10001,
    "self-recursive": "\\newcommand{\\a}{\\a\\a}\\a",
    "self-recursive-arg": "\\newcommand{\\a}[1]{\\a{#1}\\a{#1}}\\a{x}",
    "def-loop": "\\def\\b{\\b}\\b",
    "deep-color": "\\textcolor{white}{" * 2000,
    "iffalse": "\\iffalse" * 3000,
    "verb": "\\verb" * 3000,
    "captions": "\\begin{figure}" * 500 + "\\caption{" * 500,
    "doubling-macro": "\\def\\y#1{#1#1}" + "\\y{" * 40 + "$$" + "x" * 2000 + "$$" + "}" * 40,
    "doubling-align": "\\newcommand{\\d}[1]{#1#1}"
    + "\\d{" * 30
    + "\\begin{align}a\\\\b"
    + "}" * 30,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_adversarial_input_is_fast_and_safe(name):
    text = CASES[name]
    t = time.perf_counter()
    doc = parse(text)
    render_document(doc, build_context([doc]))
    assert time.perf_counter() - t < 5.0


def test_optional_argument_ends_at_first_bracket_like_latex():
    doc = parse(r"\section[a[b]c]{T}")
    sec = doc.nodes[0]
    assert doc.arg_text(sec.args[0]) == "a[b"
    doc = parse(r"\section[{a[b]c}]{T}")
    assert doc.arg_text(doc.nodes[0].args[0]) == "{a[b]c}"
    assert doc.arg_text(doc.nodes[0].args[1]) == "T"


def test_absurd_include_names(make_project, doc):
    from papercycle.latex import Project

    body = "\\input{" + "a" * 5000 + "}\\input{/}\\input{a\x00b}\\include{}\\import{}{}"
    p = Project.build(make_project({"main.tex": doc(body)}))
    assert [e.status for e in p.includes if e.argument] == ["missing", "missing", "missing"]
