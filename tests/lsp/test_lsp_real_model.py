"""The real SmolLM2-135M-Instruct through the language server, unconstrained for the paper: a
Standard-mode review cut by its token budget is shown to the editor as incomplete, with what to
raise, never silently; and so again when the daemon reads it back from its cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from home_helpers import PAPER, smollm2_home
from lsp_helpers import Home, start_session, stop_session
from lsprotocol import types

BUDGET = 24


class SmolHome(Home):
    """An isolated PAPERCYCLE_HOME whose only model is the real SmolLM2 (reviewer and section)."""

    def __init__(self, gguf: Path) -> None:
        self.root = smollm2_home(gguf, BUDGET, "pcr-")
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}


@pytest.fixture(scope="module")
def smol_home(smollm2_gguf: Path):
    home = SmolHome(smollm2_gguf)
    yield home
    home.stop()


def incomplete_messages(session, what: str = "the paper review") -> list[str]:
    """The warning messages saying that a review of `what` is incomplete."""
    return [
        m.message
        for m in session.client.messages
        if m.type == types.MessageType.Warning
        and what in m.message
        and "review incomplete" in m.message
    ]


@pytest.mark.parametrize("run", ["generated", "from the cache"])
async def test_a_cut_standard_review_is_shown_as_incomplete(
    smol_home: SmolHome, tmp_path: Path, run: str
) -> None:
    paper = tmp_path / "main.tex"
    paper.write_text(PAPER)
    session = await start_session(
        smol_home,
        "vscode",
        {"reviewMode": "standard", "models": {"reviewer": "smollm2", "section": "smollm2"}},
    )
    try:
        session.open(paper)
        messages = await session.wait_for(
            lambda: incomplete_messages(session), what="an 'incomplete' window message"
        )
        # the sections, reviewed in the model's own format (it declares no section format),
        # are cut too, and each says so: never silence
        await session.wait_for(
            lambda: len(incomplete_messages(session, "the review of")) >= 3,
            what="the sections' messages",
        )
    finally:
        await stop_session(session)
    assert len(messages) == 1
    assert f"after {BUDGET} tokens" in messages[0] and "raise max_tokens" in messages[0]
    assert paper_cache_hits(smol_home) == (0 if run == "generated" else 1)


def paper_cache_hits(home: SmolHome) -> int:
    import sqlite3

    db = sqlite3.connect(home.paths.cache_db)
    try:
        query = "SELECT COALESCE(SUM(hits), 0) FROM outputs WHERE kind = 'paper'"
        return int(db.execute(query).fetchone()[0])
    finally:
        db.close()


class AiScientistHome(Home):
    """SmolLM2 registered twice: as an AI Scientist reviewer and as a DeepReviewer one."""

    def __init__(self, gguf: Path) -> None:
        self.root = smollm2_home(gguf, BUDGET, "pcs-")
        config = self.root / "config" / "config.toml"
        config.write_text(
            config.read_text()
            + f"""
[[models]]
name = "smol-ais"
path = "{gguf}"
format = "aiscientist"
n_ctx = 8192
n_threads = 2
[models.sampling]
max_tokens = {BUDGET}
"""
        )
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}


@pytest.fixture(scope="module")
def ais_home(smollm2_gguf: Path):
    home = AiScientistHome(smollm2_gguf)
    yield home
    home.stop()


def paper_messages(session) -> list[str]:
    return [m.message for m in session.client.messages if "paper review" in m.message]


async def test_ai_scientist_settings_reach_the_whole_paper_review(
    ais_home: AiScientistHome, tmp_path: Path
) -> None:
    """`papercycle.aiScientist` on a whole-paper review: the rounds run (the daemon's answer
    says how many answers it read) and the editor is told what could not be read."""
    paper = tmp_path / "main.tex"
    paper.write_text(PAPER)
    settings = {
        "reviewMode": "standard",
        "models": {"reviewer": "smol-ais", "section": "smollm2"},
        "aiScientist": {"ensemble": 2, "reflections": 1},
    }
    session = await start_session(ais_home, "vscode", settings)
    try:
        session.open(paper)
        await session.wait_for(
            lambda: any("answers" in m or "incomplete" in m for m in paper_messages(session)),
            what="a window message about the AI Scientist paper review",
        )
    finally:
        await stop_session(session)
    said = " ".join(paper_messages(session))
    assert "AI Scientist sample 1/2: review incomplete" in said


async def test_ai_scientist_settings_with_another_reviewer_are_refused_visibly(
    ais_home: AiScientistHome, tmp_path: Path
) -> None:
    paper = tmp_path / "main.tex"
    paper.write_text(PAPER)
    settings = {
        "reviewMode": "standard",
        "models": {"reviewer": "smollm2", "section": "smollm2"},
        "aiScientist": {"reflections": 1},
    }
    session = await start_session(ais_home, "vscode", settings)
    try:
        session.open(paper)
        refused = await session.wait_for(
            lambda: [m.message for m in session.client.messages if "review failed" in m.message],
            what="the daemon's refusal as a window message",
        )
    finally:
        await stop_session(session)
    assert "format aiscientist" in refused[0] and "'smollm2' is deepreviewer" in refused[0]
