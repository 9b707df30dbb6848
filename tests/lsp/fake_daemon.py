"""A stand-in daemon speaking the daemon's wire protocol (papercycle.daemon.protocol): open
projects (`project.open`, `project.buffer`, `subscribe` with its events, `project.status`,
`project.close`), `review.sections` and a streamed `draft.section`. It lets the language
server's plumbing be tested where the tiny model cannot show it (a suggested rewrite, exact
draft chunks, the buffers and cursor the server sends); everything else is tested against the
real daemon."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path

import zmq
import zmq.asyncio
from papercycle.daemon import protocol

DRAFT_CHUNKS = [f"Sentence {i} of the drafted section. " for i in range(40)]


class FakeDaemon:
    def __init__(
        self,
        chunk_delay: float = 0.05,
        rewrite: tuple[str, str] | None = None,
        replace: str | None = None,
        closed: int = 0,
    ) -> None:
        # closed: how many subscribe / project.buffer requests answer that the project is not
        # open (the daemon closed it under the client: idle, or a race with another client)
        self.closed = closed
        # replace: the draft result names this text's range to replace (mode "replace"), as
        # daemon/engine/draft.py does for an abstract or a paragraph rewrite
        self.replace = replace
        self.rewrite = rewrite  # (quote, suggested rewrite): review.sections answers with it
        self.root = Path(tempfile.mkdtemp(prefix="pcf-"))
        for name in ("config", "state", "cache"):
            (self.root / name).mkdir()
        (self.root / "run").mkdir(mode=0o700)
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}
        self.endpoint = f"ipc://{self.root}/run/daemon.sock"
        self.chunk_delay = chunk_delay
        self.requests: list[dict] = []
        self.cancelled: list[str] = []
        self.drafts_finished = 0
        self._jobs: dict[tuple[bytes, str], asyncio.Task] = {}
        self.subscribers: set[tuple[bytes, str]] = set()
        self.buffers: dict[str, dict] = {}  # path -> {"text", "version"} of open buffers
        self.project: str | None = None
        self.revision = 0
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> FakeDaemon:
        self.context = zmq.asyncio.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(self.endpoint)
        info = {
            "pid": os.getpid(),
            "endpoint": self.endpoint,
            "transport": "ipc",
            "protocol": protocol.VERSION,
            "version": "fake",
        }
        (self.root / "run" / "daemon.json").write_text(json.dumps(info))
        self.receiver = asyncio.create_task(self._receive())
        return self

    async def __aexit__(self, *exc) -> None:
        self.receiver.cancel()
        for task in [*self._jobs.values(), *self._tasks]:
            task.cancel()
        with contextlib.suppress(BaseException):
            await self.receiver
        self.socket.close(linger=0)
        self.context.term()
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    async def _send(self, peer: bytes, message: dict) -> None:
        await self.socket.send_multipart([peer, protocol.encode(message)])

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _receive(self) -> None:
        while True:
            frames = await self.socket.recv_multipart()
            peer, payload = frames[0], frames[-1]
            message = json.loads(payload)
            kind, rid, params = message["type"], message["id"], message.get("params", {})
            if kind != "ping":
                self.requests.append(message)
            if kind == "hello":
                await self._send(
                    peer,
                    protocol.result(rid, {"protocol": 1, "pid": os.getpid(), "version": "fake"}),
                )
            elif kind == "ping":
                await self._send(peer, protocol.result(rid, {"pong": 0}))
            elif kind == "status":
                await self._send(
                    peer, protocol.result(rid, {"pid": os.getpid(), "queue": {"running": None}})
                )
            elif kind == "review.sections":
                sections = [self.section_result(params)] if self.rewrite else []
                await self._send(
                    peer,
                    protocol.result(
                        rid,
                        {
                            "kind": "sections",
                            "sections": sections,
                            "comments": [c for r in sections for c in r["comments"]],
                            "scores": {},
                        },
                    ),
                )
            elif kind.startswith("project.") or kind == "subscribe":
                await self._project(peer, rid, kind, params)
            elif kind == "draft.section":
                self._jobs[(peer, rid)] = self._spawn(self._draft(peer, rid, params))
            elif kind == "cancel":
                target = str(params.get("target"))
                job = self._jobs.pop((peer, target), None)
                if (peer, target) in self.subscribers:
                    self.subscribers.discard((peer, target))
                    await self._send(peer, protocol.error(target, "cancelled", "cancelled"))
                if job is not None:
                    job.cancel()
                    self.cancelled.append(target)
                    await self._send(peer, protocol.error(target, "cancelled", "cancelled"))
                await self._send(peer, protocol.result(rid, {"cancelled": job is not None}))
            else:
                await self._send(
                    peer, protocol.error(rid, "bad-request", f"unknown request type {kind!r}")
                )

    async def _project(self, peer: bytes, rid: str, kind: str, params: dict) -> None:
        """Open projects, as daemon/sessions.py answers them (reviews are instant: the one
        comment of `rewrite`, if any, in the section Method)."""
        if kind in ("subscribe", "project.buffer") and self.closed > 0:
            self.closed -= 1
            error = protocol.error(rid, "project", f"no open project holds {self.project}")
            await self._send(peer, error)
        elif kind == "project.open":
            self.project = params["path"]
            for path, value in (params.get("buffers") or {}).items():
                self.buffers[path] = value
            self.revision += 1
            await self._send(peer, protocol.result(rid, {"project": self.project}))
            await self._update("open")
        elif kind == "project.buffer":
            if params.get("text") is None:
                self.buffers.pop(params["path"], None)
            else:
                self.buffers[params["path"]] = {k: params.get(k) for k in ("text", "version")}
            self.revision += 1
            await self._send(peer, protocol.result(rid, {"revision": self.revision}))
            await self._update("buffer")
        elif kind == "subscribe":
            self.subscribers.add((peer, rid))
            await self._update("subscribe", [(peer, rid)])
        elif kind == "project.status":
            data = {"project": self.project, "idle": True, "paper_running": False}
            await self._send(peer, protocol.result(rid, data))
        elif kind == "project.review":
            await self._send(peer, protocol.result(rid, {"queued": True, "revision": 0}))
        elif kind == "project.close":
            await self._send(peer, protocol.result(rid, {"closed": True}))
        else:
            await self._send(peer, protocol.error(rid, "bad-request", f"unknown {kind!r}"))

    async def _update(self, origin: str, to: list | None = None) -> None:
        if self.project is None:
            return
        stamp = {
            "project": self.project,
            "revision": self.revision,
            "versions": {p: b.get("version") for p, b in self.buffers.items()},
        }
        texts = {p: b["text"] for p, b in self.buffers.items()}
        events = [("sections.changed", {**stamp, "origin": origin, "added": [], "order": []})]
        if self.rewrite:
            result = self.section_result({"path": self.project, "buffers": texts})
            section = {**result["section"], "id": "section:Method#0"}
            events.append(("comments", {**stamp, **result, "section": section}))
        events.append(("anchored", stamp))
        for peer, rid in to or list(self.subscribers):
            for event, data in events:
                await self._send(peer, protocol.event(rid, event, data))

    def section_result(self, params: dict) -> dict:
        """One section review with one comment quoting `rewrite[0]`, as the engine returns it."""
        path = params["path"]
        text = params.get("buffers", {}).get(path) or Path(path).read_text()
        quote, better = self.rewrite
        start = text.index(quote)
        heading = text.index("\\section{Method}")
        return {
            "kind": "section",
            "model": "fake",
            "section": {
                "title": "Method",
                "number": "2",
                "name": "Section 2 Method",
                "range": {"path": path, "start": heading, "end": heading + 16},
            },
            "scores": {"clarity": 2},
            "comments": [
                {
                    "kind": "comment",
                    "category": "clarity",
                    "severity": "minor",
                    "text": "Say which loss.",
                    "quote": quote,
                    "suggested_rewrite": better,
                    "anchor": {
                        "method": "quote",
                        "range": {"path": path, "start": start, "end": start + len(quote)},
                    },
                }
            ],
        }

    async def _draft(self, peer: bytes, rid: str, params: dict) -> None:
        await self._send(peer, protocol.event(rid, "started", {"kind": "draft"}))
        for chunk in DRAFT_CHUNKS:
            await asyncio.sleep(self.chunk_delay)
            await self._send(peer, protocol.event(rid, "token", {"text": chunk}))
        self._jobs.pop((peer, rid), None)
        self.drafts_finished += 1
        result = {"kind": "draft", "text": "".join(DRAFT_CHUNKS).strip(), "mode": "insert"}
        if self.replace:
            path = params["section"]["path"]
            text = params.get("buffers", {}).get(path) or Path(path).read_text()
            start = text.index(self.replace)
            result["range"] = {"path": path, "start": start, "end": start + len(self.replace)}
            result["mode"] = "replace"
        await self._send(peer, protocol.result(rid, result))
