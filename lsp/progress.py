"""`$/progress` for long work, when the client supports server-initiated work-done progress.
Cancellable: the client's cancel (window/workDoneProgress/cancel) cancels the task doing the
work, which cancels the daemon job."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Callable

from lsprotocol import types

log = logging.getLogger("papercycle.lsp")
_tokens = itertools.count(1)


def supported(caps: types.ClientCapabilities) -> bool:
    return bool(caps.window and caps.window.work_done_progress)


class Progress:
    def __init__(self, ls, title: str, on_cancel: Callable[[], None] | None = None) -> None:
        self.ls = ls
        self.title = title
        self.on_cancel = on_cancel
        self.token: str | None = None
        self._last = ""

    async def begin(self, message: str = "") -> None:
        if not supported(self.ls.client_capabilities):
            return
        token = f"papercycle-{os.getpid()}-{next(_tokens)}"
        try:
            await asyncio.wait_for(
                self.ls.window_work_done_progress_create_async(
                    types.WorkDoneProgressCreateParams(token)
                ),
                5.0,
            )
        except Exception as error:  # the client refused or never answered: no progress
            log.info("work done progress refused: %s", error)
            return
        self.token = token
        self.ls.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                self.title, cancellable=self.on_cancel is not None, message=message or None
            ),
        )
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None and self.on_cancel is not None:
            callback = self.on_cancel

            def cancelled(f) -> None:
                if f.cancelled():
                    callback()

            future.add_done_callback(cancelled)

    def report(self, message: str, percentage: int | None = None) -> None:
        if self.token is None or message == self._last:
            return
        self._last = message
        self.ls.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
        )

    def end(self, message: str = "") -> None:
        if self.token is None:
            return
        token, self.token = self.token, None
        self.ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=message or None))
        future = self.ls.work_done_progress.tokens.pop(token, None)
        if future is not None and not future.done():
            with contextlib.suppress(Exception):
                future.set_result(None)
