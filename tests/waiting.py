"""Waiting in tests: every wait names the event it waits for and, when it does not come, fails
with what it saw instead. Never a fixed sleep: a busy machine only makes a wait longer, and an
idle one never waits more than one polling interval past the event."""

from __future__ import annotations

import asyncio
import inspect
import time


def wait_until(condition, what: str, seen=lambda: "", timeout: float = 20.0, interval=0.05):
    """Until `condition()` is truthy (its value is returned); on time-out, fails naming `what`
    and what `seen()` says."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not met within {timeout} s; seen: {seen()}")


async def eventually(condition, what: str, seen=lambda: "", timeout: float = 20.0, interval=0.05):
    """The asynchronous `wait_until`: `condition()` may return an awaitable (a status request),
    and `seen()` too."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        last = value
        await asyncio.sleep(interval)
    report = seen()
    if inspect.isawaitable(report):
        report = await report
    raise AssertionError(f"{what}: not met within {timeout} s; seen: {report or last!r}")
