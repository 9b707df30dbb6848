"""`papercycle draft` on a terminal: the draft printed once (the model's tokens are counted on
stderr, not shown and then shown again), the way to write it named; the token count's line
reads "drafting with M · 12 tokens · 00:01", never "x: : 0tok". Real daemon, tiny model."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest
from papercycle.cli.progress import TOKEN_BAR_FORMAT
from tqdm import tqdm

TIMEOUT = 180


@pytest.fixture(scope="module")
def home(coauthor_home):
    return coauthor_home


def _read_all(fd: int) -> str:
    out = b""
    while select.select([fd], [], [], 0.5)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out.decode("utf-8", "replace")


def test_draft_on_a_terminal_prints_the_draft_once_and_names_apply(home, small_paper):
    primary, terminal = pty.openpty()  # stderr is a terminal: the token count is drawn
    try:
        run = subprocess.run(
            [sys.executable, "-m", "papercycle.cli", "draft", str(small_paper),
             "--section", "Method"],
            env={**os.environ, "PAPERCYCLE_HOME": str(home.root)},
            stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        stderr = _read_all(primary)
    finally:
        os.close(terminal)
        os.close(primary)
    assert run.returncode == 0, stderr
    draft = run.stdout.strip()
    assert draft
    first_line = draft.splitlines()[0]
    assert first_line not in stderr  # the words are not echoed on the terminal too
    assert "add --apply to write this draft into" in stderr and str(small_paper) in stderr
    assert ": : " not in stderr and "tokens" in stderr


def test_the_token_count_line_has_no_empty_bar():
    line = tqdm.format_meter(
        n=12, total=None, elapsed=1, prefix="reviewing with tiny", bar_format=TOKEN_BAR_FORMAT
    )
    assert line == "reviewing with tiny · 12 tokens · 00:01"
