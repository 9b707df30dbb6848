"""Command names (all executed on the server through `workspace/executeCommand`: no client-side
command is ever needed) and how their arguments are read."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams

log = logging.getLogger("papercycle.lsp")

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


def bad_argument(name: str, message: str) -> JsonRpcInvalidParams:
    """A JSON-RPC error of one line naming the command: what the editor shows the user."""
    return JsonRpcInvalidParams(message=f"{name}: {message}")


def position_arg(args: list[Any] | None, index: int, name: str) -> int | dict[str, int]:
    """An offset, or {line, character} of non-negative integers."""
    where = arg(args, index, 0)
    if isinstance(where, dict):
        for field in ("line", "character"):
            value = where.get(field, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad_argument(
                    name, f"argument {index + 1}: {field} must be a non-negative integer"
                )
        return where
    if isinstance(where, bool) or not isinstance(where, int | float) or where < 0:
        raise bad_argument(
            name, f"argument {index + 1} must be an offset or {{line, character}}, not {where!r}"
        )
    return int(where)


def answering_errors(name: str):
    """Wraps a command so a failure answers a one-line JSON-RPC error (logged here with its
    traceback) instead of pygls's internal error that carries the traceback in `data`."""

    def wrap(function):
        def failed(error: Exception) -> JsonRpcException:
            log.exception("command %s failed", name)
            return JsonRpcInternalError(message=f"{name} failed: {type(error).__name__}: {error}")

        if asyncio.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args):
                try:
                    return await function(*args)
                except (JsonRpcException, asyncio.CancelledError):
                    raise
                except Exception as error:
                    raise failed(error) from None

            return run_async

        @functools.wraps(function)
        def run(*args):
            try:
                return function(*args)
            except JsonRpcException:
                raise
            except Exception as error:
                raise failed(error) from None

        return run

    return wrap
