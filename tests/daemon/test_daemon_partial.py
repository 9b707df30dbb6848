"""`papercycle review --mode sections` on a paper with one section too long for the model's
context (a real daemon, the tiny section model with n_ctx 2048): every other section is
reviewed, the long one is listed as skipped with its numbers, the exit status is 1 (a partial
review), and the advice does not tell a review by section to review by section."""

from __future__ import annotations

import json
import re

import pytest
from test_daemon_cli import papercycle

SHORT = "We route each token to one expert. The gate is trained with a balance loss.\n"
LONG = " ".join(f"Sentence {i} describes one more routing detail at length." for i in range(300))


@pytest.fixture(scope="module")
def home(shared_home):
    return shared_home


def long_paper(folder):
    folder.mkdir()
    sections = {"Introduction": SHORT, "Appendix": LONG, "Method": SHORT, "Results": SHORT}
    body = "".join(f"\\section{{{name}}}\n{text}\n" for name, text in sections.items())
    main = folder / "main.tex"
    main.write_text(
        "\\documentclass{article}\n\\title{Routing}\n\\begin{document}\n\\maketitle\n"
        + body
        + "\\end{document}\n"
    )
    return main


def test_a_section_too_long_is_skipped_the_others_reviewed(home, tmp_path):
    main = long_paper(tmp_path / "long")
    text = papercycle(home, "review", str(main), "--mode", "sections", "--model", "tiny-section")
    assert text.returncode == 1, text.stderr
    skipped = [line for line in text.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 1
    assert re.match(
        r"skipped: section 'Section 2 Appendix' needs \d+ tokens \(\d+ of prompt\), "
        r"the context holds 2048$",
        skipped[0],
    ), skipped
    assert "reviewed 3 of 4 sections" in text.stderr
    printed = [line for line in text.stdout.splitlines() if line.startswith("section ")]
    assert len(printed) == 3 and not any("Appendix" in line for line in printed)

    # the daemon's answer says why too, without "review by section"
    as_json = papercycle(
        home,
        "review",
        str(main),
        "--mode",
        "sections",
        "--model",
        "tiny-section",
        "--format",
        "json",
    )
    assert as_json.returncode == 1
    result = json.loads(as_json.stdout)
    (part,) = result["skipped"]
    assert part["tokens"] > part["n_ctx"] == 2048
    assert "split the section" in part["message"]
    assert "review by section" not in part["message"]
    assert [s["section"]["title"] for s in result["sections"]] == [
        "Introduction",
        "Method",
        "Results",
    ]
