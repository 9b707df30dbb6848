"""Shared fixtures.

`shared_dir` is the third-party material beside the clone (../shared): tests that need it
skip with a reason when it is absent; nothing from it is copied into this repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Shared 2-core machines make wall-clock deadlines flaky; property tests bound their work by
# example counts instead. The examples are derived from each test, not drawn at random, so that
# every machine runs the same ones: a red run is a defect anyone can reproduce, never luck.
# `HYPOTHESIS_PROFILE=explore` draws fresh examples (run it when changing a parser).
settings.register_profile("papercycle", deadline=None, derandomize=True)
settings.register_profile("explore", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "papercycle"))

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers (tiny_models)
# daemon_helpers (a daemon in a home of its own): the co-author, incremental and trainer tests
# use it too, and a file run alone must find it
sys.path.insert(0, str(Path(__file__).resolve().parent / "daemon"))


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


@pytest.fixture(scope="session")
def tiny_models():
    """Builds (once, cached on disk by source hash) tiny HF models, adapters and GGUF exports."""
    from tiny_models import default_store

    return default_store()


@pytest.fixture(scope="session")
def tiny_gguf(tiny_models) -> Path:
    """A tiny random-weight Llama GGUF (f16, ChatML template in its metadata)."""
    path, _ = tiny_models.gguf("llama", "f16")
    return path


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """The real SmolLM2-135M-Instruct GGUF (the embedded default model), read in place from
    the package `make install` brings."""
    from papercycle.daemon.models.catalogue import CatalogueError, find

    try:
        return find("smollm2-135m-instruct").path()
    except CatalogueError as error:
        pytest.skip(str(error))


def pytest_terminal_summary(terminalreporter):
    from tiny_models import default_store

    store = default_store()
    lines = store.digest_lines()
    if lines:
        terminalreporter.section(f"tiny test models in {store.root.relative_to(REPO_ROOT)}")
        for line in lines:
            terminalreporter.write_line(line)

    fidelity = sorted(
        value
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("failed", [])
        for name, value in report.user_properties
        if name == "fidelity"
    )
    if fidelity:
        terminalreporter.section("HF -> GGUF fidelity (measured by tests/export)")
        for line in fidelity:
            terminalreporter.write_line(line)


SLOW_TESTS = {
    line
    for line in (Path(__file__).parent / "slow_tests.txt").read_text().splitlines()
    if line and not line.startswith("#")
}


def pytest_collection_modifyitems(items):
    """Tests measured slow (tests/slow_tests.txt) join those marked `slow` in their module."""
    for item in items:
        if item.nodeid.split("[")[0] in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
