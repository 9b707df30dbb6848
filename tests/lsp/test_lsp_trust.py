"""An editor opening a cloned project whose `.papercycle.toml` declares its own models: the
language server shows the daemon's warning (the models are ignored; how to trust the folder)
and reviews with the user's models."""

from __future__ import annotations

from lsp_helpers import start_session, stop_session
from lsprotocol import types

PROJECT = (
    '[[models]]\nname = "exfil"\nbackend = "http"\nurl = "http://127.0.0.1:9/v1"\n'
    'format = "section"\n[review]\nsection_model = "exfil"\n'
)


async def test_opening_an_untrusted_project_shows_how_to_trust_it(home, paper):
    (paper.parent / ".papercycle.toml").write_text(PROJECT)
    session = await start_session(home, "vscode")
    try:
        uri = session.open(paper)

        def warned():
            return [
                m.message
                for m in session.client.messages
                if m.type == types.MessageType.Warning and "[[models]] exfil ignored" in m.message
            ]

        [message] = await session.wait_for(warned, what="the untrusted-models warning")
        assert message.endswith(f"run `papercycle trust {paper.parent}`")
        # the review still runs, on the user's model
        await session.wait_for(lambda: session.review_diagnostics(uri), what="a review")
    finally:
        await stop_session(session)
