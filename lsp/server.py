"""The papercycle language server: a thin pygls 2.x server per editor window.

`create_server` makes one session (session.py: the state every feature reads) and registers
the feature modules' handlers, each a few lines: the session's life (lifecycle.py), document
sync (sync.py), hover / code lens / code action (queries.py) and the commands
(command_handlers.py), which start section reviews (section_review.py) and drafts
(draft_request.py). Reviews and drafts run as background tasks that talk to the daemon through
`DaemonLink`; their results are published as diagnostics for the version they belong to
(publish.py).
"""

from __future__ import annotations

from papercycle.lsp import command_handlers, lifecycle, queries, sync
from papercycle.lsp.session import PapercycleServer

__all__ = ["PapercycleServer", "create_server"]


def create_server(protocol_cls: type | None = None) -> PapercycleServer:
    """A fresh server with every feature registered (one per stdio process or WS connection)."""
    ls = PapercycleServer(protocol_cls)
    for feature in (lifecycle, sync, queries, command_handlers):
        feature.register(ls)
    return ls
