"""Open projects: always-fresh reviews at the cost of the change.

A client opens a project (`project.open`); the daemon keeps its project model, watches its
files (watch.py, debounced), takes editor buffers (`project.buffer`: a buffer wins over the
disk) and the cursor, and after every update:

1. works out which review units (engine/incremental.py: a section's own text, its number left
   out) changed by content; moving or renumbering a section is no change;
2. tells subscribers (`subscribe`): `sections.changed`, then `comments` events per section
   (new/updated/removed comments, with the revision and the editor versions they belong to):
   comments of untouched sections are re-anchored in the new text (their ranges shift with the
   edit), comments of a changed section are re-anchored and marked `stale` until its new
   review arrives;
3. reviews the changed units one at a time, the cursor's first and then in reading order, at
   `save` priority through the daemon's scheduler and cache (a unit's review is cached by its
   text, the model and the prompt version, so restoring an earlier text costs nothing); a unit
   that changes again while it is being reviewed has that review cancelled;
4. runs the whole-paper review in the background (scheduler priority `background`, below
   every section and interactive request) when the paper changed "enough"
   (`[daemon] paper_review_threshold` of its words, or a section added or removed) or on
   `project.review`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercycle.daemon import protocol
from papercycle.daemon.config import ConfigError, ModelConfig
from papercycle.daemon.engine import completeness
from papercycle.daemon.engine import incremental as inc
from papercycle.daemon.engine import review as engine
from papercycle.daemon.models.registry import ModelError
from papercycle.daemon.project import Project, ProjectError
from papercycle.daemon.project_errors import PAPER, PROJECT, CurrentErrors
from papercycle.daemon.scheduler import PRIORITIES, Busy
from papercycle.daemon.watch import Watcher

log = logging.getLogger("papercycle.daemon.sessions")

REQUEST_TYPES = protocol.SESSION_REQUEST_TYPES
REBUILD_NAMES = {".papercycle.toml", "latexmkrc", ".latexmkrc"}
_numbers = itertools.count(1)


def _failed(code: str, message: str) -> Exception:
    from papercycle.daemon.server import RequestFailed

    return RequestFailed(code, message)


@dataclass
class SectionReview:
    unit: inc.Unit
    request: engine.GenerationRequest
    output: str
    info: dict[str, Any]
    cached: bool
    revision: int
    comments: list[dict[str, Any]] = field(default_factory=list)
    stale: bool = False
    scores: dict[str, Any] = field(default_factory=dict)  # the section's, from its review


def _comment_ids(unit: inc.Unit, comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, c in enumerate(comments):
        digest = hashlib.sha1(f"{unit.key}\x00{i}\x00{c.get('text', '')}".encode()).hexdigest()
        out.append({"id": f"{unit.ident}/{digest[:12]}", **c})
    return out


class Session:
    def __init__(self, manager: Sessions, project: Project, params: dict[str, Any]) -> None:
        self.manager = manager
        self.server = manager.server
        self.project = project
        self.id = str(project.root_path)
        self.root_dir = Path(project.root_dir)
        self.lock = asyncio.Lock()
        self.loop = asyncio.get_running_loop()
        self.revision = 0
        self.units: list[inc.Unit] = []
        self.versions: dict[str, Any] = {}  # open buffers: path -> the editor's version
        self.cursor: str | None = None  # the unit ident under the cursor
        self.reviews: dict[str, SectionReview] = {}
        self.errors = CurrentErrors()  # the last failure per unit, paper, project: replayed
        self.todo: set[str] = set()
        self.current: tuple[str, str, Any, Any] | None = None  # ident, key, job, subscriber
        self.worker: asyncio.Task | None = None
        self.subscribers: dict[tuple[bytes, str], None] = {}
        self.openers: dict[bytes, int] = {}  # client -> how many times it opened this
        self.used = time.monotonic()  # the last request about it
        self.closed = asyncio.Event()  # ends the subscriptions
        self.model_name = params.get("model")
        self.section_model_name = params.get("section_model")
        self.paper_mode = params.get("paper", "auto")
        self.paper: dict[str, Any] | None = None  # request, output, info, revision, baseline
        self.paper_event: dict[str, Any] | None = None  # the last one sent, for late subscribers
        self.paper_task: asyncio.Task | None = None
        self.paper_wanted = False
        self.counters = {
            "updates": 0,
            "section_reviews": 0,  # generated (cache misses)
            "section_cached": 0,
            "paper_reviews": 0,
            "prompt_tokens_evaluated": 0,
            "superseded": 0,
        }
        debounce = params.get("debounce", self.server.config.daemon.watch_debounce)
        self.watcher = Watcher(self.root_dir, self._on_files, float(debounce))

    # -- inputs ------------------------------------------------------------------------------

    def start(self) -> None:
        self.units = inc.units(self.project)
        self.todo = {u.ident for u in self.units}
        self.watcher.start()
        self._kick()
        self._maybe_paper()

    def _on_files(self, paths: set[Path]) -> None:
        async def run() -> None:
            try:
                await self.files_changed(paths)
            except Exception as error:  # reported to subscribers; watching goes on
                if not hasattr(error, "code"):
                    log.exception("update of %s failed", self.id)

        self.server._spawn(run())

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

    def set_cursor(self, cursor: dict[str, Any] | None) -> None:
        if not isinstance(cursor, dict) or "path" not in cursor:
            return
        try:
            path = str(cursor["path"])
            if "line" in cursor:
                from papercycle.daemon.project.positions import Position

                position = Position(int(cursor["line"]), int(cursor.get("character", 0)))
                offset = self.project.line_index(path).offset(position)
            else:
                offset = int(cursor.get("offset", 0))
            unit = inc.unit_at(self.project, self.units, path, offset)
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
                raise _failed("project", str(error)) from None
            self.errors.clear(PROJECT)
            before = self.units
            self.units = await asyncio.to_thread(inc.units, self.project)
            change = inc.diff(before, self.units)
            self.set_cursor(cursor)  # in the new text: the attention order of this update
            self.revision += 1
            self.counters["updates"] += 1
            project = self.project
            self.emit(
                "sections.changed",
                {
                    **self._stamp(),
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
                self.todo.discard(ident)
                self._supersede(ident)
                self.errors.clear(ident)
                old = self.reviews.pop(ident, None)
                if old is not None:
                    self._emit_comments(old, [], removed_section=True)
            for unit in change.to_review:
                self._supersede(unit.ident)
                self.todo.add(unit.ident)
            # every kept review is re-anchored in the new text (cheap: its output is kept)
            await asyncio.to_thread(self._reanchor_all, {u.ident for u in change.to_review})
            await asyncio.to_thread(self._reanchor_paper)
            # every comment a subscriber holds is now anchored in this revision's text
            self.emit("anchored", self._stamp())
        self._kick()
        self._maybe_paper()
        return {
            "revision": self.revision,
            "changed": [u.ident for u in change.changed],
            "added": [u.ident for u in change.added],
            "removed": change.removed,
            "moved": change.moved,
        }

    def _stamp(self) -> dict[str, Any]:
        return {"project": self.id, "revision": self.revision, "versions": dict(self.versions)}

    # -- comments ------------------------------------------------------------------------------

    def _finish(self, state: SectionReview, unit: inc.Unit) -> list[dict[str, Any]]:
        result = engine.finish(self.project, inc.with_part(state.request, unit), state.output)
        state.scores = result.get("scores") or {}
        return _comment_ids(state.unit, result["comments"])

    def _reanchor_all(self, changed: set[str]) -> None:
        current = {u.ident: u for u in self.units}
        for ident, state in list(self.reviews.items()):
            unit = current.get(ident)
            if unit is None:
                continue
            stale = ident in changed or unit.key != state.unit.key
            comments = self._finish(state, unit)
            if comments != state.comments or stale != state.stale:
                state.stale = stale
                self._emit_comments(state, comments)

    def _emit_comments(
        self, state: SectionReview, comments: list[dict[str, Any]], removed_section: bool = False
    ) -> None:
        old = {c["id"]: c for c in state.comments}
        new = {c["id"]: c for c in comments}
        state.comments = comments
        self.emit(
            "comments",
            self._comments_data(
                state,
                added=[c for i, c in new.items() if i not in old],
                updated=[c for i, c in new.items() if i in old and old[i] != c],
                removed=[i for i in old if i not in new],
                removed_section=removed_section,
            ),
        )

    def _comments_data(
        self,
        state: SectionReview,
        added: list[dict[str, Any]],
        updated: list[dict[str, Any]],
        removed: list[str],
        removed_section: bool = False,
    ) -> dict[str, Any]:
        """A `comments` event: the section's current comments and what changed."""
        return {
            **self._stamp(),
            "section": state.unit.describe(self.project)
            if not removed_section
            else {"id": state.unit.ident, "removed": True},
            "reviewed_revision": state.revision,
            "stale": state.stale,
            "cached": state.cached,
            "generation": state.info,
            "scores": state.scores,
            "comments": state.comments,
            "added": added,
            "updated": updated,
            "removed": removed,
        }

    # -- section reviews -------------------------------------------------------------------------

    def _supersede(self, ident: str) -> None:
        if self.current is not None and self.current[0] == ident:
            _, _, job, subscriber = self.current
            if job is not None and self.server.scheduler is not None:
                self.counters["superseded"] += 1
                self.server.scheduler.unsubscribe(job, subscriber, "superseded by an edit")

    def _kick(self) -> None:
        if self.worker is None or self.worker.done():
            self.worker = self.server._spawn(self._work())

    def _next(self) -> inc.Unit | None:
        todo = [u for u in self.units if u.ident in self.todo]
        self.todo = {u.ident for u in todo}
        ordered = inc.attention_order(todo, self.cursor)
        return ordered[0] if ordered else None

    async def _work(self) -> None:
        while True:
            unit = self._next()
            if unit is None:
                break
            self.todo.discard(unit.ident)
            self.current = (unit.ident, unit.key, None, None)
            try:
                await self._review(unit)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # reported, the next unit goes on
                code = getattr(error, "code", "internal")
                log.warning("section review of %s failed: %s", unit.ident, error)
                self.emit(
                    "error",
                    {**self._stamp(), "section": unit.ident, "code": code, "message": str(error)},
                )
            finally:
                self.current = None
        self._maybe_paper()

    def section_model(self) -> ModelConfig:
        return self._model(self.section_model_name, fmt="section")

    def paper_model(self) -> ModelConfig:
        return self._model(self.model_name, fmt=None)

    def config_warnings(self) -> list[str]:
        """What of the project's `.papercycle.toml` is ignored (its own models in a folder the
        user does not trust): the editor shows it when it opens the project."""
        try:
            return self.server.current_config().with_project(self.root_dir).warnings
        except ConfigError as error:
            return [str(error)]

    def _model(self, name: str | None, fmt: str | None) -> ModelConfig:
        try:
            config = self.server.current_config().with_project(self.root_dir)
            return config.model_for(name, "reviewer", fmt=fmt)
        except ConfigError as error:
            raise _failed("model", str(error)) from None

    async def _run(self, request: engine.GenerationRequest, priority: str, ident: str):
        """(output, info, cached) through the cache and the scheduler; None when cancelled."""
        server = self.server
        cached = await asyncio.to_thread(server.store.get, request.key)
        if cached is not None:
            output, info = cached
            return output, info, True
        try:
            await asyncio.to_thread(engine.check_context, request, server.registry.count_tokens)
        except engine.ReviewError as error:
            raise _failed(error.code, str(error)) from None
        except ModelError as error:
            raise _failed("model", str(error)) from None
        subscriber = ("session", self.id, ident, next(_numbers))
        assert server.scheduler is not None
        while True:
            try:
                job = server.scheduler.submit(
                    request, PRIORITIES[priority], subscriber, lambda _k, _d: None
                )
                break
            except Busy:  # the queue is full of other clients' work: wait for room
                await asyncio.sleep(0.5)
        if ident != "paper":
            self.current = (ident, request.key, job, subscriber)
        else:
            self.paper_job = (job, subscriber)
        assert job.done is not None
        generation = await asyncio.shield(job.done)
        if generation.finish == "cancelled":
            return None
        info = generation.info()
        self.counters["prompt_tokens_evaluated"] += generation.prompt_evaluated or 0
        await asyncio.to_thread(
            server.store.put, request.key, request.model.name, request.kind, generation.text, info
        )
        return generation.text, info, False

    async def _review(self, unit: inc.Unit) -> None:
        model = self.section_model()
        async with self.lock:
            request = await asyncio.to_thread(inc.prepare_unit, self.project, model, unit)
            revision = self.revision
        outcome = await self._run(request, "save", unit.ident)
        if outcome is None:
            return  # superseded (the unit is back in todo) or the daemon stops
        output, info, cached = outcome
        self.counters["section_cached" if cached else "section_reviews"] += 1
        async with self.lock:
            now = next((u for u in self.units if u.ident == unit.ident), None)
            if now is None or now.key != unit.key:
                return  # changed meanwhile: its new text is queued
            state = SectionReview(unit, request, output, info, cached, revision)
            old = self.reviews.get(unit.ident)
            comments = await asyncio.to_thread(self._finish, state, now)
            if old is not None:
                state.comments = old.comments  # so the event says what was removed/updated
            self.reviews[unit.ident] = state
            self.errors.clear(unit.ident)
            self._emit_comments(state, comments)

    # -- the whole paper -------------------------------------------------------------------------

    def _maybe_paper(self, requested: bool = False) -> None:
        if requested:
            self.paper_wanted = True
        if self.paper_mode == "off" and not self.paper_wanted:
            return
        if self.paper_task is None or self.paper_task.done():
            self.paper_task = self.server._spawn(self._paper_loop())

    def _paper_needed(self) -> bool:
        if self.paper_wanted:
            return True
        if self.paper_mode != "auto":
            return False
        baseline = None if self.paper is None else self.paper["baseline"]
        threshold = float(self.server.config.daemon.paper_review_threshold)
        return inc.needs_paper_review(baseline, self.units, threshold)

    async def _paper_loop(self) -> None:
        while self._paper_needed():
            try:
                model = self.paper_model()
            except Exception as error:
                self.emit("error", {**self._stamp(), "section": "paper", "message": str(error)})
                return
            if model.format == "section":
                self.paper_wanted = False
                return  # no whole-paper reviewer configured
            self.paper_wanted = False
            async with self.lock:
                try:
                    request = await asyncio.to_thread(
                        engine.prepare_paper, self.project, model, "standard"
                    )
                except engine.ReviewError as error:
                    self.emit("error", {**self._stamp(), "section": "paper", "message": str(error)})
                    return
                baseline = {u.ident: u.body for u in self.units}
                revision = self.revision
            try:
                outcome = await self._run(request, "background", "paper")
            except Exception as error:
                self.emit("error", {**self._stamp(), "section": "paper", "message": str(error)})
                return
            if outcome is None:
                # cancelled: by this project's close, or by the daemon stopping; said in the log
                # because an editor then shows sections without a paper review
                log.info("%s: whole-paper review cancelled before it answered", self.id)
                return
            output, info, cached = outcome
            if not cached:
                self.counters["paper_reviews"] += 1
            self.paper = {
                "request": request,
                "output": output,
                "info": info,
                "cached": cached,
                "revision": revision,
                "baseline": baseline,
            }
            self.errors.clear(PAPER)
            async with self.lock:
                await asyncio.to_thread(self._reanchor_paper)

    def _reanchor_paper(self) -> None:
        if self.paper is None:
            return
        p = self.paper
        result = engine.finish(self.project, p["request"], p["output"])
        result["comments"] = [
            {"id": f"paper/{i}/{hashlib.sha1(c['text'].encode()).hexdigest()[:10]}", **c}
            for i, c in enumerate(result["comments"])
        ]
        completeness.mark(result, p["info"], p["request"].model)
        result.update(cached=p["cached"], generation=p["info"])
        log.info(
            "%s: whole-paper review%s: %d comments",
            self.id,
            " (cached)" if p["cached"] else "",
            len(result["comments"]),
        )
        self.paper_event = {**self._stamp(), "reviewed_revision": p["revision"], "result": result}
        self.emit("paper", self.paper_event)

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
            self.server._spawn(self.server._send(peer, protocol.event(request_id, event, data)))

    async def subscribe(self, peer: bytes, request_id: str) -> dict[str, Any]:
        key = (peer, request_id)
        async with self.lock:
            self.subscribers[key] = None
            # the current state first, so a late subscriber starts complete
            send = self.server._send
            project = self.project
            await send(
                peer,
                protocol.event(
                    request_id,
                    "sections.changed",
                    {
                        **self._stamp(),
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
            data = self._comments_data(state, added=state.comments, updated=[], removed=[])
            await send(peer, protocol.event(request_id, "comments", data))
        # a whole-paper review that ended before this subscriber came (an answer from the
        # cache comes within a second of opening, often before the editor subscribes)
        if self.paper_event is not None:
            await send(peer, protocol.event(request_id, "paper", self.paper_event))
        await send(peer, protocol.event(request_id, "anchored", self._stamp()))
        # errors that fired before this subscriber came (the editor subscribes after opening)
        pending = [*self.todo, *([self.current[0]] if self.current else [])]
        for data in self.errors.current(pending):
            await send(peer, protocol.event(request_id, "error", data))
        try:
            await self.closed.wait()  # or until the client cancels or goes away
        finally:
            self.subscribers.pop(key, None)
        return {"closed": True}

    def status(self) -> dict[str, Any]:
        current = self.current[0] if self.current else None
        return {
            "project": self.id,
            "root": str(self.root_dir),
            "revision": self.revision,
            "versions": dict(self.versions),
            "cursor": self.cursor,
            "sections": [
                {
                    "id": u.ident,
                    "key": u.key[:16],
                    "name": u.node.display_name(),
                    "words": u.words,
                    "reviewed": u.ident in self.reviews and self.reviews[u.ident].unit.key == u.key,
                    "comments": len(self.reviews[u.ident].comments)
                    if u.ident in self.reviews
                    else 0,
                }
                for u in self.units
            ],
            "errors": self.errors.summary(),
            "warnings": self.config_warnings(),
            "pending": sorted(self.todo) + ([current] if current else []),
            "paper": None
            if self.paper is None
            else {
                "reviewed_revision": self.paper["revision"],
                "generation": self.paper["info"],
                "cached": self.paper["cached"],
            },
            "paper_running": self.paper_task is not None and not self.paper_task.done(),
            "idle": not self.todo
            and current is None
            and (self.worker is None or self.worker.done())
            and (self.paper_task is None or self.paper_task.done()),
            "subscribers": len(self.subscribers),
            "watch": {
                "debounce": self.watcher.debounce,
                "events": self.watcher.events,
                "batches": self.watcher.batches,
            },
            "counters": dict(self.counters),
        }

    def close(self) -> None:
        self.closed.set()
        self.watcher.stop()
        self.todo.clear()
        self._supersede(self.current[0]) if self.current else None
        for task in (self.worker, self.paper_task):
            if task is not None:
                task.cancel()
        job = getattr(self, "paper_job", None)
        if job is not None and self.server.scheduler is not None:
            self.server.scheduler.unsubscribe(job[0], job[1], "project closed")


class Sessions:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.open: dict[str, Session] = {}
        self._opening = asyncio.Lock()

    def find(self, params: dict[str, Any]) -> Session:
        wanted = params.get("project") or params.get("path")
        if not isinstance(wanted, str) or not wanted:
            raise _failed("bad-request", "name the project: 'project' (its id) or 'path'")
        if wanted in self.open:
            return self.open[wanted]
        p = Path(wanted).absolute()
        for session in self.open.values():
            if p == session.root_dir or p.is_relative_to(session.root_dir):
                return session
        raise _failed("project", f"no open project holds {wanted} (send project.open first)")

    async def handle(self, peer: bytes, request_id: str, kind: str, params: dict) -> dict:
        if kind == "project.open":
            return await self._open(peer, params)
        session = self.find(params)
        session.used = time.monotonic()
        if kind == "subscribe":
            return await session.subscribe(peer, request_id)
        if kind == "project.buffer":
            path = params.get("path")
            text = params.get("text")
            if not isinstance(path, str) or not (text is None or isinstance(text, str)):
                raise _failed("bad-request", "project.buffer needs 'path' and 'text' (or null)")
            return await session.buffer(path, text, params.get("version"), params.get("cursor"))
        if kind == "project.cursor":
            session.set_cursor(params.get("cursor", params))
            return {"cursor": session.cursor}
        if kind == "project.review":
            session._maybe_paper(requested=True)
            return {"queued": True, "revision": session.revision}
        if kind == "project.status":
            return session.status()
        if kind == "project.close":
            left = session.openers.get(peer, 0) - 1
            if left > 0:
                session.openers[peer] = left
            else:
                session.openers.pop(peer, None)
            if not session.openers or params.get("force"):
                self._close(session)
            return {"closed": session.id not in self.open}
        raise _failed("bad-request", f"unknown request type {kind!r}")

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
                self._close(session)

    def sweep(self, idle_timeout: float) -> None:
        """Close projects nobody subscribes to and nobody asked about for `idle_timeout`
        seconds (a client that died without its socket closing, or forgot project.close)."""
        if idle_timeout <= 0:
            return
        now = time.monotonic()
        for session in list(self.open.values()):
            if not session.subscribers and now - session.used > idle_timeout:
                log.info("closing %s: unused for %.0f s", session.id, now - session.used)
                self._close(session)

    def _close(self, session: Session) -> None:
        session.close()
        self.open.pop(session.id, None)

    async def _open(self, peer: bytes, params: dict[str, Any]) -> dict[str, Any]:
        path = params.get("path") or params.get("root")
        if not isinstance(path, str) or not path:
            raise _failed("bad-request", "project.open needs 'path' (a .tex file or directory)")
        buffers = params.get("buffers") or {}
        if not isinstance(buffers, dict):
            raise _failed("bad-request", "'buffers' maps paths to text or {text, version}")
        texts = {  # path -> (text, the editor's version)
            file: (value.get("text"), value.get("version"))
            if isinstance(value, dict)
            else (value, None)
            for file, value in buffers.items()
        }
        if params.get("paper", "auto") not in ("auto", "off"):
            raise _failed("bad-request", "'paper' is 'auto' or 'off'")

        def build() -> Project:
            try:
                return Project.build(Path(path))
            except ProjectError as error:
                raise _failed("project", str(error)) from None

        project = await asyncio.to_thread(build)
        async with self._opening:  # two clients opening one project at once get one session
            return await self._join_or_start(peer, project, params, texts)

    async def _join_or_start(
        self,
        peer: bytes,
        project: Project,
        params: dict[str, Any],
        texts: dict[str, tuple[Any, Any]],
    ) -> dict[str, Any]:
        session = self.open.get(str(project.root_path))
        if session is None:
            session = Session(self, project, params)
            for file, (text, version) in texts.items():
                if isinstance(text, str):
                    p = str(Path(file).absolute())
                    session.versions[p] = version
                    await asyncio.to_thread(session.project.update, p, text)
            self.open[session.id] = session
            session.openers[peer] = 1
            session.start()
        else:  # joining: the buffers are updates of the open project
            # held from now on: another client leaving meanwhile does not close it under us
            session.openers[peer] = session.openers.get(peer, 0) + 1
            for file, (text, version) in texts.items():
                if isinstance(text, str):
                    await session.buffer(file, text, version)
        session.set_cursor(params.get("cursor"))
        session.used = time.monotonic()
        return session.status()

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


__all__ = ["REQUEST_TYPES", "Session", "Sessions"]
