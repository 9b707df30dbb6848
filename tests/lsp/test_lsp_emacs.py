"""A real editor, headless: Debian's Emacs 28 with Eglot 1.9 (`elpa-eglot`) runs the server,
gets diagnostics and runs a code action end to end (skipped without them)."""

from __future__ import annotations

import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "editors" / "emacs_e2e.el"


@pytest.mark.skipif(
    shutil.which("emacs") is None or not glob.glob("/usr/share/emacs/site-lisp/elpa*/eglot-*"),
    reason="emacs and Eglot not installed (Debian: apt-get install emacs-nox elpa-eglot)",
)
def test_emacs_eglot_gets_diagnostics_and_runs_a_code_action(home, paper, tmp_path):
    out = tmp_path / "emacs.json"
    env = {
        **home.env,
        "PC_PAPER": str(paper),
        "PC_OUT": str(out),
        "PC_PYTHON": sys.executable,
        "HOME": str(tmp_path / "home"),
    }
    (tmp_path / "home").mkdir()
    done = subprocess.run(
        ["emacs", "-Q", "--batch", "-l", str(SCRIPT)],
        env=env,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert out.exists(), done.stderr[-3000:]
    seen = json.loads(out.read_text())
    assert "error" not in seen, (seen, done.stderr[-3000:])
    assert seen["diagnostics"] >= 1
    assert any(t.startswith("Dismiss this comment") for t in seen["actions"])
    assert seen["executed"] and seen["after"] < seen["diagnostics"]
    dismissed = json.loads((paper.parent / ".papercycle" / "dismissed.json").read_text())
    assert len(dismissed["comments"]) == 1
