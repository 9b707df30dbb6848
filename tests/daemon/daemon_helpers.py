"""Helpers of the daemon tests: isolated per-user homes, tiny models configured in them, a small
paper (with hidden white text), waiting with a timeout. The home and the paper are
tests/home_helpers.py's, shared with the language server tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from home_helpers import PAPER, make_home, model_entries, stop_daemon, user_home
from waiting import wait_until

SMALL_PAPER = PAPER
__all__ = [
    "SMALL_PAPER",
    "Home",
    "make_home",
    "make_paper",
    "model_entries",
    "serve_home",
    "wait_until",
]


def make_paper(base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    (base / "main.tex").write_text(SMALL_PAPER)
    return base / "main.tex"


class Home:
    """One isolated user: PAPERCYCLE_HOME, its Paths, and the daemon running there."""

    def __init__(self, root: Path) -> None:
        from papercycle.daemon.paths import Paths

        self.root = root
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(root)}
        os.environ["PAPERCYCLE_HOME"] = str(root)
        self.paths = Paths.for_user()

    def start(self) -> dict:
        from papercycle.daemon.process import start_background

        return start_background(self.paths, timeout=60)

    def info(self) -> dict | None:
        from papercycle.daemon.process import read_info

        return read_info(self.paths)

    def log(self) -> str:
        try:
            return self.paths.log_file.read_text()
        except OSError:
            return ""

    def stop(self) -> None:
        stop_daemon(self.paths)


def serve_home(root: Path) -> Iterator[Home]:
    """A fixture's body: the Home at `root`; afterwards its daemon stopped, PAPERCYCLE_HOME set
    back as it was and `root` removed."""
    with user_home(root):
        home = Home(root)
        try:
            yield home
        finally:
            home.stop()
    shutil.rmtree(root, ignore_errors=True)
