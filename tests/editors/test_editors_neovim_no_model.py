"""No reviewer model configured, in Debian's headless Neovim with the papercycle plugin: the
editor shows the failure (an error diagnostic on `\\documentclass`, one window message, a
status line that says the sections failed) instead of "reviewing 0/N sections" for ever."""

from __future__ import annotations

import shutil

import pytest
from editor_helpers import REPO, editor_env, run_editor
from test_lsp_failures import WHY, BareHome

SCRIPT = REPO / "tests" / "editors" / "neovim_no_model.lua"

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None,
    reason="nvim not installed (editors/install-test-deps.sh installs Debian's neovim)",
)


@pytest.fixture
def bare_home():
    home = BareHome()
    yield home
    home.stop()


def test_neovim_without_a_model_says_the_review_failed(bare_home, paper, tmp_path, artifacts):
    out = tmp_path / "neovim-no-model.json"
    env = editor_env(
        bare_home,
        tmp_path,
        PC_PAPER=str(paper),
        PC_OUT=str(out),
        PC_PLUGIN=str(REPO / "editors" / "neovim"),
    )
    command = ["nvim", "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"]
    seen = run_editor(command, env, out, artifacts, timeout=300)
    assert seen["failures"] == 1
    assert seen["line"].startswith("\\documentclass") and seen["severity"] == "error"
    assert WHY in seen["message"]
    shown = [m for m in seen["messages"] if WHY in m["message"]]
    assert len(shown) == 1 and shown[0]["type"] == 1  # MessageType.Error
    assert seen["ended"] is True
    assert seen["status"].startswith("papercycle: all ") and "sections failed" in seen["status"]
