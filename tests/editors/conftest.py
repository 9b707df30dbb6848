"""Editor integration fixtures: an isolated PAPERCYCLE_HOME with the tiny models (the language
server tests' `Home`, tests/lsp/lsp_helpers.py), and a copy of the example paper per test. The
helpers the editor tests share are in editor_helpers.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from editor_helpers import ARTIFACTS, REPO
from lsp_helpers import home, paper

__all__ = ["artifacts", "example_project", "home", "paper"]


@pytest.fixture
def example_project(tmp_path) -> Path:
    """A copy of examples/paper (multi-file)."""
    target = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "paper", target)
    return target


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
