"""One open project: its model of the text (files watched, editor buffers winning over the
disk, the cursor), its revisions, and its subscribers.

After every update (`apply`) it works out which review units changed by content
(engine/incremental.py), tells subscribers (`sections.changed`, then the re-anchored
`comments`: comments.py), queues the changed sections (section_queue.py) and, when the paper
changed enough, the whole-paper review (paper_review.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from papercycle.daemon import protocol
from papercycle.daemon.config import ConfigError, ModelConfig
from papercycle.daemon.engine import incremental, review_units
from papercycle.daemon.failures import failure
from papercycle.daemon.jobs import Jobs, Transport
from papercycle.daemon.project_errors import PROJECT, CurrentErrors
from papercycle.daemon.requests import ProjectOpen
from papercycle.daemon.results import ProjectStatus
from papercycle.daemon.sessions import comments
from papercycle.daemon.sessions.paper_review import PaperReview
from papercycle.daemon.sessions.section_queue import SectionQueue
from papercycle.daemon.watch import Watcher
from papercycle.latex import Project, ProjectError
from papercycle.latex.positions import Position

log = logging.getLogger("papercycle.daemon.sessions")

REBUILD_NAMES = {".papercycle.toml", "latexmkrc", ".latexmkrc"}


class Session:
    def __init__(
        self, jobs: Jobs, transport: Transport, project: Project, request: ProjectOpen
    ) -> None:
        self.jobs = jobs
        self.transport = transport
        self.project = project
        self.id = str(project.root_path)
        self.root_dir = Path(project.root_dir)
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.revision = 0
        self.units: list[review_units.Unit] = []
        self.versions: dict[str, Any] = {}  # open buffers: path -> the editor's version
        self.cursor: str | None = None  # the unit ident under the cursor
        self.reviews: dict[str, comments.SectionReview] = {}
        self.errors = CurrentErrors()  # the last failure per unit, paper, project: replayed
        self.subscribers: dict[tuple[bytes, str], None] = {}
        self.openers: dict[bytes, int] = {}  # client -> how many times it opened this
        self.used = time.monotonic()  # the last request about it
        self.closed = asyncio.Event()  # ends the subscriptions
        self.model_name = request.model
        self.section_model_name = request.section_model
        self.paper_mode = request.paper
        self.counters = {
            "updates": 0,
            "section_reviews": 0,  # generated (cache misses)
            "section_cached": 0,
            "paper_reviews": 0,
            "prompt_tokens_evaluated": 0,
            "superseded": 0,
        }
        self.sections = SectionQueue(self)
        self.paper_review = PaperReview(self)
        debounce = request.debounce
        if debounce is None:
            debounce = jobs.config().daemon.watch_debounce
        self.watcher = Watcher(self.root_dir, self._on_files, float(debounce))

    # -- inputs ------------------------------------------------------------------------------

    def start(self) -> None:
        self.units = review_units.units(self.project)
        self.sections.todo = {u.ident for u in self.units}
        self.watcher.start()
        self.sections.kick()
        self.paper_review.maybe()

    def _on_files(self, paths: set[Path]) -> None:
        async def run() -> None:
            try:
                await self.files_changed(paths)
            except Exception as error:  # reported to subscribers; watching goes on
                if failure(error) is None:
                    log.exception("update of %s failed", self.id)

        self.transport.spawn(run())

    async def files_changed(self, paths: set[Path]) -> None:
        disk = {p for p in paths if str(p) not in self.versions}
        if not disk:
            return  # every one is an open buffer: the buffer wins
        rebuild = any(p.name in REBUILD_NAMES for p in disk)

        def mutate() -> None:
            if rebuild:
                fresh = Project.build(self.project.path)
                for path in self.versions:
                    text = self.project.file_text(path)
                    if text is not None:
                        fresh.update(path, text)
                self.project = fresh
            else:
                self.project.reload()  # re-reads from disk; only changed files are parsed

        await self.apply(mutate, sorted(str(p) for p in disk), "disk")

    async def buffer(
        self, path: str, text: str | None, version: Any, cursor: dict | None = None
    ) -> dict[str, Any]:
        p = str(Path(path).absolute())
        if text is None:
            self.versions.pop(p, None)
        else:
            self.versions[p] = version
        return await self.apply(lambda: self.project.update(p, text), [p], "buffer", cursor)

    def set_cursor(self, cursor: dict | None) -> None:
        if not isinstance(cursor, dict) or "path" not in cursor:
            return
        try:
            path = str(cursor["path"])
            if "line" in cursor:
                position = Position(int(cursor["line"]), int(cursor.get("character", 0)))
                offset = self.project.line_index(path).offset(position)
            else:
                offset = int(cursor.get("offset", 0))
            unit = incremental.unit_at(self.project, self.units, path, offset)
        except (ValueError, TypeError, KeyError):
            return
        self.cursor = unit.ident if unit is not None else self.cursor

    async def apply(
        self, mutate, files: list[str], origin: str, cursor: dict | None = None
    ) -> dict[str, Any]:
        """Change the project, then tell subscribers and schedule what changed."""
        async with self.lock:
            try:
                await asyncio.to_thread(mutate)
            except ProjectError as error:
                self.emit("error", {"message": str(error), "files": files})
                raise
            self.errors.clear(PROJECT)
            before = self.units
            self.units = await asyncio.to_thread(review_units.units, self.project)
            change = incremental.diff(before, self.units)
            self.set_cursor(cursor)  # in the new text: the attention order of this update
            self.revision += 1
            self.counters["updates"] += 1
            project = self.project
            self.emit(
                "sections.changed",
                {
                    **self.stamp(),
                    "origin": origin,
                    "files": files,
                    "changed": [u.describe(project) for u in change.changed],
                    "added": [u.describe(project) for u in change.added],
                    "removed": change.removed,
                    "moved": change.moved,
                    "order": [u.ident for u in self.units],
                },
            )
            for ident in change.removed:
                self.sections.drop(ident)
                self.errors.clear(ident)
                old = self.reviews.pop(ident, None)
                if old is not None:
                    comments.emit_comments(self, old, [], removed_section=True)
            for unit in change.to_review:
                self.sections.want(unit.ident)
            # every kept review is re-anchored in the new text (cheap: its output is kept)
            await asyncio.to_thread(
                comments.reanchor_all, self, {u.ident for u in change.to_review}
            )
            await asyncio.to_thread(self.paper_review.reanchor)
            # every comment a subscriber holds is now anchored in this revision's text
            self.emit("anchored", self.stamp())
        self.sections.kick()
        self.paper_review.maybe()
        return {
            "revision": self.revision,
            "changed": [u.ident for u in change.changed],
            "added": [u.ident for u in change.added],
            "removed": change.removed,
            "moved": change.moved,
        }

    def stamp(self) -> dict[str, Any]:
        return {"project": self.id, "revision": self.revision, "versions": dict(self.versions)}

    # -- models --------------------------------------------------------------------------------

    def section_model(self) -> ModelConfig:
        return self.jobs.model(self.root_dir, self.section_model_name, "reviewer", fmt="section")

    def paper_model(self) -> ModelConfig:
        return self.jobs.model(self.root_dir, self.model_name, "reviewer")

    def config_warnings(self) -> list[str]:
        """What of the project's `.papercycle.toml` is ignored (its own models in a folder the
        user does not trust): the editor shows it when it opens the project."""
        try:
            return self.jobs.project_config(self.root_dir).warnings
        except ConfigError as error:
            return [str(error)]

    # -- subscribers and status -----------------------------------------------------------------

    def emit(self, event: str, data: dict[str, Any]) -> None:
        """To every subscriber, in order; callable from worker threads too."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self.loop:
            self.loop.call_soon_threadsafe(self.emit, event, data)
            return
        if event == "error":
            self.errors.record(data)  # kept for subscribers to come
        for peer, request_id in list(self.subscribers):
            self.transport.spawn(self.transport.send(peer, protocol.event(request_id, event, data)))

    async def subscribe(self, peer: bytes, request_id: str) -> None:
        """The current state to a new subscriber, then every event until the project closes
        (or the request is cancelled)."""
        key = (peer, request_id)
        send = self.transport.send
        async with self.lock:
            self.subscribers[key] = None
            # the current state first, so a late subscriber starts complete
            project = self.project
            await send(
                peer,
                protocol.event(
                    request_id,
                    "sections.changed",
                    {
                        **self.stamp(),
                        "origin": "subscribe",
                        "files": [],
                        "changed": [],
                        "added": [u.describe(project) for u in self.units],
                        "removed": [],
                        "moved": [],
                        "order": [u.ident for u in self.units],
                    },
                ),
            )
        for state in list(self.reviews.values()):
            data = comments.comments_data(self, state, added=state.comments, updated=[], removed=[])
            await send(peer, protocol.event(request_id, "comments", data))
        # a whole-paper review that ended before this subscriber came (an answer from the
        # cache comes within a second of opening, often before the editor subscribes)
        if self.paper_review.event is not None:
            await send(peer, protocol.event(request_id, "paper", self.paper_review.event))
        await send(peer, protocol.event(request_id, "anchored", self.stamp()))
        # errors that fired before this subscriber came (the editor subscribes after opening)
        current = self.sections.running
        pending = [*self.sections.todo, *([current] if current else [])]
        for data in self.errors.current(pending):
            await send(peer, protocol.event(request_id, "error", data))
        try:
            await self.closed.wait()  # or until the client cancels or goes away
        finally:
            self.subscribers.pop(key, None)

    def status(self) -> ProjectStatus:
        current = self.sections.running
        reviews = self.reviews
        return ProjectStatus(
            project=self.id,
            root=str(self.root_dir),
            revision=self.revision,
            versions=dict(self.versions),
            cursor=self.cursor,
            sections=[
                {
                    "id": u.ident,
                    "key": u.key[:16],
                    "name": u.node.display_name(),
                    "words": u.words,
                    "reviewed": u.ident in reviews and reviews[u.ident].unit.key == u.key,
                    "comments": len(reviews[u.ident].comments) if u.ident in reviews else 0,
                }
                for u in self.units
            ],
            errors=self.errors.summary(),
            warnings=self.config_warnings(),
            pending=sorted(self.sections.todo) + ([current] if current else []),
            paper=self.paper_review.status(),
            paper_running=self.paper_review.running,
            idle=self.sections.idle and not self.paper_review.running,
            subscribers=len(self.subscribers),
            watch={
                "debounce": self.watcher.debounce,
                "events": self.watcher.events,
                "batches": self.watcher.batches,
            },
            counters=dict(self.counters),
        )

    def close(self) -> None:
        self.closed.set()
        self.watcher.stop()
        self.sections.close()
        self.paper_review.close()
