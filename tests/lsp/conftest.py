"""Language server fixtures: an isolated per-user home (PAPERCYCLE_HOME) per test module with
the tiny models configured, and a small paper (helpers in lsp_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsp_helpers import PAPER, Home


@pytest.fixture(scope="module")
def home(tiny_gguf):
    h = Home(tiny_gguf)
    yield h
    h.stop()


@pytest.fixture
def paper(tmp_path) -> Path:
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "main.tex").write_text(PAPER)
    return folder / "main.tex"
