"""The language server's line to the daemon, through `papercycle.daemon.client` only.

- Connects in the background (auto-starting the daemon when `autoStartDaemon` is on); no
  request handler ever waits for the connection or a model.
- When the daemon dies (its pid is gone, or a request fails with DaemonGone) the server keeps
  serving what it has, the loss is reported once, and the link reconnects with exponential
  backoff (0.5 s doubling to 30 s); the reconnection is reported once too. A daemon that
  stopped on purpose (idle exit, `papercycle daemon stop`: it removes its daemon.json) is not
  an error: the next request finds or starts one.
- A cancelled stream (the user cancelled, or newer work superseded it) cancels the daemon job.
- `on_connected` runs after every new connection (the first, a reconnection, a daemon started
  again after it stopped on purpose): the server re-opens its projects there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from papercycle.daemon.client import Client, DaemonError, DaemonGone

log = logging.getLogger("papercycle.lsp")

BACKOFF_START, BACKOFF_MAX = 0.5, 30.0


class DaemonLink:
    def __init__(
        self,
        *,
        autostart: bool = True,
        on_down: Callable[[str], None] = lambda message: None,
        on_up: Callable[[dict[str, Any]], None] = lambda hello: None,
        on_connected: Callable[[Client], None] = lambda client: None,
        connect_timeout: float = 30.0,
    ) -> None:
        self.autostart = autostart
        self.on_down = on_down
        self.on_up = on_up
        self.on_connected = on_connected
        self.connect_timeout = connect_timeout
        self.client: Client | None = None
        self.state = "idle"  # idle | connecting | connected | down
        self.last_error: str | None = None
        self._ready = asyncio.Event()
        self._connector: asyncio.Task | None = None
        self._watcher: asyncio.Task | None = None
        self._was_down = False
        self._closed = False
        self._background: set[asyncio.Task] = set()

    # -- connection ----------------------------------------------------------------------

    def start(self) -> None:
        """Begin connecting in the background (once: a connected link stays as it is)."""
        if self.client is None and (self._connector is None or self._connector.done()):
            self._connector = asyncio.create_task(self._connect_loop())
        if self._watcher is None:
            self._watcher = asyncio.create_task(self._watch())

    async def _connect_loop(self) -> None:
        delay = BACKOFF_START
        self.state = "connecting"
        while not self._closed:
            client = Client(autostart=self.autostart, connect_timeout=self.connect_timeout)
            try:
                await client.connect()
            except DaemonError as error:
                with contextlib.suppress(Exception):
                    await client.close()
                self.last_error = error.message
                log.info("daemon not reachable (%s); retrying in %.1f s", error.message, delay)
                if not self._was_down:
                    self._was_down = True
                    self.state = "down"
                    self.on_down(f"papercycle: the daemon is not reachable ({error.message})")
                await asyncio.sleep(delay)
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.client = client
            self.state = "connected"
            self.last_error = None
            self._ready.set()
            if self._was_down:
                self._was_down = False
                self.on_up(client.hello or {})
            self.on_connected(client)
            return

    async def _watch(self) -> None:
        """Notice a dead daemon while idle (the client only checks during requests)."""
        while not self._closed:
            await asyncio.sleep(1.0)
            client = self.client
            if client is None or client.info is None:
                continue
            ended = client.daemon_ended()
            if ended == "stopped":
                await self.stopped()
            elif ended == "died":
                await self.lost(f"the daemon (pid {client.info.get('pid')}) stopped")

    async def stopped(self) -> None:
        """The daemon stopped on purpose: no warning; the next request starts or finds one."""
        client, self.client = self.client, None
        self._ready.clear()
        self.state = "idle"
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def lost(self, why: str) -> None:
        """The daemon died: report once, keep serving, reconnect with backoff."""
        client, self.client = self.client, None
        self._ready.clear()
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if not self._was_down:
            self._was_down = True
            self.state = "down"
            self.last_error = why
            self.on_down(f"papercycle: {why}; showing the last results, reconnecting")
        if not self._closed and (self._connector is None or self._connector.done()):
            self._connector = asyncio.create_task(self._connect_loop())

    async def ready(self, timeout: float | None = None) -> Client:
        self.start()
        await asyncio.wait_for(self._ready.wait(), timeout)
        assert self.client is not None
        return self.client

    async def close(self) -> None:
        self._closed = True
        for task in (self._connector, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()
            self.client = None

    # -- requests ------------------------------------------------------------------------

    async def stream(
        self,
        kind: str,
        params: dict[str, Any],
        on_event: Callable[[dict[str, Any]], None] = lambda event: None,
        *,
        wait: float | None = 60.0,
    ) -> dict[str, Any]:
        """Run one request, passing its events to `on_event`; its result. Cancelling the
        calling task cancels the daemon job."""
        return await self.stream_on(await self.ready(wait), kind, params, on_event)

    async def stream_on(
        self,
        client: Client,
        kind: str,
        params: dict[str, Any],
        on_event: Callable[[dict[str, Any]], None] = lambda event: None,
    ) -> dict[str, Any]:
        """`stream` on a given connection (a subscription belongs to the daemon it was made
        on); a loss is reported only while it is still the link's connection."""
        stream = client.stream(kind, params)
        try:
            async for event in stream:
                on_event(event)
        except DaemonGone as error:
            if self.client in (client, None):
                await self.lost(str(error))
            raise
        except asyncio.CancelledError:
            if stream._sent and stream.result is None:
                task = asyncio.create_task(self._cancel_job(client, stream.id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            raise
        assert stream.result is not None
        return stream.result

    async def _cancel_job(self, client: Client, request_id: str) -> None:
        with contextlib.suppress(Exception):
            await client.cancel(request_id)
        client._pending.pop(request_id, None)

    async def request(
        self, kind: str, params: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        client = await self.ready(timeout)
        try:
            return await client.request(kind, params or {}, timeout=timeout)
        except DaemonGone as error:
            await self.lost(str(error))
            raise
