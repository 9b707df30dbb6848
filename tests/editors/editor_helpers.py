"""What the editor tests share: an editor's environment, a server to drive, an editor or browser
run that reports what it saw as JSON, and checks of a dismissed comment. (Imported by name:
`from conftest import` would find another folder's conftest when folders run together.)"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "lsp"))

from home_helpers import stop_process  # noqa: E402
from lsp_helpers import Home  # noqa: E402

ARTIFACTS = REPO / ".cache" / "artifacts" / "editors"
CHROMIUM = Path("/usr/bin/chromium")


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


def browser_test_missing(package: Path, built: str) -> str | None:
    """Why the Chromium test of `package` (a folder of editors/) cannot run, or None."""
    if shutil.which("node") is None:
        return "node not found"
    if not CHROMIUM.exists():
        return "chromium not installed (editors/install-test-deps.sh)"
    if not (package / "node_modules" / "playwright-core").is_dir():
        return f"npm packages missing: npm --prefix editors/{package.name} ci"
    if not (package / built).is_file():
        return f"{built} is not built: npm --prefix editors/{package.name} run build"
    return None


@contextlib.contextmanager
def serving(home: Home, tmp_path: Path, *args: str) -> Iterator[dict]:
    """`papercycle <args>` running in `home`, and the JSON line it prints once it listens."""
    env = editor_env(home, tmp_path)
    proc = subprocess.Popen(
        [env["PC_PYTHON"], "-m", "papercycle.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()[-3000:]
        yield json.loads(line)
    finally:
        stop_process(proc)


def run_editor(command: list[str], env: dict, out: Path, artifacts: Path, **run) -> dict:
    """Run an editor (or browser) test script that writes what it saw to `out` as JSON; keep a
    copy in the artifacts and check it reports no error."""
    proc = subprocess.run(
        command,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        **run,
    )
    assert out.exists(), f"{command[0]} wrote nothing: {proc.stdout[-2000:]} {proc.stderr[-3000:]}"
    (artifacts / out.name).write_text(out.read_text())  # what the editor saw
    seen = json.loads(out.read_text())
    assert seen.get("error") is None, (seen, proc.stderr[-3000:])
    return seen


def assert_one_dismissed(actions: list[str], project: Path) -> None:
    """A "Dismiss this comment" code action was offered, and one comment is kept dismissed."""
    assert any(t.startswith("Dismiss this comment") for t in actions), actions
    dismissed = json.loads((project / ".papercycle" / "dismissed.json").read_text())
    assert len(dismissed["comments"]) == 1
