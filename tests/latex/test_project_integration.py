"""A typical arXiv-style multi-file paper, end to end: what the model reads."""

from __future__ import annotations

from papercycle.latex import Project

FILES = {
    "main.tex": "\\documentclass[11pt]{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,amssymb,amsthm}\n\\usepackage[capitalise]{cleveref}\n\\usepackage{booktabs,xcolor,hyperref}\n\\newcommand{\\R}{\\mathbb{R}}\n\\newcommand{\\ours}{\\textsc{FastNet}}\n\\newcommand{\\eg}{e.g.,\\xspace}\n\\newtheorem{theorem}{Theorem}\n\\title{\\ours: Fast Networks for Everything\\thanks{Work done at X.}}\n\\author{Jane Doe \\and John Roe}\n\\begin{document}\n\\maketitle\n\\begin{abstract}\nWe present \\ours, which is $2\\times$ faster than prior work~\\cite{smith2020}.\n\\end{abstract}\n\\input{sec/intro}\n\\input{sec/method}\n\\section{Experiments}\\label{sec:exp}\n\\Cref{tab:main} shows results; \\cref{thm:main} explains why.\n\\begin{table}[t]\n\\centering\n\\caption{Main results on ImageNet.}\\label{tab:main}\n\\begin{tabular}{@{}lcc@{}}\n\\toprule\nMethod & Acc. (\\%) & Time (s) \\\\\n\\midrule\nBaseline~\\cite{smith2020} & 76.1 & 10.2 \\\\\n\\ours & \\textbf{78.3} & \\textbf{5.1} \\\\\n\\bottomrule\n\\end{tabular}\n\\end{table}\n\\bibliographystyle{plainnat}\n\\bibliography{refs}\n\\appendix\n\\section{Proofs}\\label{app:proofs}\n\\begin{proof}[Proof of \\cref{thm:main}]\nTrivial.\n\\end{proof}\n\\end{document}\n",
    "sec/intro.tex": "% !TEX root = ../main.tex\n\\section{Introduction}\\label{sec:intro}\nDeep networks are slow~\\citep{smith2020,lee2021}. We propose \\ours, \\eg for vision.\nOur contributions:\n\\begin{enumerate}\n  \\item A new layer (\\cref{sec:method}).\n  \\item Experiments (\\cref{sec:exp}).\n\\end{enumerate}\n",
    "sec/method.tex": "\\section{Method}\\label{sec:method}\nLet $x \\in \\R^d$. We define\n\\begin{equation}\\label{eq:f}\n  f(x) = \\sigma(Wx + b).\n\\end{equation}\n\\begin{theorem}[Speed]\\label{thm:main}\n\\ours{} runs in $O(d)$ time per layer, see \\eqref{eq:f}.\n\\end{theorem}\n",
    "refs.bib": "@inproceedings{smith2020, title={Slow Networks}, author={Smith, A. and Jones, B.}, booktitle={NeurIPS}, year={2020}}\n@article{lee2021, title={Even Slower}, author={Lee, C.}, journal={JMLR}, year={2021}, abstract={We study slowness.}}\n",
}

EXPECTED = """FastNet: Fast Networks for Everything

Jane Doe; John Roe

Abstract

We present FastNet, which is $2\\times$ faster than prior work [smith2020].

1 Introduction

Deep networks are slow [smith2020; lee2021]. We propose FastNet, e.g., for vision. Our contributions:

1. A new layer (Section 2).
2. Experiments (Section 3).

2 Method

Let $x \\in \\R^d$. We define $$f(x) = \\sigma(Wx + b).$$ (1)

Theorem 1 (Speed). FastNet runs in $O(d)$ time per layer, see (1).

3 Experiments

Table 1 shows results; Theorem 1 explains why.

Table 1: Main results on ImageNet.

Method & Acc. (%) & Time (s)
Baseline [smith2020] & 76.1 & 10.2
FastNet & 78.3 & 5.1

References

[smith2020] Smith, A. and Jones, B. Slow Networks. NeurIPS, 2020
[lee2021] Lee, C. Even Slower. JMLR, 2021

Appendix A Proofs

Proof of Theorem 1. Trivial.
"""


def test_arxiv_style_paper_reads_as_expected(make_project):
    root = make_project(FILES)
    p = Project.build(root / "sec" / "intro.tex")
    assert p.root.path == root / "main.tex"
    assert p.visible.text.strip() == EXPECTED.strip()
    assert p.hidden == []
    assert p.bibliography.undefined == {} and p.bibliography.unused == []
    assert p.bibliography.entries["lee2021"].abstract == "We study slowness."
    codes = {d.code for d in p.diagnostics}
    assert not codes & {"ref-undefined", "include-missing", "bib-parse", "latex-syntax"}
    # every visible character of the introduction maps into sec/intro.tex
    intro = next(n for n in p.structure.sections() if n.title == "Introduction")
    ranges = p.visible.source_ranges(intro.prose_start, intro.prose_end)
    assert {r.path.name for r in ranges} <= {"intro.tex", "main.tex"}
    assert ranges[0].path.name == "intro.tex"
