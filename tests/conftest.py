"""Shared fixtures.

`shared_dir` is the third-party material beside the clone (../shared): tests that need it
skip with a reason when it is absent; nothing from it is copied into this repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _shared_dir() -> Path:
    return Path(os.environ.get("PAPERCYCLE_SHARED", REPO_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = _shared_dir()
    if not (path / "data").is_dir():
        pytest.skip(f"third-party test material not found at {path} (set PAPERCYCLE_SHARED)")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
