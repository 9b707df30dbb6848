"""Helpers for the project-model tests: build small LaTeX projects in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest


def write_project(base: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = base / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
    return base


@pytest.fixture
def make_project(tmp_path: Path):
    def make(files: dict[str, str | bytes], sub: str = "proj") -> Path:
        return write_project(tmp_path / sub, files)

    return make


def _doc(body: str, preamble: str = "", cls: str = "article") -> str:
    return f"\\documentclass{{{cls}}}\n{preamble}\n\\begin{{document}}\n{body}\n\\end{{document}}\n"


@pytest.fixture
def doc():
    """doc(body, preamble="", cls="article") -> a complete main file."""
    return _doc
