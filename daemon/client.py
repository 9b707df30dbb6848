"""The Python client of the daemon, for the CLI and the language server.

```python
async with Client() as client:                       # connects, auto-starting the daemon
    status = await client.request("status")
    stream = client.stream("review.section", {"path": "main.tex", "section": "3"})
    async for event in stream:                       # queued/loading/started/token/partial
        ...
    result = stream.result                           # the final result's data
    # await client.cancel(stream.id) from elsewhere stops it
```

Errors are `DaemonError(code, message, data)`; `DaemonGone` when the daemon died or stopped
answering during a request (the client checks its pid and heartbeats while it waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from typing import Any

import zmq
import zmq.asyncio
from papercycle.daemon import protocol
from papercycle.daemon.paths import Paths
from papercycle.daemon.process import StartFailed, pid_alive, read_info, start_background


class DaemonError(Exception):
    def __init__(self, code: str, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}


class DaemonGone(DaemonError):
    def __init__(self, message: str) -> None:
        super().__init__("gone", message)


_ids = itertools.count(1)


class Stream:
    """Events of one request, then `result` (or a DaemonError raised from iteration)."""

    def __init__(self, client: Client, kind: str, params: dict[str, Any]) -> None:
        self.client = client
        self.kind = kind
        self.params = params
        self.id = f"{os.getpid()}-{id(client):x}-{next(_ids)}"
        self.result: dict[str, Any] | None = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self._sent = False

    def __aiter__(self) -> Stream:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if not self._sent:
            self._sent = True
            await self.client._send_request(self, self.kind, self.params)
        if self.result is not None:
            raise StopAsyncIteration
        message = await self._queue.get()
        if isinstance(message, BaseException):
            self.client._pending.pop(self.id, None)
            raise message
        if message["type"] == "event":
            return {"event": message["event"], **message["data"]}
        self.client._pending.pop(self.id, None)
        if message["type"] == "error":
            error = dict(message["error"])
            raise DaemonError(error.pop("code"), error.pop("message"), error)
        self.result = message["data"]
        raise StopAsyncIteration

    async def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Drain the events; the result."""

        async def drain() -> None:
            async for _ in self:
                pass

        await asyncio.wait_for(drain(), timeout)
        assert self.result is not None
        return self.result


class Client:
    def __init__(
        self,
        paths: Paths | None = None,
        *,
        autostart: bool = True,
        connect_timeout: float = 30.0,
        heartbeat: float = 1.0,
        dead_after: float = 15.0,
    ) -> None:
        self.paths = paths or Paths.for_user()
        self.autostart = autostart
        self.connect_timeout = connect_timeout
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.info: dict[str, Any] | None = None
        self.hello: dict[str, Any] | None = None
        self._context: zmq.asyncio.Context | None = None
        self._socket: zmq.asyncio.Socket | None = None
        self._pending: dict[str, Stream] = {}
        self._tasks: list[asyncio.Task] = []
        self._last_heard = time.monotonic()

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Find (or start) the daemon and say hello, retrying with backoff until
        `connect_timeout`."""
        deadline = time.monotonic() + self.connect_timeout
        delay = 0.05
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            info = read_info(self.paths)
            if info is None and self.autostart:
                try:
                    info = await asyncio.to_thread(
                        start_background, self.paths, max(1.0, deadline - time.monotonic())
                    )
                except StartFailed as error:
                    raise DaemonError("start", str(error)) from None
            if info is None:
                raise DaemonError(
                    "no-daemon",
                    "no papercycle daemon is running (start it: papercycle daemon start)",
                )
            try:
                await self._open(info)
                self.hello = await self.request(
                    "hello", timeout=max(0.5, deadline - time.monotonic())
                )
                return
            except (DaemonGone, TimeoutError) as error:
                last_error = error
                await self.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise DaemonError("timeout", f"could not reach the daemon ({last_error})")

    def daemon_ended(self) -> str | None:
        """For a client that notices the daemon's end while idle (the language server): None
        while it runs (or before `connect`), "stopped" when it exited on purpose (idle exit,
        `papercycle daemon stop`: it removed its daemon.json, or another daemon wrote one
        since), "died" when it crashed or was killed (its daemon.json is left behind)."""
        pid = int((self.info or {}).get("pid", 0))
        if not pid or pid_alive(pid):
            return None
        try:
            info = json.loads(self.paths.info_file.read_text())
        except (OSError, ValueError):
            return "stopped"
        return "died" if int(info.get("pid", 0)) == pid else "stopped"

    async def reconnect(self) -> None:
        """After DaemonGone: drop the old socket, find (or start) the daemon again."""
        await self.close()
        self._pending.clear()
        await self.connect()

    async def _open(self, info: dict[str, Any]) -> None:
        self.info = info
        self._context = zmq.asyncio.Context()
        sock = self._context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(info["endpoint"])
        self._socket = sock
        self._last_heard = time.monotonic()
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._watch())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None
        if self._context is not None:
            self._context.term()
            self._context = None

    async def _send_request(self, stream: Stream, kind: str, params: dict[str, Any]) -> None:
        if self._socket is None:
            raise DaemonGone("not connected to the daemon")
        message: dict[str, Any] = {"id": stream.id, "type": kind, "params": params}
        if self.info and self.info.get("token"):
            message["token"] = self.info["token"]
        self._pending[stream.id] = stream
        await self._socket.send(protocol.encode(message))

    async def send_raw(self, payload: bytes) -> None:
        """Send bytes as they are (tests of malformed messages)."""
        assert self._socket is not None
        await self._socket.send(payload)

    def stream(self, kind: str, params: dict[str, Any] | None = None) -> Stream:
        return Stream(self, kind, params or {})

    async def request(
        self, kind: str, params: dict[str, Any] | None = None, timeout: float | None = 30.0
    ) -> dict[str, Any]:
        return await self.stream(kind, params).wait(timeout)

    async def cancel(self, request_id: str) -> bool:
        answer = await self.request("cancel", {"target": request_id}, timeout=10)
        return bool(answer.get("cancelled"))

    async def _receive(self) -> None:
        assert self._socket is not None
        while True:
            payload = await self._socket.recv()
            self._last_heard = time.monotonic()
            try:
                message = json.loads(payload)
            except ValueError:
                continue
            stream = self._pending.get(message.get("id"))
            if stream is not None:
                stream._queue.put_nowait(message)

    async def _watch(self) -> None:
        """While requests are pending: heartbeat the daemon, and fail them when its process
        died or it stopped answering."""
        while True:
            await asyncio.sleep(self.heartbeat)
            if not self._pending:
                continue
            pid = int((self.info or {}).get("pid", 0))
            if pid and not pid_alive(pid):
                self._fail_all(DaemonGone(f"the daemon (pid {pid}) stopped during the request"))
                continue
            if time.monotonic() - self._last_heard > self.dead_after:
                self._fail_all(DaemonGone(f"the daemon did not answer for {self.dead_after:.0f} s"))
                continue
            if self._socket is not None:
                ping: dict[str, Any] = {"id": f"hb-{next(_ids)}", "type": "ping"}
                if self.info and self.info.get("token"):
                    ping["token"] = self.info["token"]
                with contextlib.suppress(zmq.ZMQError):
                    await self._socket.send(protocol.encode(ping))

    def _fail_all(self, error: DaemonError) -> None:
        for stream in list(self._pending.values()):
            stream._queue.put_nowait(error)
        self._pending.clear()


def call(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    autostart: bool = True,
    timeout: float | None = 60.0,
    paths: Paths | None = None,
) -> dict[str, Any]:
    """One request from synchronous code (the CLI)."""

    async def run() -> dict[str, Any]:
        async with Client(paths, autostart=autostart) as client:
            return await client.request(kind, params, timeout=timeout)

    return asyncio.run(run())
