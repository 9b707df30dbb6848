"""The browser editor (`papercycle web`) in Debian's Chromium with no reviewer model configured
(editors/web/test/no-model.e2e.mjs): every section fails before the language server subscribes
to the project; the failure is pinned once at the top of the panel, above the review and the
comments, not lost in the message log below them."""

from __future__ import annotations

import pytest
from editor_helpers import REPO, browser_test_missing, editor_env, run_editor, serving
from test_lsp_failures import WHY, BareHome

WEB = REPO / "editors" / "web"
MISSING = browser_test_missing(WEB, "../../cli/web_page/index.html")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture
def bare_home():
    home = BareHome()
    yield home
    home.stop()


def test_browser_editor_pins_the_failure_at_the_top(
    bare_home, example_project, tmp_path, artifacts
):
    out = tmp_path / "web-no-model.json"
    with serving(bare_home, tmp_path, "web", str(example_project), "--no-browser") as server:
        env = editor_env(
            bare_home, tmp_path, PC_URL=server["url"], PC_ARTIFACTS=str(artifacts), PC_OUT=str(out)
        )
        command = ["node", str(WEB / "test" / "no-model.e2e.mjs")]
        seen = run_editor(command, env, out, artifacts, cwd=WEB, timeout=300)
    pinned = [a for a in seen["alerts"] if WHY in a["text"]]
    assert len(pinned) == 1 and pinned[0]["className"] == "pc-error"
    assert seen["visible"] and seen["firstInPanel"] and seen["aboveReview"]
    assert seen["messagesLogged"] == 0  # pinned, not also in the log below
