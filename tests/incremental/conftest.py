"""Incremental-review fixtures: a daemon home with a short watch debounce and the tiny models,
and a ten-section paper."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "daemon"))
from daemon_helpers import make_home, serve_home

DEBOUNCE = 0.2


def ten_sections(edits: dict[int, str] | None = None, order: list[int] | None = None) -> str:
    """A paper of ten sections; `edits` replaces a section's sentence, `order` permutes them."""
    edits = edits or {}
    parts = []
    for i in order or range(10):
        body = edits.get(
            i,
            f"Section {i} studies topic number {i} in detail. "
            f"We measure effect {i} on one small dataset only.",
        )
        parts.append(f"\\section{{Topic {i}}}\n{body}\n")
    return (
        "\\documentclass{article}\n\\title{Ten Topics}\n\\begin{document}\n\\maketitle\n"
        + "\n".join(parts)
        + "\\end{document}\n"
    )


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
