"""Daemon fixtures: an isolated per-user home (config, state, runtime, cache) per test or per
module, and a small paper. Helpers live in daemon_helpers.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from daemon_helpers import Home, make_home, make_paper, serve_home


@pytest.fixture
def isolated_home(tiny_gguf, monkeypatch):
    """A fresh home for tests that start, kill or break their own daemon."""
    root = make_home(tiny_gguf)
    monkeypatch.setenv("PAPERCYCLE_HOME", str(root))
    home = Home(root)
    yield home
    home.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def shared_home(tiny_gguf):
    """One home and daemon per test module (the daemon is auto-started by the first client)."""
    yield from serve_home(make_home(tiny_gguf))


@pytest.fixture
def paper(tmp_path) -> Path:
    return make_paper(tmp_path / "paper")
