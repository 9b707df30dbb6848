"""The daemon's ZeroMQ service: a ROUTER socket, one JSON message per frame (PROTOCOL.md).

Every request is answered by events and then exactly one result or error. A malformed or
oversized message gets an error (and a log line); nothing a client sends stops the service.
A client that disappears (its socket closed: sends to it fail; or silent longer than the
heartbeat timeout) loses its subscriptions, and a job nobody waits for is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import logging
import os
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import zmq
import zmq.asyncio
from papercycle.daemon import protocol, request_fields
from papercycle.daemon.config import Config, ConfigError
from papercycle.daemon.engine import aiscientist_run, coauthor, completeness
from papercycle.daemon.engine import review as engine
from papercycle.daemon.engine.review_units import shown_name
from papercycle.daemon.models.backend import GenerationError
from papercycle.daemon.models.registry import ModelError, Registry, check_model
from papercycle.daemon.paths import Paths
from papercycle.daemon.project import Project, ProjectError, SectionSlice
from papercycle.daemon.scheduler import PRIORITIES, Busy, Scheduler
from papercycle.daemon.sessions import REQUEST_TYPES as SESSION_REQUESTS
from papercycle.daemon.sessions import Sessions
from papercycle.daemon.store import Store

log = logging.getLogger("papercycle.daemon")

DEFAULT_PRIORITY = {
    "review.paper": "background",
    "review.section": "save",
    "review.sections": "background",
}


class RequestFailed(Exception):
    def __init__(self, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class Server:
    def __init__(self, paths: Paths, endpoint: str, token: str | None = None) -> None:
        self.paths = paths
        self.endpoint = endpoint
        self.token = token
        self.started = time.time()
        self._started_monotonic = time.monotonic()
        self.config = Config.load(paths.config_file)
        self._config_mtime = self._mtime()
        self.registry = Registry(self.config)
        self.store = Store(paths.cache_db)
        self.scheduler: Scheduler | None = None
        self.context = zmq.asyncio.Context()
        self.socket: zmq.asyncio.Socket | None = None
        self.last_seen: dict[bytes, float] = {}
        # (peer identity, request id) -> (job, task) for requests still being answered
        self.active: dict[tuple[bytes, str], dict[str, Any]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._stop = asyncio.Event()
        self.requests = 0
        self.bad_messages = 0
        self.sessions = Sessions(self)  # open projects: watching, incremental reviews

    # -- lifecycle ---------------------------------------------------------------------------

    def bind(self) -> str:
        sock = self.context.socket(zmq.ROUTER)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a send to a vanished peer raises
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.SNDHWM, 100_000)
        # Hard transport cap well above the protocol limit, so an oversized message still
        # arrives and can be answered with an error instead of a silent disconnect.
        sock.setsockopt(zmq.MAXMSGSIZE, 4 * self.config.daemon.max_message_bytes)
        sock.bind(self.endpoint)
        self.endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self.socket = sock
        return self.endpoint

    def request_stop(self) -> None:
        self._stop.set()

    async def serve(self) -> None:
        assert self.socket is not None
        self.scheduler = Scheduler(self.registry, self.config.daemon.max_queue)
        worker = asyncio.create_task(self.scheduler.run())
        housekeeping = asyncio.create_task(self._housekeeping())
        receiver = asyncio.create_task(self._receive_loop())
        await self._stop.wait()
        log.info("stopping: cancelling %d job(s)", len(self.active))
        self.sessions.close_all()
        self.scheduler.cancel_all("the daemon is shutting down")
        for (peer, request_id), entry in list(self.active.items()):
            job = entry.get("job")
            if job is not None:
                job.cancel.cancel("the daemon is shutting down")
            await self._send(
                peer, protocol.error(request_id, "shutdown", "the daemon is shutting down")
            )
        receiver.cancel()
        housekeeping.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(receiver, housekeeping, *self._tasks, return_exceptions=True)
        worker.cancel()
        with contextlib.suppress(BaseException):
            await worker
        await asyncio.to_thread(self.scheduler.shutdown)
        self.registry.unload_all()
        self.store.close()
        self.socket.close(linger=0)
        self.context.term()
        log.info("stopped")

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            idle_limit = self.config.daemon.exit_after_idle
            last = max(self.last_seen.values(), default=self._started_monotonic)
            if idle_limit and not self.active and time.monotonic() - last > idle_limit:
                log.info("no request for %ss: stopping", idle_limit)
                self.request_stop()
            for name in await asyncio.to_thread(self.registry.sweep):
                log.info("unloaded %s (idle for %ss)", name, self.config.daemon.keep_alive)
            deadline = time.monotonic() - self.config.daemon.heartbeat_timeout
            for peer, seen in list(self.last_seen.items()):
                if seen < deadline:
                    self._peer_gone(peer, "no heartbeat")
                    self.last_seen.pop(peer, None)
            self.sessions.sweep(self.config.daemon.project_idle_timeout)

    # -- transport ---------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        """Never ends but on stop: a frame that breaks its handling is logged and answered (or
        dropped when it names no request), so one client cannot wedge the daemon for all."""
        assert self.socket is not None
        while True:
            try:
                frames = await self.socket.recv_multipart(copy=True)
            except zmq.ZMQError as error:
                if self.socket.closed or error.errno == zmq.ETERM:
                    return
                log.warning("receiving a message failed: %s", error)
                await asyncio.sleep(0.01)  # never a busy loop on a persistent socket error
                continue
            peer, payload = frames[0], frames[-1]
            self.last_seen[peer] = time.monotonic()
            if len(frames) not in (2, 3):
                self.bad_messages += 1
                log.warning("message of %d frames from a client ignored parts", len(frames))
            try:
                self._handle(peer, payload)
            except Exception as error:
                self.bad_messages += 1
                log.exception("a message of %d bytes could not be handled", len(payload))
                request_id = _request_id(payload)
                if request_id is not None:
                    answer = protocol.error(
                        request_id, "internal", f"the daemon could not handle it ({error})"
                    )
                    self._spawn(self._send(peer, answer))

    def _handle(self, peer: bytes, payload: bytes) -> None:
        limit = self.config.daemon.max_message_bytes
        try:
            message = protocol.decode_request(payload, limit)
        except protocol.ProtocolError as error:
            self.bad_messages += 1
            log.warning("bad message (%s): %s", error.code, error)
            self._spawn(self._send(peer, protocol.error(error.request_id, error.code, str(error))))
            return
        request_id = message["id"]
        if self.token is not None and not _token_matches(message.get("token"), self.token):
            self.bad_messages += 1
            log.warning("request without a valid token refused")
            self._spawn(
                self._send(peer, protocol.error(request_id, "auth", "missing or wrong token"))
            )
            return
        self.requests += 1
        kind = message["type"]
        problem = request_fields.check(kind, message["params"])
        if problem is not None:  # a wrong type answers here, naming the field, never `internal`
            self.bad_messages += 1
            log.warning("bad %s request: %s", kind, problem)
            self._spawn(self._send(peer, protocol.error(request_id, "bad-request", problem)))
            return
        if kind == "ping":  # heartbeats are answered inline, never queued behind anything
            self._spawn(self._send(peer, protocol.result(request_id, {"pong": time.time()})))
            return
        if kind == "cancel":
            self._spawn(self._cancel(peer, request_id, message["params"]))
            return
        key = (peer, request_id)
        if key in self.active:
            self._spawn(
                self._send(peer, protocol.error(request_id, "bad-request", "duplicate request id"))
            )
            return
        entry: dict[str, Any] = {"job": None}
        self.active[key] = entry
        entry["task"] = self._spawn(self._answer(peer, request_id, kind, message["params"]))

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _send(self, peer: bytes, message: dict[str, Any]) -> bool:
        """False when the peer is gone (its subscriptions are dropped)."""
        assert self.socket is not None
        try:
            await self.socket.send_multipart([peer, protocol.encode(message)], flags=zmq.NOBLOCK)
            return True
        except zmq.ZMQError as error:
            if error.errno == errno.EHOSTUNREACH:
                self._peer_gone(peer, "disconnected")
                return False
            if error.errno == errno.EAGAIN:
                return message.get("type") == "event"  # a slow reader misses token events
            raise

    def _peer_gone(self, peer: bytes, why: str) -> None:
        for (p, request_id), entry in list(self.active.items()):
            if p != peer:
                continue
            log.info("client gone (%s): cancelling request %s", why, request_id)
            job = entry.get("job")
            if job is not None and self.scheduler is not None:
                self.scheduler.unsubscribe(job, (p, request_id), f"client {why}")
            entry["gone"] = True
            task = entry.get("task")
            if task is not None:
                task.cancel()
            self.active.pop((p, request_id), None)
        self.sessions.peer_gone(peer, disconnected=why == "disconnected")

    async def _cancel(self, peer: bytes, request_id: str, params: dict[str, Any]) -> None:
        target = params.get("target")
        entry = self.active.get((peer, str(target)))
        found = entry is not None
        if entry is not None:
            job = entry.get("job")
            shared = job is not None and len(job.subscribers) > 1
            if job is not None and self.scheduler is not None:
                # The last subscriber: the job stops and the request answers "cancelled" with
                # the number of tokens decoded after the cancel (at most one step).
                self.scheduler.unsubscribe(job, (peer, target), "cancelled by the client")
                entry["cancelled"] = job
            if job is None or shared:
                entry["task"].cancel()
                self.active.pop((peer, str(target)), None)
                await self._send(
                    peer, protocol.error(target, "cancelled", "cancelled by the client")
                )
        await self._send(peer, protocol.result(request_id, {"cancelled": found}))

    # -- requests ----------------------------------------------------------------------------

    async def _answer(self, peer: bytes, request_id: str, kind: str, params: dict) -> None:
        key = (peer, request_id)
        try:
            data = await self._dispatch(peer, request_id, kind, params)
            await self._send(peer, protocol.result(request_id, data))
        except RequestFailed as error:
            await self._send(peer, protocol.error(request_id, error.code, str(error), **error.data))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("request %s (%s) failed", request_id, kind)
            await self._send(
                peer, protocol.error(request_id, "internal", f"{type(error).__name__}: {error}")
            )
        finally:
            self.active.pop(key, None)
            if kind == "shutdown":
                self.request_stop()

    async def _dispatch(self, peer: bytes, request_id: str, kind: str, params: dict) -> dict:
        if kind == "hello":
            return {
                "protocol": protocol.VERSION,
                "version": version("papercycle"),
                "pid": os.getpid(),
                "endpoint": self.endpoint,
            }
        if kind == "status":
            return self.status()
        if kind == "shutdown":
            return {"stopping": True}
        if kind == "cache.stats":
            return await asyncio.to_thread(self.store.stats)
        if kind == "cache.clear":
            return {"removed": await asyncio.to_thread(self.store.clear)}
        if kind == "models.list":
            return {"models": await asyncio.to_thread(self._models)}
        if kind in ("review.paper", "review.section", "review.sections"):
            return await self._review(peer, request_id, kind, params)
        if kind in SESSION_REQUESTS:  # open projects, buffers, subscriptions (sessions.py)
            return await self.sessions.handle(peer, request_id, kind, params)
        if kind in coauthor.REQUEST_TYPES:  # drafts, plans, rubrics (engine/coauthor.py)
            return await coauthor.handle(self, peer, request_id, kind, params)
        raise RequestFailed("bad-request", f"unknown request type {kind!r}")

    def status(self) -> dict[str, Any]:
        assert self.scheduler is not None
        return {
            "version": version("papercycle"),
            "protocol": protocol.VERSION,
            "pid": os.getpid(),
            "uptime": round(time.time() - self.started, 1),
            "endpoint": self.endpoint,
            "config": str(self.paths.config_file),
            "models": self.registry.status(),
            "configured": sorted(self.current_config().models),
            "queue": self.scheduler.status(),
            "clients": len(self.last_seen),
            "requests": self.requests,
            "bad_messages": self.bad_messages,
            "memory_budget_mb": self.config.daemon.memory_budget_mb,
            "cache": self.store.stats(),
            "prompt_tokens_evaluated": self.registry.prompt_tokens_evaluated(),
            "kv_states": self.registry.kv_states(),
            "projects": self.sessions.status(),
        }

    def _models(self) -> list[dict[str, Any]]:
        out = []
        loaded = {m["name"]: m for m in self.registry.status()}
        for model in self.current_config().models.values():
            entry: dict[str, Any] = {**model.to_toml(), "loaded": model.name in loaded}
            try:
                check_model(model)
                entry["ok"] = True
            except ModelError as error:
                entry["ok"], entry["error"] = False, str(error)
            out.append(entry)
        return out

    def _mtime(self) -> float | None:
        try:
            return self.paths.config_file.stat().st_mtime
        except OSError:
            return None

    def current_config(self) -> Config:
        """The user configuration, re-read when the file changed (`papercycle models add`)."""
        mtime = self._mtime()
        if mtime != self._config_mtime:
            try:
                fresh = Config.load(self.paths.config_file)
            except ConfigError as error:
                log.warning("configuration not reloaded: %s", error)
            else:
                self.config.models = fresh.models
                self.config.review = fresh.review
                self.config.trusted = fresh.trusted
                self._config_mtime = mtime
        return self.config

    async def _review(self, peer: bytes, request_id: str, kind: str, params: dict) -> dict:
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise RequestFailed("bad-request", "a review needs 'path' (a .tex file or directory)")
        priority_name = params.get("priority", DEFAULT_PRIORITY[kind])
        if priority_name not in PRIORITIES:
            raise RequestFailed(
                "bad-request", f"priority {priority_name!r} is not one of {list(PRIORITIES)}"
            )
        buffers = params.get("buffers") or {}
        if not isinstance(buffers, dict):
            raise RequestFailed("bad-request", "'buffers' must map file paths to their text")
        project = await asyncio.to_thread(self._project, path, buffers)
        try:
            config = self.current_config().with_project(project.root_dir)
            wanted = params.get("model")
            if kind == "review.paper" and params.get("mode", "standard") != "sections":
                model = config.model_for(wanted, "reviewer")
            else:
                model = config.model_for(wanted, "reviewer", fmt="section")
        except ConfigError as error:
            raise RequestFailed("model", str(error)) from None
        result = await self._review_with(
            peer, request_id, kind, params, project, model, priority_name
        )
        # a project's own [[models]] ignored (an untrusted folder): the user hears it here
        return {**result, "warnings": [*config.warnings, *result.get("warnings", [])]}

    async def _review_with(self, peer, request_id, kind, params, project, model, priority_name):
        """The review itself, once the project and its model are known."""
        priority = PRIORITIES[priority_name]
        whole = kind == "review.paper" and params.get("mode", "standard") != "sections"
        if not whole and any(params.get(name) is not None for name in aiscientist_run.PARAMS):
            raise RequestFailed(
                "bad-request", "reflections, ensemble and few_shot apply to whole-paper reviews"
            )
        try:
            options = aiscientist_run.read_options(params)
            aiscientist_run.check_model(options, model)
        except engine.ReviewError as error:
            raise RequestFailed(error.code, str(error)) from None
        if whole and not options.plain:  # the AI Scientist's rounds (engine/aiscientist_run.py)
            return await aiscientist_run.run(
                self,
                peer,
                request_id,
                project,
                model,
                priority,
                options,
                params.get("mode", "standard"),
            )
        if (
            kind == "review.paper"
            and params.get("mode") == "best"
            and model.format == "deepreviewer"
        ):
            return await coauthor.best_mode(self, peer, request_id, project, model, priority)
        if kind == "review.paper" and params.get("mode", "standard") != "sections":
            request = await self._prepare(
                engine.prepare_paper, project, model, params.get("mode", "standard")
            )
            return await self._generate(peer, request_id, project, request, priority)
        if kind == "review.section":
            selector = params.get("section")
            if selector is None:
                raise RequestFailed(
                    "bad-request",
                    "review.section needs 'section' (number, title or {path, offset})",
                )
            try:
                part = engine.find_section(project, selector)
            except engine.ReviewError as error:
                raise RequestFailed(error.code, str(error)) from None
            request = await self._prepare(engine.prepare_section, project, model, part)
            return await self._generate(peer, request_id, project, request, priority)
        parts = engine.reviewable_sections(project)
        done: dict[int, dict] = {}
        skipped: dict[int, dict] = {}  # sections whose text does not fit the model's context
        for index, (at, part) in enumerate(_cursor_first(project, parts, params.get("cursor")), 1):
            request = await self._prepare(engine.prepare_section, project, model, part)
            try:
                result = await self._generate(peer, request_id, project, request, priority)
            except RequestFailed as error:
                if "too_long" not in error.data:
                    raise
                # one section too long must not cost the others their review
                skipped[at] = {
                    "section": shown_name(part.node),
                    "message": str(error),
                    **error.data["too_long"],
                }
                continue
            done[at] = result
            await self._send(
                peer,
                protocol.event(
                    request_id, "partial", {"index": index, "of": len(parts), "result": result}
                ),
            )
        results = [done[at] for at in sorted(done)]  # reading order
        if skipped and not results:
            first = skipped[min(skipped)]
            raise RequestFailed(
                "model",
                f"no section fits the context of model {model.name!r}: {first['message']}",
                skipped=[skipped[at] for at in sorted(skipped)],
            )
        return {
            "kind": "sections",
            "skipped": [skipped[at] for at in sorted(skipped)],
            "model": model.name,
            "format": "section",
            "sections": results,
            "scores": {},
            "decision": None,
            "comments": [c for r in results for c in r["comments"]],
            "hidden": engine.hidden_findings(project),
            "simulated": coauthor.simulated.findings(project),
            "removed_instructions": sorted({s for r in results for s in r["removed_instructions"]}),
            "warnings": [w for r in results for w in r["warnings"]],
            "complete": all(r["complete"] for r in results),
            "cached": all(r["cached"] for r in results),
        }

    def _project(self, path: str, buffers: dict[str, str]) -> Project:
        # A fresh project per request (a few ms: parsed files are cached by content digest),
        # so each review reads one consistent version of the text.
        try:
            project = Project.build(Path(path))
        except ProjectError as error:
            raise RequestFailed("project", str(error)) from None
        for file, text in buffers.items():
            if isinstance(text, str):
                project.update(file, text)
        return project

    async def _prepare(self, prepare, project: Project, model, target) -> engine.GenerationRequest:
        try:
            return await asyncio.to_thread(prepare, project, model, target)
        except engine.ReviewError as error:
            raise RequestFailed(error.code, str(error)) from None
        except ModelError as error:
            raise RequestFailed("model", str(error)) from None

    async def _generate(
        self,
        peer: bytes,
        request_id: str,
        project: Project,
        request: engine.GenerationRequest,
        priority: int,
        finish=None,  # (project, request, output) -> result; default: a review's
    ) -> dict:
        finish = finish or coauthor.finish_review
        cached = await asyncio.to_thread(self.store.get, request.key)
        if cached is not None:
            output, info = cached
            result = await asyncio.to_thread(finish, project, request, output)
            # a cut answer read back is still cut: marked incomplete, never served as whole
            return {
                **completeness.mark(result, info, request.model),
                "cached": True,
                "generation": info,
            }
        assert self.scheduler is not None
        try:
            await asyncio.to_thread(engine.check_context, request, self.registry.count_tokens)
        except engine.ReviewError as error:
            raise RequestFailed(error.code, str(error), **error.data) from None
        except ModelError as error:
            raise RequestFailed("model", str(error)) from None
        key = (peer, request_id)
        entry = self.active.get(key)
        if entry is None:
            raise asyncio.CancelledError

        def sink(event: str, data: dict[str, Any]) -> None:
            self._spawn(self._send(peer, protocol.event(request_id, event, data)))

        try:
            job = self.scheduler.submit(request, priority, key, sink)
        except Busy as error:
            raise RequestFailed("busy", str(error), queue=self.scheduler.status()) from None
        entry["job"] = job
        assert job.done is not None
        try:
            generation = await asyncio.shield(job.done)
        except ModelError as error:
            raise RequestFailed("model", str(error)) from None
        except GenerationError as error:
            raise RequestFailed("model", f"model {request.model.name!r}: {error}") from None
        finally:
            entry["job"] = None
        if generation.finish == "cancelled" or entry.get("cancelled") is job:
            raise RequestFailed(
                "cancelled",
                job.cancel.reason or "cancelled",
                tokens=generation.tokens,
                tokens_after_cancel=job.cancel.tokens_after_cancel,
            )
        info = generation.info()
        await asyncio.to_thread(
            self.store.put, request.key, request.model.name, request.kind, generation.text, info
        )
        result = await asyncio.to_thread(finish, project, request, generation.text)
        return {
            **completeness.mark(result, info, request.model),
            "cached": False,
            "generation": info,
        }


def _cursor_first(
    project: Project, parts: list[SectionSlice], cursor: Any
) -> list[tuple[int, SectionSlice]]:
    """(reading position, section) in review order: the section under the editor's cursor
    first (the one being written, whose comments the author waits for), then reading order."""
    order = list(enumerate(parts))
    if not isinstance(cursor, dict):
        return order
    try:
        first = engine.find_section(project, cursor)
    except (engine.ReviewError, ValueError, TypeError, KeyError, IndexError):
        return order  # outside every section (preamble, a file not in the project)
    return sorted(order, key=lambda item: item[1].node.original is not first.node.original)


def _token_matches(sent: Any, token: str) -> bool:
    """Compares bytes: hmac.compare_digest raises TypeError on a non-ASCII str."""
    if not isinstance(sent, str):
        return False
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), token.encode("utf-8", "surrogatepass")
    )


def _request_id(payload: bytes) -> str | None:
    """The id of a request whose handling failed, when it can be read back at all."""
    try:
        request_id = json.loads(payload).get("id")
    except Exception:  # the frame is what failed: any reason means no id to answer
        return None
    return request_id if isinstance(request_id, str) and 0 < len(request_id) <= 128 else None
