"""Root detection, include graph (every include form), cycles, missing files, escapes,
encodings and the size limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from papercycle.latex import Project, ProjectConfig, ProjectError


def _file_of(project: Project, sentence: str) -> Path:
    text = project.visible.text
    pos = text.find(sentence)
    assert pos >= 0, f"{sentence!r} not in visible text"
    ranges = project.visible.source_ranges(pos, pos + len(sentence))
    assert len(ranges) == 1
    r = ranges[0]
    assert project.file_text(r.path)[r.start : r.end] == sentence
    return r.path


def test_every_include_form_is_followed_and_maps_back(make_project, doc):
    body = r"""
\input{plain}
\input{withext.tex}
\input bare
\include{chap}
\subfile{parts/sub}
\import{imp/}{imported}
\subimport{imp/}{subimp}
\inputfrom{imp/}{frominput}
\InputIfFileExists{maybe}{}{}
\InputIfFileExists{absent}{}{}
"""
    root = make_project(
        {
            "main.tex": doc(body, r"\usepackage{subfiles}\usepackage{import}"),
            "plain.tex": "Plain input sentence.\n",
            "withext.tex": "Extension sentence.\n",
            "bare.tex": "Bare word sentence.\n",
            "chap.tex": "Included chapter sentence.\n",
            "parts/sub.tex": "\\documentclass[../main.tex]{subfiles}\n\\begin{document}\nSubfile sentence.\n\\end{document}\n",
            "imp/imported.tex": "Imported sentence.\n",
            "imp/subimp.tex": "Subimported sentence.\n",
            "imp/frominput.tex": "Inputfrom sentence.\n",
            "maybe.tex": "Conditional sentence.\n",
        }
    )
    p = Project.build(root)
    expected = {
        "Plain input sentence.": "plain.tex",
        "Extension sentence.": "withext.tex",
        "Bare word sentence.": "bare.tex",
        "Included chapter sentence.": "chap.tex",
        "Subfile sentence.": "sub.tex",
        "Imported sentence.": "imported.tex",
        "Subimported sentence.": "subimp.tex",
        "Inputfrom sentence.": "frominput.tex",
        "Conditional sentence.": "maybe.tex",
    }
    for sentence, name in expected.items():
        assert _file_of(p, sentence).name == name
    # document order is include order
    order = [p.visible.text.find(s) for s in expected]
    assert order == sorted(order)
    statuses = {e.argument: e.status for e in p.includes}
    assert statuses["absent"] == "missing"
    followed = [v for k, v in statuses.items() if k != "absent"]
    assert followed and all(v == "ok" for v in followed)
    codes = [d.code for d in p.diagnostics]
    assert "include-missing" in codes
    # the subfile's own preamble is not prose
    assert "subfiles" not in p.visible.text


def test_missing_include_is_a_diagnostic_with_location(make_project, doc):
    root = make_project({"main.tex": doc("Intro text.\n\\input{nothere}\nMore text.")})
    p = Project.build(root)
    d = [d for d in p.diagnostics if d.code == "include-missing"]
    assert len(d) == 1
    assert "nothere" in d[0].message
    line = p.lsp_range(d[0].range).start.line
    assert p.file_text(d[0].range.path).splitlines()[line].startswith("\\input{nothere}")
    assert "More text." in p.visible.text


def test_include_cycle_is_reported_not_followed(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\input{a}"),
            "a.tex": "Alpha text.\n\\input{b}\n",
            "b.tex": "Beta text.\n\\input{a}\n\\input{b}\n",
        }
    )
    p = Project.build(root)
    assert p.visible.text.count("Alpha text.") == 1
    assert p.visible.text.count("Beta text.") == 1
    cycles = [d for d in p.diagnostics if d.code == "include-cycle"]
    assert len(cycles) == 2
    assert all(d.range is not None and d.range.path.name == "b.tex" for d in cycles)


def test_include_outside_root_is_refused(make_project, tmp_path, doc):
    (tmp_path / "secret.tex").write_text("Outside sentence must not be read.\n")
    root = make_project({"main.tex": doc("Inside.\n\\input{../secret}\n\\input{/etc/hostname}")})
    p = Project.build(root)
    assert "Outside sentence" not in p.visible.text
    outside = [d for d in p.diagnostics if d.code == "include-outside-root"]
    assert len(outside) >= 1
    assert all(d.range.path.name == "main.tex" for d in outside)
    assert p.files and all(
        not f.is_relative_to(tmp_path) or f.is_relative_to(root) for f in p.files
    )


def test_includeonly_excludes_other_includes(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\include{one}\n\\include{two}\n\\input{three}", "\\includeonly{one}"),
            "one.tex": "First chapter.\n",
            "two.tex": "Second chapter.\n",
            "three.tex": "Input is not affected.\n",
        }
    )
    p = Project.build(root)
    assert "First chapter." in p.visible.text
    assert "Second chapter." not in p.visible.text
    assert "Input is not affected." in p.visible.text
    assert {e.argument: e.status for e in p.includes}["two"] == "excluded"


def test_magic_comment_root_from_a_part(make_project, doc):
    root = make_project(
        {
            "paper.tex": doc("\\input{sections/intro}"),
            "sections/intro.tex": "% !TEX root = ../paper.tex\nIntroduction text.\n",
        }
    )
    p = Project.build(root / "sections" / "intro.tex")
    assert p.root.path.name == "paper.tex"
    assert p.root.method == "magic-comment"
    assert "Introduction text." in p.visible.text


def test_part_without_magic_comment_finds_including_main(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\input{body}"),
            "other.tex": doc("Unrelated."),
            "body.tex": "Body text.\n",
        }
    )
    p = Project.build(root / "body.tex")
    assert p.root.path.name == "main.tex"
    assert p.root.method == "include-graph"


def test_two_candidate_mains_choose_by_include_graph_and_say_why(make_project, doc):
    root = make_project(
        {
            "paper.tex": doc("\\input{a}\n\\input{b}\n\\input{standalone}"),
            "standalone.tex": doc("A standalone figure file."),
            "a.tex": "A.\n",
            "b.tex": "B.\n",
        }
    )
    p = Project.build(root)
    assert p.root.path.name == "paper.tex"
    assert p.root.method == "include-graph"
    assert len(p.root.candidates) == 2
    assert "standalone.tex" in p.root.reason
    # the user can override
    q = Project.build(root, root="standalone.tex")
    assert q.root.path.name == "standalone.tex"
    assert q.root.method == "override"
    assert "A standalone figure file." in q.visible.text


def test_two_independent_mains_prefer_the_bigger_graph(make_project, doc):
    root = make_project(
        {
            "draft.tex": doc("Draft."),
            "final.tex": doc("\\input{x}"),
            "x.tex": "X text.\n",
        }
    )
    p = Project.build(root)
    assert p.root.path.name == "final.tex"


def test_latexmkrc_and_papercycle_toml(make_project, doc):
    root = make_project(
        {
            "a.tex": doc("\\input{x}"),
            "b.tex": doc("Chosen by latexmkrc."),
            "x.tex": "X.\n",
            ".latexmkrc": "# comment\n@default_files = ('b.tex');\n",
        }
    )
    p = Project.build(root)
    assert p.root.path.name == "b.tex" and p.root.method == "latexmkrc"
    (root / ".papercycle.toml").write_text('[project]\nroot = "a.tex"\n')
    q = Project.build(root)
    assert q.root.path.name == "a.tex" and q.root.method == "papercycle.toml"


def test_no_project_raises_project_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ProjectError):
        Project.build(tmp_path)
    (tmp_path / "frag.tex").write_text("Only a fragment, no documentclass.")
    with pytest.raises(ProjectError):
        Project.build(tmp_path)
    with pytest.raises(ProjectError):
        Project.build(tmp_path / "missing-dir")


def test_non_utf8_bytes_are_replaced_with_a_warning(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\input{latin}"),
            "latin.tex": "Caf\xe9 au lait.\nSecond line.\n".encode("latin-1"),
        }
    )
    p = Project.build(root)
    enc = [d for d in p.diagnostics if d.code == "encoding"]
    assert len(enc) == 1 and "latin.tex" in enc[0].message and "line 1" in enc[0].message
    assert "Caf\ufffd au lait." in p.visible.text


def test_file_over_size_limit_is_refused(make_project, doc):
    root = make_project({"main.tex": doc("Small.\n\\input{big}"), "big.tex": "x" * 5000})
    p = Project.build(root, config=ProjectConfig(max_file_bytes=1000))
    d = [d for d in p.diagnostics if d.code == "include-too-large"]
    assert len(d) == 1 and "limit" in d[0].message and "big.tex" in d[0].message
    assert "xxxx" not in p.visible.text
    assert "Small." in p.visible.text


def test_root_over_size_limit_is_a_project_error(make_project, doc):
    root = make_project({"main.tex": doc("y" * 3000)})
    with pytest.raises(ProjectError, match="limit"):
        Project.build(root / "main.tex", config=ProjectConfig(max_file_bytes=1000))


def test_part_in_a_subdirectory_finds_main_in_the_parent(make_project, doc):
    root = make_project(
        {"main.tex": doc("\\input{sections/intro}"), "sections/intro.tex": "Deep intro text.\n"}
    )
    p = Project.build(root / "sections" / "intro.tex")
    assert p.root.path.name == "main.tex" and p.root.method == "include-graph"
    assert "Deep intro text." in p.visible.text


def test_dotdot_paths_are_one_file(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("\\input{sections/a}\\bibliography{sections/../refs}\\cite{k}"),
            "sections/a.tex": "% !TEX root = ../main.tex\nA text. \\input{sections/../sections/b}\n",
            "sections/b.tex": "B text.\n",
            "refs.bib": "@misc{k, title={K}}\n",
        }
    )
    p = Project.build(root / "sections" / "a.tex")
    assert ".." not in str(p.root.path)
    assert p.files and all(".." not in str(f) for f in p.files)
    assert p.bibliography.undefined == {}
    assert p.bibliography.resources and all(".." not in str(r) for r in p.bibliography.resources)


def test_crlf_line_endings_and_bom(make_project):
    text = (
        "\ufeff% !TEX root = main.tex\r\n\\documentclass{article}\r\n\\begin{document}\r\n"
        "\\section{One}\r\nFirst line\r\nsecond line.\r\n\r\nNew paragraph.\r\n\\end{document}\r\n"
    )
    root = make_project({"main.tex": text.encode("utf-8")})
    p = Project.build(root)
    assert "First line second line.\n\nNew paragraph." in p.visible.text
    q = p.find_quote("second line. New paragraph")
    assert q is not None and q.score >= 0.95
    src = p.file_text(q.range.path)
    assert src[q.range.start : q.range.end] == "second line.\r\n\r\nNew paragraph"
    assert p.lsp_range(q.range).start.line == 5
    assert p.structure.sections()[0].title == "One"


def test_papercycle_toml_root_must_exist(make_project, doc):
    root = make_project(
        {"main.tex": doc("x"), ".papercycle.toml": 'root = "gone.tex"\nmax_file_bytes = 10\n'}
    )
    with pytest.raises(ProjectError, match=r"gone\.tex"):
        Project.build(root)


def test_papercycle_toml_size_limit(make_project, doc):
    root = make_project(
        {
            "main.tex": doc("Short.\\input{big}"),
            "big.tex": "z" * 400,
            ".papercycle.toml": "[project]\nmax_file_bytes = 300\n",
        }
    )
    p = Project.build(root)
    assert p.config.max_file_bytes == 300
    assert "zzz" not in p.visible.text
    assert any(d.code == "include-too-large" for d in p.diagnostics)
