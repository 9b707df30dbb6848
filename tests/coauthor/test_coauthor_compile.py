"""What `papercycle draft --paper` writes compiles: pdflatex, bibtex when the draft cites,
pdflatex twice more, with the daemon's tiny researcher model (random weights, the
CycleResearcher layout forced by its grammar), with and without the authors' measured results."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from coauthor_helpers import MEASURED, draft_paper

TOOLS = ("pdflatex", "bibtex", "kpsewhich")


@pytest.fixture(scope="module")
def home(coauthor_home):
    return coauthor_home


def _missing_latex() -> str | None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        styles = ("natbib.sty", "booktabs.sty", "xcolor.sty", "amssymb.sty")
        found = subprocess.run(["kpsewhich", *styles], capture_output=True, text=True).stdout
        missing = [s for s in styles if s not in found]
    if not missing:
        return None
    why = f"no {', '.join(missing)} (bash scripts/install-latex.sh installs them)"
    if os.environ.get("PAPERCYCLE_REQUIRE_LATEX"):
        pytest.fail(why)
    pytest.skip(why)


def _latex(out: Path, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*command], cwd=out, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def _compile(out: Path) -> None:
    pdflatex = ("pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex")
    first = _latex(out, *pdflatex)
    assert first.returncode == 0, first.stdout[-3000:]
    if "\\citation{" in (out / "main.aux").read_text():
        bib = _latex(out, "bibtex", "main")
        assert bib.returncode == 0, bib.stdout[-3000:]
    for _ in range(2):
        again = _latex(out, *pdflatex)
        assert again.returncode == 0, again.stdout[-3000:]
    log = (out / "main.log").read_text(errors="replace")
    assert "Output written on main.pdf" in log
    undefined = [line for line in log.splitlines() if "Warning: Citation" in line]
    assert not undefined, undefined  # every \cite is a key of the .bib, resolved by bibtex


@pytest.mark.parametrize("measured", [False, True], ids=["idea only", "with measured results"])
def test_a_drafted_paper_compiles(home, small_paper, tmp_path, measured):
    _missing_latex()
    out = tmp_path / "draft"
    bib = small_paper.parent / "refs.bib"
    run = draft_paper(home, bib, out, "--quiet", measured=MEASURED if measured else None)
    assert run.returncode == 0, run.stderr
    _compile(out)
    assert (out / "main.pdf").stat().st_size > 1000
