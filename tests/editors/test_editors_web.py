"""The browser editor (`papercycle web`, editors/web) in Debian's Chromium driven by
playwright-core (editors/web/test/web.e2e.mjs): the example project's comments at the right
lines, a hover, a code action, the review panel, a draft previewed/accepted/saved, an edit made
while the server connection was down saved after reconnecting, a reload, and a foreign Origin
refused (by the browser test and here, directly)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from editor_helpers import (
    REPO,
    assert_one_dismissed,
    browser_test_missing,
    editor_env,
    run_editor,
    serving,
)
from lsp_helpers import Home

WEB = REPO / "editors" / "web"
MISSING = browser_test_missing(WEB, "../../cli/web_page/index.html")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture(scope="module")
def home(tiny_gguf):
    """The tiny models, the researcher answering in at most 360 tokens: a draft of a section of
    the example paper (a 1,700-token prompt) then fits the tiny model's 2048-token context."""
    h = Home(tiny_gguf)
    config = h.root / "config" / "config.toml"
    config.write_text(config.read_text().replace("max_tokens = 900", "max_tokens = 360"))
    yield h
    h.stop()


@pytest.fixture
def web_server(home, example_project, tmp_path):
    with serving(home, tmp_path, "web", str(example_project), "--no-browser") as server:
        yield server


def run_browser(home, server, project, tmp_path, artifacts, mode="full") -> dict:
    out = tmp_path / f"web-{mode}.json"
    settings = {
        "models": {"reviewer": "tiny", "section": "tiny-section", "researcher": "tiny-researcher"}
    }
    env = editor_env(
        home,
        tmp_path,
        PC_URL=server["url"],
        PC_PROJECT=str(project),
        PC_ARTIFACTS=str(artifacts),
        PC_OUT=str(out),
        PC_SETTINGS=json.dumps(settings),
        PC_MODE=mode,
    )
    command = ["node", str(WEB / "test" / "web.e2e.mjs")]
    return run_editor(command, env, out, artifacts, cwd=WEB, timeout=580)


def test_browser_editor_end_to_end(home, example_project, web_server, tmp_path, artifacts):
    seen = run_browser(home, web_server, example_project, tmp_path, artifacts)
    # comments at the lines the server gave, in the text and in the gutter
    assert seen["expectedLines"] and seen["markedLines"] == seen["expectedLines"], seen
    assert set(seen["startLines"]) <= set(seen["markedLines"])
    assert seen["gutterMarkers"] >= 1 and seen["commentsListed"] >= 1
    # the hover tooltip shows the comment (as rendered text: runs of spaces collapse, and the
    # tiny model writes them), and it is in the screenshot
    shown = " ".join(seen["tooltipText"].split())
    assert " ".join(seen["target"]["message"].split())[:20] in shown, seen["tooltipText"]
    assert seen["hoverScreenshotHasTooltip"] is True
    assert (artifacts / "web-hover.png").stat().st_size > 10_000
    # a code action (dismiss) ran on the server
    assert seen["dismissed"] is True
    assert_one_dismissed(seen["actions"], example_project)
    # a draft previewed (nothing changed), accepted, written only on save
    assert seen["previewInline"] == 1 and seen["unchangedWhilePreviewing"] is True
    assert seen["accepted"] is True and seen["diskBeforeSave"] is True
    assert seen["savedWithDraft"] is True
    # an edit made while the connection was down survived it and was saved
    assert seen["reconnected"] is True
    assert seen["reloadedHasDraft"] is True and seen["reloadedHasTyped"] is True
    on_disk = (example_project / "sections" / "conclusion.tex").read_text()
    assert seen["draftText"].strip() in on_disk
    assert "% typed while the server was away" in on_disk
    # a foreign origin is refused: the socket and the file API
    assert seen["foreign"] == {"ws": "refused", "api": "blocked"}, seen["foreign"]


def test_review_panel_scores_decision_reviewers(home, paper, tmp_path, artifacts):
    """A whole-paper review in the panel (the one-page paper: the example paper is longer than
    the tiny test model's 2048-token context)."""
    with serving(home, tmp_path, "web", str(paper.parent), "--no-browser") as server:
        seen = run_browser(home, server, paper.parent, tmp_path, artifacts, mode="panel")
    assert seen["reviewSummary"].startswith("Rating") and "reviewer" in seen["reviewSummary"]
    assert "Decision" in seen["reviewScores"] and "Rating" in seen["reviewScores"]
    assert seen["panelScreenshotHasScores"] is True


def test_foreign_origin_refused_directly(web_server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    config_url = web_server["url"].split("?")[0] + "api/config"
    token = web_server["url"].split("token=")[1]
    request = urllib.request.Request(config_url, headers={"X-Papercycle-Token": token})
    config = json.loads(urllib.request.urlopen(request, timeout=30).read())
    with pytest.raises(InvalidStatus) as refused:
        connect(config["lspUrl"], origin="http://evil.example", open_timeout=30)
    assert refused.value.response.status_code == 403
    with connect(
        config["lspUrl"], origin=f"http://127.0.0.1:{web_server['port']}", open_timeout=30
    ):
        pass  # the page's own origin is allowed
    for headers, status in (
        ({"X-Papercycle-Token": token, "Origin": "http://evil.example"}, 403),
        ({}, 401),
        ({"X-Papercycle-Token": token, "Host": "evil.example"}, 403),
    ):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(urllib.request.Request(config_url, headers=headers), timeout=30)
        assert error.value.code == status
    put = urllib.request.Request(
        config_url.replace("config", "file?path=../outside.tex"),
        data=b"x",
        method="PUT",
        headers={"X-Papercycle-Token": token},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(put, timeout=30)
    assert error.value.code == 403
