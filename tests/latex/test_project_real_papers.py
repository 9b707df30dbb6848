"""The four real papers in ../shared/data/latex and a generated 200 KB single file."""

from __future__ import annotations

import random
import re

import pytest
from papercycle.latex import Project


@pytest.fixture(scope="module")
def papers(shared_dir):
    dirs = sorted(p.parent for p in (shared_dir / "data/latex").glob("*/template.tex"))
    assert len(dirs) == 4
    return {d.name: Project.build(d) for d in dirs}


def test_structure_of_real_papers(papers):
    for name, p in papers.items():
        s = p.structure
        assert p.root.path.name == "template.tex"
        assert s.title is not None and len(s.title.title) > 10, name
        assert s.abstract is not None and s.abstract.prose_end - s.abstract.prose_start > 300
        titles = [n.title.lower() for n in s.sections() if n.level == 1]
        assert titles[0] == "introduction", name
        assert any("conclusion" in t for t in titles), name
        assert len(s.citations) >= 5
        assert p.bibliography.kind == "bibtex"
        # the embedded filecontents copy and the preamble are not prose
        assert "@article" not in p.visible.text and "usepackage" not in p.visible.text
        no_math = re.sub(r"\$[^$]*\$", "", re.sub(r"\$\$.*?\$\$", "", p.visible.text, flags=re.S))
        assert "\\" not in no_math, (name, no_math[no_math.find("\\") - 80 :][:160])
        # every citation key appears in the prose as the model will refer to it
        for c in s.citations:
            assert c.key in p.visible.text


def test_known_defects_of_real_papers_are_reported(papers):
    rl = papers["aiscientist_rl_lr_adaptation"]
    assert "loshchilov2016sgdr" in rl.bibliography.undefined
    dups = [d for d in rl.diagnostics if d.code == "bib-duplicate-key"]
    assert any("Loshchilov2016SGDRSG" in d.message for d in dups)
    for p in papers.values():
        for ref in p.structure.refs:
            for key in ref.keys:
                # refs either resolve, or are reported
                assert key in p.structure.labels or any(
                    d.code == "ref-undefined" and key in d.message for d in p.diagnostics
                )


def test_real_paper_sentences_map_back_exactly(papers):
    rng = random.Random(4)
    for p in papers.values():
        text = p.visible.text
        refs = next(n for n in p.structure.root.walk() if n.kind == "bibliography")
        body = re.compile(r"[A-Z][^.\n$\[\]]{40,200}\.")
        sentences = list(body.finditer(text, 0, refs.prose_start))
        for m in rng.sample(sentences, 10):
            q = p.find_quote(m.group(0))
            assert q is not None and q.exact and (q.prose_start, q.prose_end) == m.span()
            src = p.file_text(q.range.path)[q.range.start : q.range.end]
            # the source of a plain sentence is the sentence, up to line breaks and markup
            plain = src.replace("~", " ").replace("\\_", "_")
            for _ in range(4):
                plain = re.sub(r"\\[a-z]+\{([^{}]*)\}", r"\1", plain)
            sentence = re.sub(r"^(?:Figure|Table|Algorithm) \d+: ", "", m.group(0))  # caption label
            assert re.sub(r"\s+", " ", plain).startswith(sentence[:20])


def test_reference_resolution_on_a_real_paper(papers):
    p = papers["aiscientist_rl_lr_adaptation"]
    m = p.resolve_reference("Table 2")
    assert m is not None and "Ablation" in m.description
    m = p.resolve_reference("Section 3.2")
    assert m is not None and "Formalism" in m.description
    m = p.resolve_reference("Figure 3")
    assert m is not None and "text8" in m.description


def test_reviewer_quote_with_markup_stripped(papers):
    p = papers["aiscientist_rl_lr_adaptation"]
    src = p.file_text(p.root.path)
    q = p.find_quote(
        "We conduct experiments on three datasets: shakespeare_char, enwik8, and text8."
    )
    assert q is not None and q.score >= 0.95
    assert src[q.range.start : q.range.end] == (
        "We conduct experiments on three datasets: \\texttt{shakespeare\\_char}, "
        "\\texttt{enwik8}, and \\texttt{text8}."
    )


def test_200kb_single_file(make_project):
    rng = random.Random(7)
    words = [
        "model",
        "data",
        "training",
        "loss",
        "results",
        "method",
        "baseline",
        "the",
        "of",
        "and",
        "to",
        "in",
        "we",
        "show",
    ]
    parts = ["\\documentclass{article}\n\\begin{document}\n\\begin{abstract}Big.\\end{abstract}\n"]
    n_sections = 0
    size = 0
    while size < 200_000:
        n_sections += 1
        parts.append(f"\\section{{Part {n_sections}}}\\label{{sec:{n_sections}}}\n")
        for _ in range(6):
            para = (
                " ".join(rng.choice(words) for _ in range(60))
                + f" \\cite{{k{rng.randrange(50)}}}.\n\n"
            )
            parts.append(para)
            size += len(para)
    parts.append("\\end{document}\n")
    text = "".join(parts)
    assert len(text.encode()) >= 200_000
    p = Project.build(make_project({"big.tex": text}))
    assert len(p.structure.sections()) == n_sections
    assert p.structure.labels[f"sec:{n_sections}"].number == str(n_sections)
    last = p.structure.sections()[-1]
    assert p.file_text(last.range.path)[last.range.start :].startswith(
        f"\\section{{Part {n_sections}}}"
    )
    assert p.hidden == []
