"""Bibliography: .bib (failed blocks, duplicates), biblatex, .bbl only, \\bibitem lists,
filecontents, none; citations linked, undefined and unused reported, abstracts kept."""

from __future__ import annotations

from papercycle.latex import Project

BIB = """@article{good2020,
  title = {A Good Paper},
  author = {Doe, Jane and Roe, Rick},
  journal = {Journal},
  year = {2020},
  abstract = {We show that good papers exist.}
}

@inproceedings{unused2019,
  title = {Never Cited},
  author = {Nobody, A.},
  year = {2019}
}

@article{broken,
  title = {Missing closing brace
  year = 2020

@article{good2020,
  title = {Duplicate},
  year = {2021}
}
"""


def test_bibtex_problems_with_line_numbers(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("We cite \\cite{good2020} and \\citep{missing}.\n\\bibliography{refs}"),
            "refs.bib": BIB,
        }
    )
    p = Project.build(root)
    bib = p.bibliography
    assert bib.kind == "bibtex"
    assert [r.name for r in bib.resources] == ["refs.bib"]
    assert bib.entries["good2020"].title == "A Good Paper"
    assert bib.entries["good2020"].abstract == "We show that good papers exist."
    assert bib.entries["good2020"].year == "2020"
    codes = {d.code: d for d in p.diagnostics}
    dup = codes["bib-duplicate-key"]
    assert "good2020" in dup.message and "refs.bib:19" in dup.message and "line 1" in dup.message
    bad = codes["bib-parse"]
    assert "refs.bib:15" in bad.message
    assert p.lsp_range(bad.range).start.line == 14
    assert set(bib.undefined) == {"missing"}
    r = bib.undefined["missing"][0]
    assert p.file_text(r.path)[r.start : r.end] == "missing"
    assert "unused2019" in bib.unused
    assert "good2020" not in bib.unused
    unused = [d for d in p.diagnostics if d.code == "bib-unused" and "unused2019" in d.message]
    assert unused and unused[0].range.path.name == "refs.bib"
    # the reference list the model reads has the cited entry
    assert "[good2020] Doe, Jane and Roe, Rick. A Good Paper. Journal, 2020" in p.visible.text


def test_biblatex_addbibresource(make_project, doc):
    root = make_project(
        {
            "main.tex": doc(
                "\\textcite{good2020} and \\autocite{unused2019}.\n\\printbibliography",
                "\\usepackage{biblatex}\n\\addbibresource{lib/refs.bib}",
            ),
            "lib/refs.bib": BIB.split("@article{broken")[0],
        }
    )
    p = Project.build(root)
    assert p.bibliography.kind == "biblatex"
    assert p.bibliography.undefined == {}
    assert p.bibliography.unused == []
    assert not [d for d in p.diagnostics if d.code.startswith("bib-") and d.code != "bib-unused"]
    refs = next(n for n in p.structure.root.walk() if n.kind == "bibliography")
    assert "References" in p.visible.text[refs.prose_start : refs.prose_end]


def test_bbl_only_project(make_project, doc):
    bbl = r"""\begin{thebibliography}{2}
\bibitem[Doe(2020)]{doe2020}
Jane Doe.
\newblock A bbl paper.
\newblock In \emph{Proc.}, 2020.
\bibitem{roe2018}
Rick Roe.
\newblock Another one.
\newblock 2018.
\end{thebibliography}
"""
    root = make_project(
        {"main.tex": doc("See \\cite{doe2020,nothere}.\n\\bibliography{refs}"), "main.bbl": bbl}
    )
    p = Project.build(root)
    assert p.bibliography.kind == "bbl"
    assert set(p.bibliography.entries) == {"doe2020", "roe2018"}
    assert p.bibliography.entries["doe2020"].year == "2020"
    assert set(p.bibliography.undefined) == {"nothere"}
    assert p.bibliography.unused == ["roe2018"]
    assert "bib-missing" not in [d.code for d in p.diagnostics]


def test_thebibliography_in_document(make_project, doc):
    body = r"""Cite \cite{a1} and \cite{zz}.
\begin{thebibliography}{9}
\bibitem{a1} First Author. Title one. 2001.
\bibitem{b2} Second Author. Title two. 2002.
\end{thebibliography}"""
    p = Project.build(make_project({"main.tex": doc(body)}))
    assert p.bibliography.kind == "thebibliography"
    assert set(p.bibliography.entries) == {"a1", "b2"}
    assert set(p.bibliography.undefined) == {"zz"}
    assert p.bibliography.unused == ["b2"]
    assert "[a1] First Author. Title one. 2001." in p.visible.text


def test_no_bibliography_and_missing_bib_file(make_project, doc):
    p = Project.build(make_project({"main.tex": doc("No citations at all.")}, sub="a"))
    assert p.bibliography.kind == "none"
    assert not [d for d in p.diagnostics if d.code.startswith(("bib-", "cite-"))]
    q = Project.build(make_project({"main.tex": doc("\\cite{x}\\bibliography{gone}")}, sub="b"))
    codes = [d.code for d in q.diagnostics]
    assert "bib-missing" in codes and "cite-undefined" in codes and "bib-none" in codes


def test_filecontents_bibliography_when_file_absent(make_project):
    main = r"""\documentclass{article}
\begin{filecontents}{refs.bib}
@article{fc1, title={From Filecontents}, year={2022}}
@article{fc1, title={Again}, year={2022}}
\end{filecontents}
\begin{document}
\cite{fc1}
\bibliography{refs}
\end{document}
"""
    p = Project.build(make_project({"main.tex": main}))
    assert p.bibliography.kind == "filecontents"
    e = p.bibliography.entries["fc1"]
    assert e.title == "From Filecontents"
    assert p.file_text(e.range.path)[e.range.start :].startswith("@article{fc1")
    dup = [d for d in p.diagnostics if d.code == "bib-duplicate-key"]
    assert len(dup) == 1 and p.lsp_range(dup[0].range).start.line == 3
    assert "From Filecontents" in p.visible.text  # the reference list
    assert "@article" not in p.visible.text


def test_nocite_star_uses_everything(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\nocite{*}\\bibliography{refs}"),
            "refs.bib": BIB.split("@article{broken")[0],
        }
    )
    p = Project.build(root)
    assert p.bibliography.unused == []
    assert p.bibliography.undefined == {}


def test_non_utf8_bib_is_read_with_a_warning(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\cite{m}\\bibliography{refs}"),
            "refs.bib": "@article{m, title={M\xfcller's theorem}, year={1999}}\n".encode("latin-1"),
        }
    )
    p = Project.build(root)
    assert p.bibliography.entries["m"].title == "M\ufffdller's theorem"
    assert any(d.code == "encoding" and "refs.bib" in d.message for d in p.diagnostics)
