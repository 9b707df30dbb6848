"""Incremental-review fixtures: a daemon home with a short watch debounce and the tiny models,
and a project of `ten_sections()` (incremental_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_helpers import make_home, serve_home
from incremental_helpers import ten_sections

DEBOUNCE = 0.2


@pytest.fixture
def home(tiny_gguf):
    root = make_home(
        tiny_gguf,
        f"watch_debounce = {DEBOUNCE}\nkv_state_min_tokens = 16\n",
    )
    yield from serve_home(root)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "paper"
    root.mkdir()
    (root / "main.tex").write_text(ten_sections())
    return root
