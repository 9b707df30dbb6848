"""Command names (all executed on the server through `workspace/executeCommand`: no client-side
command is ever needed) and how their arguments are read."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

REVIEW_DOCUMENT = "papercycle.reviewDocument"  # [uri]
REVIEW_SECTION = "papercycle.reviewSection"  # [uri, offset | {line, character}]
DRAFT_SECTION = "papercycle.draftSection"  # [uri, offset | {line, character}]
CANCEL = "papercycle.cancel"  # [] every job of this window, or [token]
SELECT_MODEL = "papercycle.selectModel"  # [role?, name?] (asks the user when missing)
SHOW_STATUS = "papercycle.showStatus"  # []
APPLY_REWRITE = "papercycle.applyRewrite"  # [uri, version, start, end, text] (no literals)
DISMISS = "papercycle.dismiss"  # [uri, key]
DISABLE_CATEGORY = "papercycle.disableCategory"  # [uri, category]
INSERT_DRAFT = "papercycle.insertDraft"  # [draft id]

ALL = (
    REVIEW_DOCUMENT,
    REVIEW_SECTION,
    DRAFT_SECTION,
    CANCEL,
    SELECT_MODEL,
    SHOW_STATUS,
    APPLY_REWRITE,
    DISMISS,
    DISABLE_CATEGORY,
    INSERT_DRAFT,
)


def command(title: str, name: str, arguments: list[Any]) -> types.Command:
    return types.Command(title=title, command=name, arguments=arguments)


def arg(args: list[Any] | None, index: int, default: Any = None) -> Any:
    if not args or index >= len(args):
        return default
    value = args[index]
    return default if value is None else value
