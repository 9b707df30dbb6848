"""No reviewer model configured, through the real server and daemon: every section fails at
once, before the server's subscription exists (the daemon replays its current errors to it).
The editor gets one window message (not one per section), an error diagnostic on
`\\documentclass` naming how many sections failed, and the review's progress ends saying that
they failed, not "done" (nor "0/N sections reviewed" for ever)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from lsp_helpers import Home, start_session, stop_session
from lsprotocol import types

WHY = "no reviewer model configured"


class BareHome(Home):
    """A home whose configuration file exists with no model (so no catalogue default)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="pcn-"))
        (self.root / "config").mkdir()
        (self.root / "config" / "config.toml").write_text("[daemon]\nexit_after_idle = 600\n")
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}


@pytest.fixture
def bare_home():
    home = BareHome()
    yield home
    home.stop()


def progress_ends(session) -> list[str]:
    return [
        report.message or ""
        for reports in session.client.progress_reports.values()
        for report in reports
        if isinstance(report, types.WorkDoneProgressEnd)
    ]


async def test_no_model_is_said_once_and_on_documentclass(bare_home, paper):
    session = await start_session(bare_home, "neovim", options={"models": {}})
    try:
        uri = session.open(paper)

        def failure() -> list[types.Diagnostic]:
            found = [d for d in session.diagnostics(uri) if d.code == "review-failed"]
            # once every failure arrived: the abstract and three sections
            return [d for d in found if "4 sections" in d.message] and found

        (diag,) = await session.wait_for(failure, what="the review-failed diagnostic")
        assert diag.severity == types.DiagnosticSeverity.Error
        lines = paper.read_text().splitlines()
        assert lines[diag.range.start.line][diag.range.start.character :].startswith(
            "\\documentclass"
        )
        assert WHY in diag.message and diag.message.startswith("papercycle could not review 4 ")
        ends = await session.wait_for(
            lambda: [m for m in progress_ends(session) if "failed" in m],
            what="the progress ending with the failure",
        )
        assert "all" in ends[0] and WHY in ends[0]
        shown = [m for m in session.client.messages if WHY in m.message]
        assert len(shown) == 1 and shown[0].type == types.MessageType.Error
    finally:
        await stop_session(session)
