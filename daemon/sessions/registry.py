"""The open projects: one Session per project root, shared by every client that opens it (a
client's opens are counted, so one closing does not close it under another), closed when the
last client holding it closes it or goes away, or when nobody used it for a while."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from papercycle.daemon.jobs import Jobs, Transport
from papercycle.daemon.protocol import RequestFailed
from papercycle.daemon.requests import ProjectOpen
from papercycle.daemon.sessions.session import Session
from papercycle.latex import Project

log = logging.getLogger("papercycle.daemon.sessions")


class Sessions:
    def __init__(self, jobs: Jobs, transport: Transport) -> None:
        self.jobs = jobs
        self.transport = transport
        self.open: dict[str, Session] = {}
        self._opening = asyncio.Lock()

    def find(self, project: str | None, path: str | None) -> Session:
        """The open project with id `project`, or the one holding `path`."""
        wanted = project or path
        if not wanted:
            raise RequestFailed("bad-request", "name the project: 'project' (its id) or 'path'")
        if wanted in self.open:
            return self.open[wanted]
        p = Path(wanted).absolute()
        for session in self.open.values():
            if p == session.root_dir or p.is_relative_to(session.root_dir):
                return session
        raise RequestFailed("project", f"no open project holds {wanted} (send project.open first)")

    async def open_project(self, peer: bytes, request: ProjectOpen) -> Session:
        """The session of the project at `request.path`: started, or joined (its buffers are
        then updates of the open project)."""
        path = request.path or request.root
        if not path:
            raise RequestFailed(
                "bad-request", "project.open needs 'path' (a .tex file or directory)"
            )
        texts = {  # path -> (text, the editor's version)
            file: (value.get("text"), value.get("version"))
            if isinstance(value, dict)
            else (value, None)
            for file, value in (request.buffers or {}).items()
        }
        project = await asyncio.to_thread(Project.build, Path(path))
        async with self._opening:  # two clients opening one project at once get one session
            session = await self._join_or_start(peer, project, request, texts)
        session.set_cursor(request.cursor)
        session.used = time.monotonic()
        return session

    async def _join_or_start(
        self,
        peer: bytes,
        project: Project,
        request: ProjectOpen,
        texts: dict[str, tuple[Any, Any]],
    ) -> Session:
        session = self.open.get(str(project.root_path))
        if session is None:
            session = Session(self.jobs, self.transport, project, request)
            for file, (text, version) in texts.items():
                if isinstance(text, str):
                    p = str(Path(file).absolute())
                    session.versions[p] = version
                    await asyncio.to_thread(session.project.update, p, text)
            self.open[session.id] = session
            session.openers[peer] = 1
            session.start()
        else:
            # held from now on: another client leaving meanwhile does not close it under us
            session.openers[peer] = session.openers.get(peer, 0) + 1
            for file, (text, version) in texts.items():
                if isinstance(text, str):
                    await session.buffer(file, text, version)
        return session

    def release(self, peer: bytes, session: Session, force: bool) -> bool:
        """One of the client's opens ends; the project closes when nobody holds it (or
        `force`). True when it is closed."""
        left = session.openers.get(peer, 0) - 1
        if left > 0:
            session.openers[peer] = left
        else:
            session.openers.pop(peer, None)
        if not session.openers or force:
            self.close(session)
        return session.id not in self.open

    def peer_gone(self, peer: bytes, disconnected: bool) -> None:
        """A client went away: its subscriptions end; when its socket is closed (not only
        silent), what it opened and did not close is closed for it, and a project no other
        client holds stops being watched."""
        for session in list(self.open.values()):
            for key in [k for k in session.subscribers if k[0] == peer]:
                session.subscribers.pop(key, None)
            if not disconnected or session.openers.pop(peer, None) is None:
                continue
            if not session.openers and not session.subscribers:
                log.info("closing %s: the last client holding it is gone", session.id)
                self.close(session)

    def sweep(self, idle_timeout: float) -> None:
        """Close projects nobody subscribes to and nobody asked about for `idle_timeout`
        seconds (a client that died without its socket closing, or forgot project.close)."""
        if idle_timeout <= 0:
            return
        now = time.monotonic()
        for session in list(self.open.values()):
            if not session.subscribers and now - session.used > idle_timeout:
                log.info("closing %s: unused for %.0f s", session.id, now - session.used)
                self.close(session)

    def close(self, session: Session) -> None:
        session.close()
        self.open.pop(session.id, None)

    def status(self) -> list[dict[str, Any]]:
        return [
            {"project": s.id, "revision": s.revision, "counters": dict(s.counters)}
            for s in self.open.values()
        ]

    def close_all(self) -> None:
        for session in list(self.open.values()):
            with contextlib.suppress(Exception):
                session.close()
        self.open.clear()
