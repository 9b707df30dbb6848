"""A real editor, headless: Debian's Neovim 0.7.2 (`vim.lsp.start_client`) runs the server,
gets diagnostics and runs a code action end to end (install it with editors/install-test-deps.sh)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "editors" / "neovim_e2e.lua"


@pytest.mark.skipif(
    shutil.which("nvim") is None,
    reason="nvim not installed (editors/install-test-deps.sh installs Debian's neovim)",
)
def test_neovim_gets_diagnostics_and_runs_a_code_action(home, paper, tmp_path):
    out = tmp_path / "nvim.json"
    env = {
        **home.env,
        "PC_PAPER": str(paper),
        "PC_OUT": str(out),
        "PC_PYTHON": sys.executable,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }
    subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"],
        env=env,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    seen = json.loads(out.read_text())
    assert seen.get("error") is None, seen
    assert seen["diagnostics"] >= 1
    assert any(t.startswith("Dismiss this comment") for t in seen["actions"])
    assert seen["executed"] and seen["after"] < seen["diagnostics"]
    dismissed = json.loads((paper.parent / ".papercycle" / "dismissed.json").read_text())
    assert len(dismissed["comments"]) == 1
