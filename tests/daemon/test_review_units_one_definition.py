"""One definition of a review unit: `papercycle review --mode sections` reviews the sections an
editor's open project reviews (engine/incremental.py's units), not every heading, and the
quotes offered to a section reviewer are whole sentences of real papers."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from papercycle.daemon.engine import review as engine
from papercycle.daemon.engine import review_units
from papercycle.formats import section
from papercycle.latex import Project

# Section 2 has no text of its own before its first subsection: no unit of its own (the CLI
# used to review it, with its subsections' text, besides the subsections themselves).
PAPER = r"""\documentclass{article}
\begin{document}
\section{Introduction}
We study how small models review papers. They are fast.

\section{Method}
\subsection{Data}
We collect two hundred papers with their reviews. Each has three reviews.

\subsection{Training}
We train for two epochs. The loss goes down (see Eq.~3 vs.\ the baseline).

\section{Results}
The model agrees with humans in most cases. It is cheap to run.
\end{document}
"""


def test_the_cli_and_the_editor_review_the_same_units(shared_home, tmp_path):
    paper = tmp_path / "paper" / "main.tex"
    paper.parent.mkdir()
    paper.write_text(PAPER)
    project = Project.build(paper)
    editor_units = [unit.part.node.title for unit in review_units.units(project)]
    assert editor_units == ["Introduction", "Data", "Training", "Results"]
    assert [part.node.title for part in engine.reviewable_sections(project)] == editor_units

    result = subprocess.run(
        [sys.executable, "-m", "papercycle.cli.main", "review", str(paper), "--mode", "sections",
         "--model", "tiny-section", "--json"],
        env=shared_home.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    reviewed = [part["section"]["name"] for part in json.loads(result.stdout)["sections"]]
    # shown with their numbers (the prompt leaves the number out, so that a section moved by an
    # insertion above it keeps its cached review)
    assert reviewed == ["Section 1 Introduction", "Subsection 2.1 Data",
                        "Subsection 2.2 Training", "Section 3 Results"]  # fmt: skip


def _section_bodies(project: Project) -> list[str]:
    return [unit.body for unit in review_units.units(project)]


def test_quotes_are_whole_sentences_of_the_shared_papers(shared_dir):
    papers = sorted((shared_dir / "data" / "latex").glob("*/template.tex"))
    assert len(papers) >= 4
    abbreviation_end = re.compile(r"\b(vs|e\.g|i\.e|et al|Eq|Fig|Sec|Tab|cf)\.$")
    sentences = []
    for paper in papers:
        for body in _section_bodies(Project.build(paper)):
            sentences += section.quotable_sentences(body)
    assert len(sentences) > 500
    fragments = [s for s in sentences if abbreviation_end.search(s)]
    assert not fragments, fragments[:5]
    # "... (approximately 400 tokens per second vs. 670 in the baseline)." is one sentence
    speed = [s for s in sentences if "400 tokens per second vs." in s]
    assert speed and all(s.endswith("670 in the baseline).") for s in speed), speed


def test_non_breaking_markers_keep_a_sentence_whole(tmp_path):
    paper = tmp_path / "main.tex"
    paper.write_text(PAPER)
    (training,) = [u.body for u in review_units.units(Project.build(paper)) if "epochs" in u.body]
    assert section.quotable_sentences(training) == [
        "We train for two epochs.",
        "The loss goes down (see Eq. 3 vs. the baseline).",
    ]
    assert section.quotable_sentences("Smith et al. (2020) showed it. Then we did, e.g. X.") == [
        "Smith et al. (2020) showed it.",
        "Then we did, e.g. X.",
    ]
