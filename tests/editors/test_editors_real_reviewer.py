"""The README's "use a real reviewer" steps in real editors, with the real SmolLM2 GGUF standing
in for a reviewer: registered with `papercycle models add ... --format deepreviewer` (as a user
would), chosen as the editor's reviewer, the default reviewMode (`sections`). What the editor
shows must be either comments anchored in the text or a window message saying what the model
wrote could not be read (or was cut off) and why: never silence. And the section reviews are
written in the model's own format: the section grammar is not forced on a model that does not
declare it (the daemon's answer for the same section, served from the editor's cache entry,
says `format: deepreviewer`).

Each test is slow (SmolLM2 on shared cores): run one alone, niced.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from editor_helpers import REPO, editor_env, run_editor
from home_helpers import PAPER, stop_daemon, user_home

BUDGET = 24
MODEL = "smollm2"


class Home:
    """A fresh PAPERCYCLE_HOME with SmolLM2 registered by the CLI, as the README says."""

    def __init__(self, gguf: Path) -> None:
        import os

        self.root = Path(tempfile.mkdtemp(prefix="pce-"))
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}
        (self.root / "config").mkdir()
        (self.root / "config" / "config.toml").write_text("[daemon]\nexit_after_idle = 600\n")
        added = self.cli(
            "models",
            "add",
            MODEL,
            str(gguf),
            "--review-format",
            "deepreviewer",
            "--max-tokens",
            str(BUDGET),
            "--n-threads",
            "2",
        )
        assert added.returncode == 0, added.stderr

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "papercycle.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def stop(self) -> None:
        from papercycle.daemon.paths import Paths

        with user_home(self.root):
            stop_daemon(Paths.for_user())
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def smol_home(smollm2_gguf: Path):
    home = Home(smollm2_gguf)
    yield home
    home.stop()


@pytest.fixture
def smol_paper(tmp_path: Path) -> Path:
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "main.tex").write_text(PAPER)
    return folder / "main.tex"


def assert_never_silent(seen: dict) -> None:
    """Anchored comments, or messages that say why nothing could be shown."""
    assert seen["outcome_seen"], f"waited for {seen['waited_for']}; saw {seen}"
    for diagnostic in seen["diagnostics"]:
        # anchored: the range holds text of the paper, and a quoted comment sits on its quote
        assert diagnostic["text"].strip(), diagnostic
        if '(on: "' in diagnostic["message"]:
            quote = diagnostic["message"].split('(on: "', 1)[1].rsplit('")', 1)[0]
            assert quote in diagnostic["text"], diagnostic
    if not seen["diagnostics"]:
        reasons = [
            m for m in seen["messages"] if "review incomplete" in m or "nothing readable" in m
        ]
        assert reasons, seen["messages"]
        # each says why: cut off (with what to raise), or the parser's reasons
        assert all(("cut off" in m or "repeated" in m) or ": " in m for m in reasons)


def assert_own_format(home: Home, paper: Path) -> None:
    """The editor's section reviews were not forced into the section grammar: none of the
    section answers in the daemon's cache begins with that grammar's first literal, and the
    daemon's answer for a section with this model names the model's format."""
    import sqlite3

    db = sqlite3.connect(home.root / "cache" / "results.sqlite3")
    try:
        query = "SELECT output FROM outputs WHERE kind = 'section' AND model = ?"
        outputs = [row[0] for row in db.execute(query, (MODEL,))]
    finally:
        db.close()
    assert outputs, "the editor's section reviews are not in the daemon's cache"
    assert not any(o.lstrip().startswith('{"comments":') for o in outputs), outputs
    answer = home.cli("review", str(paper), "--section", "Method", "--model", MODEL, "--json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["format"] == "deepreviewer"


@pytest.mark.skipif(shutil.which("nvim") is None, reason="nvim not installed")
def test_neovim_real_reviewer(smol_home, smol_paper, tmp_path, artifacts) -> None:
    out = tmp_path / "neovim-real.json"
    env = editor_env(
        smol_home,
        tmp_path,
        PC_PAPER=str(smol_paper),
        PC_OUT=str(out),
        PC_MODEL=MODEL,
        PC_PLUGIN=str(REPO / "editors" / "neovim"),
    )
    script = REPO / "tests" / "editors" / "neovim_real_reviewer.lua"
    command = ["nvim", "--headless", "--clean", "-n", "-c", f"luafile {script}"]
    seen = run_editor(command, env, out, artifacts, timeout=560)
    assert_never_silent(seen)
    assert_own_format(smol_home, smol_paper)


@pytest.mark.skipif(shutil.which("emacs") is None, reason="emacs not installed")
def test_emacs_real_reviewer(smol_home, smol_paper, tmp_path, artifacts) -> None:
    out = tmp_path / "emacs-real.json"
    (tmp_path / "home").mkdir(exist_ok=True)
    env = editor_env(
        smol_home,
        tmp_path,
        PC_PAPER=str(smol_paper),
        PC_OUT=str(out),
        PC_MODEL=MODEL,
        PC_PACKAGE=str(REPO / "editors" / "emacs"),
    )
    script = REPO / "tests" / "editors" / "emacs_real_reviewer.el"
    seen = run_editor(
        ["emacs", "--batch", "-q", "-l", str(script)], env, out, artifacts, timeout=560
    )
    assert_never_silent(seen)
    assert_own_format(smol_home, smol_paper)


def test_vscode_real_reviewer(smol_home, smol_paper, tmp_path) -> None:
    """code-server with the packaged extension (editors/vscode/test/e2e/e2e.ts, scenario
    real-reviewer): what the Problems view and the notifications show."""
    import os

    from test_vscode_e2e import CHROMIUM, CODE_SERVER, E2E, EXT, VSIX, _free_port, _missing

    missing = _missing()
    if missing:
        pytest.skip(missing)
    artifacts = REPO / ".cache" / "artifacts" / "vscode-real"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **smol_home.env,
        "CODE_SERVER": str(CODE_SERVER),
        "VSIX": str(VSIX),
        "WORKSPACE": str(smol_paper.parent),
        "PYTHON": sys.executable,
        "ARTIFACTS": str(artifacts),
        "PORT": str(_free_port()),
        "WORK": str(work),
        "CHROMIUM": CHROMIUM,
        "SCENARIO": "real-reviewer",
        "REVIEWER": MODEL,
        "SECTION_MODEL": MODEL,
        "HOME": os.environ.get("HOME", str(tmp_path)),
    }
    proc = subprocess.run(
        ["node", str(E2E)], env=env, cwd=EXT, capture_output=True, text=True, timeout=900
    )
    result = json.loads((artifacts / "result.json").read_text())
    assert proc.returncode == 0, (result.get("error"), proc.stdout[-3000:], proc.stderr[-3000:])
    rows = result["problems"]
    seen = {
        "outcome_seen": True,
        "waited_for": "review problems or notifications",
        # a problem row is anchored: it names its line and column in main.tex
        "diagnostics": [{"message": r, "text": r} for r in rows if "generated by papercycle" in r],
        "messages": result["notifications"],
    }
    # no problem row at all is allowed: assert_never_silent then requires the notification
    # that says why (its `assert reasons`), so this check is never the only one
    assert all("[Ln " in d["message"] for d in seen["diagnostics"]), rows
    assert_never_silent(seen)
    assert_own_format(smol_home, smol_paper)
