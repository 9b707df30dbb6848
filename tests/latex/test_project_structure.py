"""Section tree, numbering, labels and references, floats, equations, citations."""

from __future__ import annotations

from papercycle.latex import Project

PAPER = r"""\documentclass{article}
\usepackage{amsmath}
\title{A Study of \emph{Things}}
\begin{document}
\maketitle
\begin{abstract}
We study things carefully.
\end{abstract}
\section{Introduction}\label{sec:intro}
Intro text cites \citep{alpha, beta} and \citet{gamma}, see Section~\ref{sec:method}.
\section*{Unnumbered Note}
A starred section.
\section{Method}
\label{sec:method}
\subsection{Setup}\label{sec:setup}
\begin{equation}
E = mc^2 \label{eq:energy}
\end{equation}
\begin{align}
a &= b \\
c &= d \nonumber \\
e &= f \label{eq:third}
\end{align}
As \eqref{eq:energy} and \cref{eq:third} show, \autoref{fig:plot} and Table~\ref{tab:res} agree.
\subsubsection{Details}
\paragraph{A paragraph heading.} Paragraph text.
\begin{figure}[t]
\centering
\includegraphics{plot.png}
\caption{A plot of results.}\label{fig:plot}
\end{figure}
\begin{table}
\caption{Main results.}
\label{tab:res}
\begin{tabular}{ll} a & b \\ c & d \end{tabular}
\end{table}
\begin{figure}
\begin{subfigure}{0.4\textwidth}\caption{Left.}\label{fig:left}\end{subfigure}
\begin{subfigure}{0.4\textwidth}\caption{Right.}\label{fig:right}\end{subfigure}
\caption{Two panels.}\label{fig:panels}
\end{figure}
\section{Results}
See \ref{fig:right} and \ref{nonexistent}. \nocite{delta} \parencite[p.~3]{eps} \textcite{zeta} \autocite{eta,theta}
\appendix
\section{Proofs}\label{app:proofs}
\subsection{Lemma}
Proof text.
\end{document}
"""


def test_section_tree_numbering_and_ranges(make_project):
    root = make_project({"main.tex": PAPER})
    p = Project.build(root)
    s = p.structure
    assert s.title is not None and s.title.title == "A Study of Things"
    assert s.abstract is not None
    assert (
        "We study things carefully."
        in p.visible.text[s.abstract.prose_start : s.abstract.prose_end]
    )
    heads = [(n.kind, n.number, n.title) for n in s.sections()]
    assert heads == [
        ("section", "1", "Introduction"),
        ("section", None, "Unnumbered Note"),
        ("section", "2", "Method"),
        ("subsection", "2.1", "Setup"),
        ("subsubsection", "2.1.1", "Details"),
        ("paragraph", None, "A paragraph heading."),
        ("section", "3", "Results"),
        ("section", "A", "Proofs"),
        ("subsection", "A.1", "Lemma"),
    ]
    method = next(n for n in s.sections() if n.title == "Method")
    assert [c.title for c in method.children] == ["Setup"]
    text = p.file_text(method.range.path)
    assert text[method.range.start : method.range.end] == r"\section{Method}"
    assert method.label == "sec:method"
    assert text[method.title_range.start : method.title_range.end] == "Method"
    # the section's prose runs to the next section of the same level
    body = p.visible.text[method.prose_start : method.prose_end]
    assert body.startswith("2 Method") and "Paragraph text." in body and "3 Results" not in body
    proofs = next(n for n in s.sections() if n.title == "Proofs")
    assert proofs.appendix
    lsp = p.lsp_range(method.range)
    assert lsp.start.line == text[: method.range.start].count("\n")
    assert lsp.start.character == 0 and lsp.end.character == len(r"\section{Method}")


def test_labels_refs_floats_equations(make_project):
    p = Project.build(make_project({"main.tex": PAPER}))
    s = p.structure
    labels = {k: (v.kind, v.number) for k, v in s.labels.items()}
    assert labels["sec:intro"] == ("section", "1")
    assert labels["sec:setup"] == ("subsection", "2.1")
    assert labels["eq:energy"] == ("equation", "1")
    assert labels["eq:third"] == ("equation", "3")
    assert labels["fig:plot"] == ("figure", "1")
    assert labels["tab:res"] == ("table", "1")
    assert labels["fig:left"] == ("subfigure", "2a")
    assert labels["fig:right"] == ("subfigure", "2b")
    assert labels["fig:panels"] == ("figure", "2")
    assert labels["app:proofs"] == ("section", "A")
    assert [e.number for e in s.equations] == ["1", "2", "3"]
    t = p.visible.text
    assert "see Section 2." in t
    assert "As (1) and Eq. (3) show, Figure 1 and Table 1 agree." in t
    assert "Figure 1: A plot of results." in t
    assert "Table 1: Main results." in t
    assert "$$E = mc^2$$ (1)" in t
    assert "See 2b and ??." in t
    undefined = [d for d in p.diagnostics if d.code == "ref-undefined"]
    assert len(undefined) == 1 and "nonexistent" in undefined[0].message
    fig = next(f for f in s.floats if f.number == "1" and f.kind == "figure")
    assert fig.caption == "A plot of results."
    assert p.file_text(fig.range.path)[fig.range.start :].startswith(r"\begin{figure}")


def test_citations_all_commands_and_multiple_keys(make_project):
    p = Project.build(make_project({"main.tex": PAPER}))
    keys = [(c.command, c.key) for c in p.structure.citations]
    assert keys == [
        ("citep", "alpha"),
        ("citep", "beta"),
        ("citet", "gamma"),
        ("nocite", "delta"),
        ("parencite", "eps"),
        ("textcite", "zeta"),
        ("autocite", "eta"),
        ("autocite", "theta"),
    ]
    c = p.structure.citations[1]
    assert p.file_text(c.range.path)[c.range.start : c.range.end] == "beta"
    assert "[alpha; beta]" in p.visible.text
    # no bibliography at all: every key is undefined and that is said once
    assert set(p.bibliography.undefined) == {k for _, k in keys}
    assert [d.code for d in p.diagnostics].count("bib-none") == 1


def test_chapters_in_a_thesis(make_project, doc):
    body = r"""
\chapter{Background}\label{ch:bg}
\section{History}
\begin{figure}\caption{Old.}\label{fig:old}\end{figure}
\begin{equation}x=1\label{eq:x}\end{equation}
\chapter{Work}
\section{Now}
\begin{figure}\caption{New.}\label{fig:new}\end{figure}
"""
    p = Project.build(make_project({"thesis.tex": doc(body, cls="report")}))
    heads = [(n.kind, n.number) for n in p.structure.sections()]
    assert heads == [("chapter", "1"), ("section", "1.1"), ("chapter", "2"), ("section", "2.1")]
    assert p.structure.labels["fig:old"].number == "1.1"
    assert p.structure.labels["fig:new"].number == "2.1"
    assert p.structure.labels["eq:x"].number == "1.1"


def test_custom_sectioning(make_project, doc):
    preamble = r"""
\newcommand{\mysec}[1]{\section{#1}}
\makeatletter
\newcommand\mypart{\@startsection{mypart}{1}{0pt}{1ex}{1ex}{\bfseries}}
\renewcommand\subsection{\@startsection{subsection}{2}{\z@}{-3ex}{1ex}{\normalfont\bfseries}}
\makeatother
\newcommand{\method}{DualScale}
\newcommand{\grt}[2][great]{#2 is #1}
"""
    body = r"""
\mysec{Custom Intro}\label{sec:ci}
We propose \method{} here. \grt{This} and \grt[fine]{that}.
\mypart{Start Section}
\subsection{Redefined Sub}
Text.
"""
    p = Project.build(make_project({"main.tex": doc(body, preamble)}))
    heads = [(n.kind, n.number, n.title) for n in p.structure.sections()]
    assert heads == [
        ("section", "1", "Custom Intro"),
        ("section", "2", "Start Section"),
        ("subsection", "2.1", "Redefined Sub"),
    ]
    assert p.structure.labels["sec:ci"].number == "1"
    t = p.visible.text
    assert "We propose DualScale here." in t
    assert "This is great and that is fine." in t
    # the expanded macro maps to its invocation
    pos = t.index("DualScale")
    r = p.visible.source_range(pos, pos + len("DualScale"))
    assert p.file_text(r.path)[r.start : r.end] == r"\method"
    # the title passed through the macro maps to its real place
    ci = p.structure.sections()[0]
    assert p.file_text(ci.range.path)[ci.range.start : ci.range.end].startswith(r"\mysec{Custom")


def test_non_english_text_and_utf16_ranges(make_project, doc):
    body = "\\section{Einführung}\nÜber größere Maße — 数据集 😀 naïve.\n\\section{Résumé}\nFin."
    p = Project.build(make_project({"main.tex": doc(body)}))
    assert [n.title for n in p.structure.sections()] == ["Einführung", "Résumé"]
    q = p.find_quote("数据集 😀 naïve")
    assert q is not None and q.exact
    text = p.file_text(q.range.path)
    assert text[q.range.start : q.range.end] == "数据集 😀 naïve"
    lsp = p.lsp_range(q.range)
    line = text.splitlines()[lsp.start.line]
    utf16_prefix = line[: line.index("数")].encode("utf-16-le")
    assert lsp.start.character == len(utf16_prefix) // 2
    assert (
        lsp.end.character - lsp.start.character == len("数据集 😀 naïve".encode("utf-16-le")) // 2
    )


def test_abstract_macro_form_and_accents(make_project, doc):
    body = "\\abstract{Short abstract with G\\\"odel and \\'{e}t\\'e.}\n\\section{One}\nBody."
    p = Project.build(make_project({"main.tex": doc(body)}))
    a = p.structure.abstract
    assert a is not None
    assert "Short abstract with Gödel and été." in p.visible.text[a.prose_start : a.prose_end]


def test_refs_inside_captions_and_titles_and_footnotes(make_project, doc):
    body = r"""
\section{Setup}\label{sec:setup}
Text.\footnote{A note citing \cite{n1}.} More text.
\section{Results beyond Section~\ref{sec:setup}}
\begin{table}\caption{Numbers, compare with Table~\ref{tab:b} and Section~\ref{sec:setup}.}\label{tab:a}\end{table}
\begin{sidewaystable}\caption{Second.}\label{tab:b}\end{sidewaystable}
"""
    p = Project.build(make_project({"main.tex": doc(body)}))
    t = p.visible.text
    assert "Table 1: Numbers, compare with Table 2 and Section 1." in t
    assert "2 Results beyond Section 1" in t
    assert p.structure.sections()[1].title == "Results beyond Section 1"
    fl = p.structure.floats[0]
    assert fl.caption == "Numbers, compare with Table 2 and Section 1."
    assert (p.structure.labels["tab:b"].kind, p.structure.labels["tab:b"].number) == ("table", "2")
    assert "Text. [Footnote: A note citing [n1].] More text." in t
    # the caption's words still map exactly
    q = p.find_quote("compare with Table 2")
    src = p.file_text(q.range.path)
    assert src[q.range.start : q.range.end] == r"compare with Table~\ref{tab:b}"


def test_theorems_are_numbered_and_referenced(make_project, doc):
    preamble = r"""
\usepackage{amsthm}
\newtheorem{theorem}{Theorem}[section]
\newtheorem{lemma}[theorem]{Lemma}
\newtheorem*{remark}{Remark}
\newtheorem{definition}{Definition}
"""
    body = r"""
\section{Main}
\begin{definition}A thing.\end{definition}
\begin{theorem}[Main result]\label{thm:main}Things hold.\end{theorem}
\begin{lemma}\label{lem:aux}A lemma.\end{lemma}
\begin{proof}Obvious from \cref{lem:aux}.\end{proof}
\begin{remark}Unnumbered.\end{remark}
\section{More}
\begin{theorem}\label{thm:two}Again.\end{theorem}
By Theorem~\ref{thm:main} and \cref{thm:two}.
"""
    p = Project.build(make_project({"main.tex": doc(body, preamble)}))
    labels = {k: (v.kind, v.number) for k, v in p.structure.labels.items()}
    assert labels["thm:main"] == ("theorem", "1.1")
    assert labels["lem:aux"] == ("lemma", "1.2")
    assert labels["thm:two"] == ("theorem", "2.1")
    t = p.visible.text
    assert "Definition 1. A thing." in t
    assert "Theorem 1.1 (Main result). Things hold." in t
    assert "Proof. Obvious from Lemma 1.2." in t
    assert "Remark. Unnumbered." in t
    assert "By Theorem 1.1 and Theorem 2.1." in t
    m = p.resolve_reference("Lemma 1.2")
    assert m is not None and p.file_text(m.range.path)[m.range.start :].startswith(r"\begin{lemma}")
    assert p.resolve_reference("Thm. 2.1").number == "2.1"


def test_macro_swapping_its_arguments_in_a_title(make_project, doc):
    preamble = "\\newcommand{\\sw}[2]{#2 #1}\\title{\\sw{first}{second}}"
    p = Project.build(
        make_project({"main.tex": doc("\\maketitle\n\\section{\\sw{A}{B}}\nText.", preamble)})
    )
    assert p.structure.title.title == "second first"
    sec = p.structure.sections()[0]
    assert sec.title == "B A"
    src = p.file_text(sec.title_range.path)
    assert src[sec.title_range.start : sec.title_range.end] == "\\sw{A}{B}"


def test_subequations(make_project, doc):
    body = r"""
\begin{equation}a=1\label{eq:a}\end{equation}
\begin{subequations}\label{eq:group}
\begin{align}
b &= 2 \label{eq:b}\\
c &= 3 \label{eq:c}
\end{align}
\end{subequations}
\begin{equation}d=4\label{eq:d}\end{equation}
See \eqref{eq:group}, \eqref{eq:c} and \eqref{eq:d}.
"""
    p = Project.build(make_project({"main.tex": doc(body)}))
    labels = {k: v.number for k, v in p.structure.labels.items()}
    assert labels == {"eq:a": "1", "eq:group": "2", "eq:b": "2a", "eq:c": "2b", "eq:d": "3"}
    assert "See (2), (2b) and (3)." in p.visible.text
    assert p.resolve_reference("Eq. (2b)").number == "2b"
    assert p.resolve_reference("Equation 2").number == "2"


def test_structure_inside_user_macros(make_project, doc):
    preamble = r"""
\newcommand{\mycite}[1]{\citep{#1}}
\newcommand{\fig}[2]{\begin{figure}\caption{#1}\label{#2}\end{figure}}
\newcommand{\sref}[1]{Section~\ref{#1}}
"""
    body = r"""
\section{Intro}\label{sec:i}
As shown \mycite{k1,k2}. \fig{A wrapped figure.}{fig:w} See Figure~\ref{fig:w} and \sref{sec:i}.
"""
    p = Project.build(make_project({"main.tex": doc(body, preamble)}))
    assert [c.key for c in p.structure.citations] == ["k1", "k2"]
    assert p.structure.labels["fig:w"].number == "1"
    assert p.structure.labels["fig:w"].kind == "figure"
    t = p.visible.text
    assert "As shown [k1; k2]." in t
    assert "Figure 1: A wrapped figure." in t
    assert "See Figure 1 and Section 1." in t
    fl = p.structure.floats[0]
    src = p.file_text(fl.range.path)
    assert src[fl.range.start : fl.range.end].startswith(r"\fig{A wrapped")


def test_a_label_defined_twice_keeps_the_first_and_warns(make_project, doc):
    body = r"""
\section{One}\label{dup}
\section{Two}\label{dup}
\begin{equation}x=1\label{dup}\end{equation}
"""
    p = Project.build(make_project({"main.tex": doc(body, preamble=r"\usepackage{amsmath}")}))
    assert p.structure.labels["dup"].number == "1"
    duplicates = [d for d in p.diagnostics if d.code == "label-duplicate"]
    assert len(duplicates) == 2 and all("'dup'" in d.message for d in duplicates)
