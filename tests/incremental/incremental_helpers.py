"""A subscriber that records a project's events, and waits on them with timeouts; the
ten-section paper the incremental tests edit."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from papercycle.daemon.client import Client
from waiting import eventually

TIMEOUT = 60.0


def ten_sections(edits: dict[int, str] | None = None, order: list[int] | None = None) -> str:
    """A paper of ten sections; `edits` replaces a section's sentence, `order` permutes them."""
    edits = edits or {}
    parts = []
    for i in order or range(10):
        body = edits.get(
            i,
            f"Section {i} studies topic number {i} in detail. "
            f"We measure effect {i} on one small dataset only.",
        )
        parts.append(f"\\section{{Topic {i}}}\n{body}\n")
    return (
        "\\documentclass{article}\n\\title{Ten Topics}\n\\begin{document}\n\\maketitle\n"
        + "\n".join(parts)
        + "\\end{document}\n"
    )


class Watch:
    def __init__(self, client: Client, project: str) -> None:
        self.client = client
        self.project = project
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self.stream = client.stream("subscribe", {"project": project})
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> Watch:
        self._task = asyncio.create_task(self._pump())
        # the subscription's first event is the current state
        await self.wait_for(lambda e: e["event"] == "sections.changed")
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.client.cancel(self.stream.id)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task

    async def _pump(self) -> None:
        async for event in self.stream:
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int, name: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.events[mark:] if name is None or e["event"] == name]

    async def wait_for(self, predicate, start: int = 0, timeout: float = TIMEOUT) -> dict:
        async def find() -> dict:
            async with self._changed:
                while True:
                    for e in self.events[start:]:
                        if predicate(e):
                            return e
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            seen = [e["event"] for e in self.events[start:]]
            raise AssertionError(f"no matching event within {timeout} s; seen: {seen}") from None

    async def update(self, start: int, origin: str | None = None) -> dict:
        return await self.wait_for(
            lambda e: (
                e["event"] == "sections.changed"
                and e["origin"] != "subscribe"
                and (origin is None or e["origin"] == origin)
            ),
            start,
        )

    async def status(self) -> dict:
        return await self.client.request("project.status", {"project": self.project})

    async def idle(self, timeout: float = TIMEOUT) -> dict:
        """The project's status once nothing is pending (polled: the state, not a time)."""
        last: list[dict] = []

        async def idle_status() -> dict | None:
            last[:] = [await self.status()]
            return last[0] if last[0]["idle"] else None

        return await eventually(
            idle_status, "the project idle", lambda: last, timeout, interval=0.1
        )


def comments_of(events: list[dict], ident: str) -> list[dict]:
    return [e for e in events if e["event"] == "comments" and e["section"]["id"] == ident]
