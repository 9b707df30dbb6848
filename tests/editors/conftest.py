"""Editor integration fixtures: an isolated PAPERCYCLE_HOME with the tiny models (the language
server tests' `Home`, tests/lsp/lsp_helpers.py), and a copy of the example paper per test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "lsp"))

from lsp_helpers import PAPER, Home  # noqa: E402

ARTIFACTS = REPO / ".cache" / "artifacts" / "editors"


@pytest.fixture(scope="module")
def home(tiny_gguf):
    h = Home(tiny_gguf)
    yield h
    h.stop()


@pytest.fixture
def paper(tmp_path) -> Path:
    """A one-file paper with a hidden instruction and three sections."""
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "main.tex").write_text(PAPER)
    return folder / "main.tex"


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


def editor_env(home: Home, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **home.env,
        "PC_PYTHON": sys.executable,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "HOME": str(tmp_path / "home"),
        **extra,
    }
