"""The Overleaf extension (editors/overleaf, Manifest V3) loaded into Debian's Chromium on a
local mock Overleaf page that emulates `UNSTABLE_editor:extensions`, against a real
`papercycle lsp --ws` (tiny models): highlights, a tooltip, the side panel."""

from __future__ import annotations

import json

import pytest
from editor_helpers import REPO, browser_test_missing, editor_env, run_editor, serving

EXT = REPO / "editors" / "overleaf"
MISSING = browser_test_missing(EXT, "dist/mock.js")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


def test_overleaf_extension_on_a_mock_page(home, paper, tmp_path, artifacts):
    out = tmp_path / "overleaf.json"
    settings = {"models": {"section": "tiny-section"}, "checkFrequency": "edit"}
    with serving(home, tmp_path, "lsp", "--ws") as announced:
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
        command = ["node", str(EXT / "test" / "overleaf.e2e.mjs")]
        seen = run_editor(command, env, out, artifacts, cwd=EXT, timeout=400)
    assert seen["marks"] >= 1 and seen["panelComments"] >= 1
    assert seen["reviewComments"] >= 1  # the reviewer's, besides the hidden instruction
    # the hidden instruction is highlighted where it is, and its tooltip says what it is
    assert any("IGNORE ALL PREVIOUS INSTRUCTIONS" in t for t in seen["markTexts"])
    assert seen["tooltip"].strip()
    assert seen["screenshotHasPanel"] is True
    assert (artifacts / "overleaf-mock.png").stat().st_size > 10_000
    assert "% typed in Overleaf" in seen["editorText"]
