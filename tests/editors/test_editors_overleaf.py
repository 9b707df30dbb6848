"""The Overleaf extension (editors/overleaf, Manifest V3) loaded into Debian's Chromium on a
local mock Overleaf page that emulates `UNSTABLE_editor:extensions`, against a real
`papercycle lsp --ws` (tiny models): highlights, a tooltip, the side panel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, editor_env

EXT = REPO / "editors" / "overleaf"
CHROMIUM = Path("/usr/bin/chromium")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node not found"
    if not CHROMIUM.exists():
        return "chromium not installed (editors/install-test-deps.sh)"
    if not (EXT / "node_modules" / "playwright-core").is_dir():
        return "npm packages missing: npm --prefix editors/overleaf ci"
    if not (EXT / "dist" / "mock.js").is_file():
        return "the mock page is not built: npm --prefix editors/overleaf run build"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


def test_overleaf_extension_on_a_mock_page(home, paper, tmp_path, artifacts):
    env = editor_env(home, tmp_path)
    lsp = subprocess.Popen(
        [env["PC_PYTHON"], "-m", "papercycle.cli", "lsp", "--ws"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        announced = json.loads(lsp.stdout.readline())
        out = tmp_path / "overleaf.json"
        settings = {"models": {"section": "tiny-section"}, "checkFrequency": "edit"}
        env = editor_env(
            home,
            tmp_path,
            PC_LSP_URL=announced["url"],
            PC_PAPER=str(paper),
            PC_FOLDER=str(paper.parent),
            PC_ARTIFACTS=str(artifacts),
            PC_OUT=str(out),
            PC_SETTINGS=json.dumps(settings),
        )
        proc = subprocess.run(
            ["node", str(EXT / "test" / "overleaf.e2e.mjs")],
            env=env,
            cwd=EXT,
            timeout=400,
            check=False,
            capture_output=True,
            text=True,
        )
    finally:
        lsp.terminate()
        try:
            lsp.wait(20)
        except subprocess.TimeoutExpired:
            lsp.kill()
    assert out.exists(), f"the test wrote nothing: {proc.stdout[-2000:]} {proc.stderr[-3000:]}"
    (artifacts / "overleaf.json").write_text(out.read_text())
    seen = json.loads(out.read_text())
    assert seen.get("error") is None, (seen, proc.stderr[-2000:])
    assert seen["marks"] >= 1 and seen["panelComments"] >= 1
    assert seen["reviewComments"] >= 1  # the reviewer's, besides the hidden instruction
    # the hidden instruction is highlighted where it is, and its tooltip says what it is
    assert any("IGNORE ALL PREVIOUS INSTRUCTIONS" in t for t in seen["markTexts"])
    assert seen["tooltip"].strip()
    assert seen["screenshotHasPanel"] is True
    assert (artifacts / "overleaf-mock.png").stat().st_size > 10_000
    assert "% typed in Overleaf" in seen["editorText"]
