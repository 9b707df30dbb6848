"""The real SmolLM2-135M-Instruct through the daemon and the CLI, unconstrained (no grammar): a
Standard-mode answer cut by its token budget is reported incomplete, with the reason and what to
raise, and a second run reads it back from the cache still marked incomplete.

The budget is tiny (24 tokens) so the cut is certain and the test short; what the model writes
is not asserted, only what the product does with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_helpers import Home, serve_home
from home_helpers import PAPER, smollm2_home

# the small paper without its hidden instruction: a finding of its own would also exit 1
CLEAN_PAPER = "\n".join(line for line in PAPER.splitlines() if "textcolor" not in line)
BUDGET = 24


@pytest.fixture(scope="module")
def smol_home(smollm2_gguf: Path):
    yield from serve_home(smollm2_home(smollm2_gguf, BUDGET, "pcs-"))


def review(home: Home, paper: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "review", str(paper), *args],
        capture_output=True,
        text=True,
        env={**home.env, "PAPERCYCLE_HOME": str(home.root)},
        timeout=600,
        cwd=os.getcwd(),
    )


def test_standard_answer_cut_by_the_budget_is_incomplete_and_stays_so_from_the_cache(
    smol_home: Home, tmp_path: Path
) -> None:
    paper = tmp_path / "main.tex"
    paper.write_text(CLEAN_PAPER)
    first = review(smol_home, paper, "--mode", "standard", "--fail-on", "critical")
    assert first.returncode == 1, first.stderr  # no finding is critical: the cut is
    assert "INCOMPLETE" in first.stdout.splitlines()[0]
    cut_line = next(
        (line for line in first.stderr.splitlines() if "review incomplete" in line), None
    )
    assert cut_line is not None, first.stderr
    assert cut_line.startswith("warning: ")
    assert f"after {BUDGET} tokens" in cut_line and "raise max_tokens" in cut_line
    assert "Traceback" not in first.stderr

    again = review(smol_home, paper, "--mode", "standard", "--json")
    assert again.returncode == 0, again.stderr  # --fail-on none: reported, not failed
    result = json.loads(again.stdout)
    assert result["cached"] is True
    assert result["complete"] is False
    assert result["incomplete"]["reason"] == "length"
    assert result["incomplete"]["cause"] == "max_tokens"
    assert result["incomplete"]["tokens"] == BUDGET
    assert result["warnings"][0] == result["incomplete"]["message"]
    assert result["generation"]["finish"] == "length"
    assert "review incomplete" in again.stderr

    failing = review(smol_home, paper, "--mode", "standard", "--fail-on", "critical")
    assert failing.returncode == 1
    assert "from cache, INCOMPLETE" in failing.stdout.splitlines()[0]
