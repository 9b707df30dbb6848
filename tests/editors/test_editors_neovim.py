"""The Neovim plugin (editors/neovim) in Debian's headless Neovim (0.7.2: start_client): review
diagnostics, a code action through vim.lsp.buf.code_action, a draft previewed as virtual lines
then accepted, another rejected, the buffer written."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from editor_helpers import REPO, assert_one_dismissed, editor_env, run_editor

SCRIPT = REPO / "tests" / "editors" / "neovim_plugin.lua"

pytestmark = pytest.mark.skipif(
    shutil.which("nvim") is None,
    reason="nvim not installed (editors/install-test-deps.sh installs Debian's neovim)",
)


def test_neovim_plugin_review_code_action_and_draft(home, paper, tmp_path, artifacts):
    out = tmp_path / "neovim.json"
    env = editor_env(
        home,
        tmp_path,
        PC_PAPER=str(paper),
        PC_OUT=str(out),
        PC_PLUGIN=str(REPO / "editors" / "neovim"),
    )
    before = paper.read_text()
    command = ["nvim", "--headless", "--clean", "-n", "-c", f"luafile {SCRIPT}"]
    seen = run_editor(command, env, out, artifacts, timeout=560)
    assert seen["filetype"] == "tex"
    assert seen["diagnostics"] >= 1 and seen["dismissed_gone"] is True
    assert_one_dismissed(seen["actions"], paper.parent)
    # the draft was previewed (virtual lines), not inserted until accepted
    assert seen["preview_lines"] >= 3
    assert seen["unchanged_while_previewing"] is True
    assert seen["accepted"] is True and seen["marks_after_accept"] == 0
    assert seen["draft_text"].strip() and seen["draft_text"].strip() in seen["buffer"]
    assert seen["rejected_unchanged"] is True and seen["drafts_left"] == 0
    assert seen["seen_progress"] is True
    assert any("draft" in s for s in seen["statuses"]), seen["statuses"]
    # written by :write only, with the accepted draft
    on_disk = paper.read_text()
    assert on_disk != before and seen["draft_text"].strip() in on_disk


def test_neovim_root_is_the_folder_of_papercycle_toml(tmp_path):
    """A project's `.papercycle.toml` marks its root, as the daemon reads it."""
    (tmp_path / "paper" / "chapters").mkdir(parents=True)
    (tmp_path / "paper" / ".papercycle.toml").write_text('root = "main.tex"\n')
    tex = tmp_path / "paper" / "chapters" / "intro.tex"
    tex.write_text("\\section{Intro}\n")
    lua = (
        f"vim.opt.rtp:prepend('{REPO / 'editors' / 'neovim'}'); "
        f"io.write(require('papercycle')._find_root('{tex}'))"
    )
    result = subprocess.run(
        ["nvim", "--headless", "--clean", "-n", "-c", f"lua {lua}", "-c", "qa!"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.stdout + result.stderr).strip().endswith(str(tmp_path / "paper"))
