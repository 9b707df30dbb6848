"""Hover hints in the words of the client (clientInfo.name): a Neovim user is told the Vim
command, not a VS Code code lens; the browser editor its button. And a rating and a decision
that point opposite ways get a note beside them."""

from __future__ import annotations

import pytest
from lsp_helpers import start_session, stop_session
from lsprotocol import types
from papercycle.lsp import code_lens, hover
from waiting import eventually


def _line_of(text: str, prefix: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if line.startswith(prefix))


@pytest.mark.parametrize(
    ("profile", "said", "not_said"),
    [("neovim", ":PapercycleReview", "code lens"), ("vscode", "code lens", ":Papercycle")],
)
async def test_hover_on_the_title_names_the_clients_own_command(
    home, paper, profile, said, not_said
):
    session = await start_session(home, profile)
    try:
        uri = session.open(paper)
        text = paper.read_text()
        params = types.HoverParams(
            types.TextDocumentIdentifier(uri),
            types.Position(_line_of(text, "\\documentclass"), 3),
        )
        # the outline is built on a worker thread after the open
        answer = await eventually(
            lambda: session.client.text_document_hover_async(params),
            "a hover on the title once the outline is built",
            timeout=30,
            interval=0.1,
        )
        assert "no review of the paper yet" in answer.contents.value
        assert said in answer.contents.value and not_said not in answer.contents.value
    finally:
        await stop_session(session)


def test_client_families_and_the_browser_editor():
    assert hover.client_kind("Neovim") == "neovim"
    assert hover.client_kind("Visual Studio Code") == "vscode"
    assert hover.client_kind("papercycle-web") == "web"
    assert hover.client_kind("Eglot") == "emacs"
    assert hover.client_kind(None) == "other"
    assert "*Review* button" in hover.paper_markdown(None, "web")
    assert "code lens" not in hover.section_markdown(None, "Method", "web")
    assert "papercycle.reviewDocument" in hover.paper_markdown(None, "other")


class Reviews:
    def __init__(self, rating, decision):
        self._summary = {"model": "m", "mode": "standard", "rating": rating,
                         "decision": decision, "scores": {}, "ratings": [], "reviewers": 1}  # fmt: skip

    def summary(self):
        return self._summary


def test_a_rating_and_a_decision_that_disagree_get_a_note():
    assert hover.DISAGREE_NOTE in hover.paper_markdown(Reviews(10, "Reject"))
    assert "disagree" in code_lens.title_text(Reviews(10, "Reject"))
    assert hover.DISAGREE_NOTE not in hover.paper_markdown(Reviews(8, "Accept"))
    assert "disagree" not in code_lens.title_text(Reviews(4, "Reject"))
