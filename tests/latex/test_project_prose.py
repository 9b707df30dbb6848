"""Visible prose, its source map, quote -> range and reference resolution."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from papercycle.latex import Project

BODY = r"""
\section{Introduction}
Visible sentence one. % a comment that must vanish
Second  visible   sentence
spans lines.%
Joined
\iffalse
Never shown iffalse text.
\fi
\begin{comment}
Never shown comment environment.
\end{comment}
\begin{verbatim}
verbatim code here
\end{verbatim}
\begin{lstlisting}[language=Python]
print("listing")
\end{lstlisting}
\begin{minted}{python}
print("minted")
\end{minted}
Inline math $x_i^2 + \alpha$ and \(y\) stay compact. We cite \cite{k1,k2}.
An \emph{emphasised} word, a \textbf{bold \textit{nested}} phrase, a~tie and \verb|raw|.

A new paragraph with 50\% and \& symbols and an URL \url{https://x.org/a%20b}.
\begin{itemize}
\item First item.
\item Second item.
\end{itemize}
\section{Second Section}
Plain closing text here.
"""


@pytest.fixture
def project(make_project, doc):
    return Project.build(make_project({"main.tex": doc(BODY)}))


def test_hidden_source_never_reaches_the_text(project):
    t = project.visible.text
    for gone in [
        "comment that must vanish",
        "iffalse",
        "comment environment",
        "verbatim code",
        "listing",
        "minted",
        "documentclass",
        "\\section",
    ]:
        assert gone not in t
    assert "Visible sentence one." in t
    assert "Second visible sentence spans lines.Joined" in t
    assert "$x_i^2 + \\alpha$" in t and "$y$" in t
    assert "[k1; k2]" in t
    assert "An emphasised word, a bold nested phrase, a tie and raw." in t
    assert "A new paragraph with 50% and & symbols and an URL https://x.org/a%20b." in t
    assert "\n- First item.\n- Second item." in t
    assert "\n\n1 Introduction\n\n" in "\n\n" + t
    assert "\n\n2 Second Section\n\n" in t


def test_every_copied_character_maps_to_itself(project):
    """Each character that is copied from the source maps back to that very character."""
    sm = project.visible.source_map
    t = project.visible.text
    checked = 0
    for i in range(len(sm)):
        os_, oe, ss, se = sm.out_start[i], sm.out_end[i], sm.src_start[i], sm.src_end[i]
        if oe - os_ != se - ss:
            continue
        src = project.file_text(sm.files[sm.src_file[i]])
        for k in range(oe - os_):
            out_ch, src_ch = t[os_ + k], src[ss + k]
            assert out_ch == src_ch or (out_ch == " " and src_ch in " \n\t~\r"), (out_ch, src_ch)
            checked += 1
    assert checked > 300


def test_sections_slice_the_text(project):
    slices = {s.node.title: s for s in project.section_slices()}
    intro = slices["Introduction"]
    assert "Visible sentence one." in intro.text and "Plain closing text" not in intro.text
    assert intro.ranges and all(r.path.name == "main.tex" for r in intro.ranges)
    second = slices["Second Section"]
    assert second.text.rstrip().endswith("Plain closing text here.")
    pos = project.file_text(intro.node.range.path).index("Visible sentence one")
    assert project.section_at(intro.node.range.path, pos).title == "Introduction"


def test_quote_with_changed_whitespace_or_markup_maps_with_high_score(project):
    src = project.file_text(project.root.path)
    for quote, expect_in_source in [
        ("Second visible sentence spans lines.", "Second  visible   sentence\nspans lines."),
        ("second   VISIBLE sentence\n spans lines", "Second  visible   sentence\nspans lines"),
        (r"a \textbf{bold \textit{nested}} phrase", r"a \textbf{bold \textit{nested}} phrase"),
        (
            "An emphasised word, a bold nested phrase",
            r"An \emph{emphasised} word, a \textbf{bold \textit{nested}} phrase",
        ),
    ]:
        m = project.find_quote(quote)
        assert m is not None, quote
        assert m.score >= 0.95
        assert src[m.range.start : m.range.end] == expect_in_source


def test_small_paraphrase_still_found_unrelated_text_not(project):
    m = project.find_quote("A new paragraph with 50 percent and & symbols")
    assert m is not None and not m.exact and m.score >= 0.8
    src = project.file_text(m.range.path)
    assert "A new paragraph with 50" in src[m.range.start : m.range.end]
    assert (
        project.find_quote("Quantum chromodynamics predicts gluon confinement at low energy")
        is None
    )
    assert project.find_quote("") is None


def test_references_resolve(make_project, doc):
    body = r"""
\begin{abstract}Abs.\end{abstract}
\section{Intro}
\section{Related Work}
\subsection{Older}
\begin{table}\caption{T one.}\end{table}
\begin{table}\caption{T two.}\label{tab:two}\end{table}
\begin{figure}\caption{F one.}\end{figure}
\begin{equation}a=1\end{equation}
\begin{equation}b=2\label{eq:b}\end{equation}
\appendix
\section{Extra}
"""
    p = Project.build(make_project({"main.tex": doc(body)}))
    src = p.file_text(p.root.path)

    def at(ref):
        m = p.resolve_reference(ref)
        assert m is not None, ref
        return src[m.range.start : m.range.end]

    assert at("Section 2") == r"\section{Related Work}"
    assert at("Sec. 2.1") == r"\subsection{Older}"
    assert at("§1") == r"\section{Intro}"
    assert at("Table 2").startswith(r"\begin{table}")
    assert p.resolve_reference("Table 2").number == "2"
    assert p.resolve_reference("Figure 1").kind == "figure"
    assert at("Eq. (2)") == r"\begin{equation}b=2\label{eq:b}\end{equation}"
    assert p.resolve_reference("(1)").number == "1"
    assert p.resolve_reference("the abstract").kind == "abstract"
    assert at("Appendix A") == r"\section{Extra}"
    assert at("the related work section") == r"\section{Related Work}"
    assert p.resolve_reference("tab:two").number == "2"
    assert p.resolve_reference("Section 9") is None
    assert p.resolve_reference("Table 7") is None
    assert p.resolve_reference("Figure 3") is None
    m = p.resolve_reference("Section 2")
    assert "Older" in p.visible.text[m.prose_start : m.prose_end]


# -- property: verbatim quotes map back exactly ------------------------------------------------

PROP_FILES = {
    "main.tex": r"""\documentclass{article}
\begin{document}
\section{Alpha Part}
Words of the first kind, each one distinct: apple banana cherry damson elder fig.
\input{second}
Back in main: grape \emph{huckleberry} imbe jackfruit. Accents: na\"ive caf\'e.
\section{Beta Part}
Kiwi lemon mango $z^2$ nectarine~olive papaya.
\end{document}
""",
    "second.tex": "Second file words: quince raspberry strawberry tangerine ugli.\n\nVanilla walnut xigua yam zucchini.\n",
}


@pytest.fixture(scope="module")
def prop_project(tmp_path_factory):
    base = tmp_path_factory.mktemp("prop")
    for name, text in PROP_FILES.items():
        (base / name).write_text(text)
    return Project.build(base)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_verbatim_quote_maps_to_exactly_its_source_range(prop_project, data):
    _check_verbatim_quote(prop_project, data)


@pytest.fixture(scope="module")
def real_paper(shared_dir):
    return Project.build(shared_dir / "data/latex/aiscientist_adaptive_dual_scale_denoising")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_verbatim_quote_on_a_real_paper(real_paper, data):
    _check_verbatim_quote(real_paper, data)


def _check_verbatim_quote(p, data):
    t = p.visible.text
    a = data.draw(st.integers(0, len(t) - 1))
    b = data.draw(st.integers(a + 1, min(len(t), a + 120)))
    quote = t[a:b]
    assume(quote.strip() and t.find(quote) == a)  # only quotes that occur once, where we took them
    m = p.find_quote(quote)
    assert m is not None and m.exact and m.score == 1.0
    assert (m.prose_start, m.prose_end) == (a, b)
    assert list(m.ranges) == p.visible.source_ranges(a, b)
    sm = p.visible.source_map
    # where the quote is made only of characters copied from one contiguous stretch of source,
    # the source says exactly the same (up to whitespace forms)
    segs = [i for i in range(len(sm)) if sm.out_start[i] < b and sm.out_end[i] > a]
    copied = all(sm.out_end[i] - sm.out_start[i] == sm.src_end[i] - sm.src_start[i] for i in segs)
    contiguous = all(
        sm.src_start[j] == sm.src_end[i] and sm.src_file[j] == sm.src_file[i]
        for i, j in itertools.pairwise(segs)
    )
    if copied and contiguous:
        assert len(m.ranges) == 1
        src = p.file_text(m.range.path)[m.range.start : m.range.end]
        assert re.sub(r"[\s~]", " ", src) == re.sub(r"\s", " ", quote)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_quotes_with_changed_whitespace_or_markup_still_map(prop_project, data):
    p = prop_project
    t = p.visible.text
    words = list(re.finditer(r"[A-Za-z]+[.,:]?", t))
    i = data.draw(st.integers(0, len(words) - 4))
    n = data.draw(st.integers(3, min(10, len(words) - i)))
    span = (words[i].start(), words[i + n - 1].end())
    original = t[span[0] : span[1]]
    assume("\n\n" not in original and t.count(original) == 1)  # one place, not across a heading
    tokens = original.split()
    seps = data.draw(
        st.lists(
            st.sampled_from([" ", "  ", "\n", " \n  ", "\t"]),
            min_size=len(tokens) - 1,
            max_size=len(tokens) - 1,
        )
    )
    marked = [
        data.draw(st.sampled_from([w, f"\\emph{{{w}}}", f"\\textbf{{{w}}}", w.upper()]))
        for w in tokens
    ]
    quote = marked[0] + "".join(s + w for s, w in zip(seps, marked[1:], strict=True))
    m = p.find_quote(quote)
    assert m is not None, quote
    assert m.score >= 0.95
    assert (m.prose_start, m.prose_end) == span
    assert list(m.ranges) == p.visible.source_ranges(*span)


def test_tables_render_cells_not_layout(make_project, doc):
    body = r"""
\begin{table}
\begin{tabular}{lcc}
\toprule
\multicolumn{2}{c}{Group} & \multirow{2}{*}{Score} \\[2pt]
\cmidrule(lr){1-2}
A & B & 0.91 \\ \hline
\cline{1-2}
\end{tabular}
\caption{Scores.}
\end{table}
Line one\\[3mm] line two\\* line three.
"""
    p = Project.build(make_project({"main.tex": doc(body)}))
    t = p.visible.text
    assert "Group & Score\n" in t
    assert "A & B & 0.91" in t
    assert "(lr)" not in t and "1-2" not in t and "2pt" not in t and "lcc" not in t
    assert "Line one line two line three." in t


def test_link_and_note_macros(make_project, doc):
    body = (
        r"\section{\texorpdfstring{$\alpha$-Nets}{alpha-Nets}}\label{s}"
        "\n"
        r"See \hyperref[s]{the first section} and \href{http://x.org}{our site}. \todo[inline]{Fix this.}"
    )
    p = Project.build(make_project({"main.tex": doc(body)}))
    t = p.visible.text
    assert "1 $\\alpha$-Nets" in t
    assert "See the first section and our site. Fix this." in t
    assert "[s]" not in t and "alpha-Nets" not in t and "http" not in t


def test_from_source_is_strict_unless_nearest(project):
    sm = project.visible.source_map
    path = project.root.path
    src = project.file_text(path)
    word = src.index("Visible sentence one")
    assert project.visible.text[sm.from_source(path, word) :].startswith("Visible sentence one")
    comment = src.index("a comment that must vanish")
    assert sm.from_source(path, comment) is None  # a comment produces no visible text
    assert sm.from_source(path, src.index("\\iffalse")) is None
    after = sm.from_source(path, comment, nearest=True)
    assert project.visible.text[after:].startswith("Second visible")
    emph = src.index("\\emph{emphasised}")
    assert project.visible.text[sm.from_source(path, emph + len("\\emph{")) :].startswith(
        "emphasised"
    )
