"""Everything papercycle creates for a user is owner-only (directories 0700, files 0600), under
the common umask 022 that would make them readable by every local user."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from home_helpers import stop_daemon, user_home
from papercycle.cli.main import cli
from papercycle.daemon.client import Client
from papercycle.daemon.paths import Paths
from papercycle.daemon.process import configure_logging, start_background
from papercycle.lsp.dismissals import Dismissals


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _shared(root: Path) -> list[str]:
    """Everything under `root` that someone other than its owner may read or enter."""
    out = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode & 0o077 or (path.is_dir() and mode != wanted):
            out.append(f"{path.relative_to(root.parent)} {mode:o}")
    return out


def test_daemon_home_config_cache_logs_and_runtime_are_owner_only(tmp_path, umask_022):
    root = Path(f"/tmp/pc-private-{os.getpid()}")  # short: the ipc socket path fits
    assert not root.exists()
    with user_home(root):
        paths = Paths.for_user()
        try:
            trusted = CliRunner().invoke(cli, ["trust", str(tmp_path)])  # writes config.toml
            assert trusted.exit_code == 0, trusted.output
            start_background(paths, timeout=60)

            async def stats() -> dict:
                async with Client(paths) as client:
                    return await asyncio.wait_for(client.request("cache.stats", {}), 30)

            assert isinstance(asyncio.run(stats()), dict)  # the daemon answered: it is up
            assert paths.cache_db.is_file() and paths.log_file.is_file()
            assert paths.config_file.is_file() and paths.info_file.is_file()
            assert _shared(root) == []
        finally:
            stop_daemon(paths)
            shutil.rmtree(root, ignore_errors=True)


def test_existing_world_readable_directories_and_log_are_tightened(tmp_path, umask_022):
    with user_home(tmp_path / "home"):
        paths = Paths.for_user()
        for directory in (paths.config, paths.state, paths.cache):
            directory.mkdir(parents=True, mode=0o755)
        paths.log_file.write_text("old log line\n")
        paths.ensure_all()
        configure_logging(str(paths.log_file))
        handler = logging.getLogger("papercycle").handlers.pop()
        handler.close()
        assert paths.log_file.read_text() == "old log line\n"  # tightened, not truncated
        assert _shared(tmp_path / "home") == [f"home {0o755:o}"]  # made by the test, above


def test_dismissals_file_in_the_project_is_owner_only(tmp_path, umask_022):
    Dismissals(tmp_path).dismiss("key", message="a reviewer's finding")
    assert _shared(tmp_path / ".papercycle") == []


def test_language_server_log_file_is_owner_only(tmp_path, umask_022):
    log_file = tmp_path / "logs" / "lsp.log"
    run = subprocess.run(  # stdin at its end: the server starts, logs and exits
        [sys.executable, "-m", "papercycle.cli", "lsp", "--stdio", "--log-file", str(log_file)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert _shared(tmp_path / "logs") == []
