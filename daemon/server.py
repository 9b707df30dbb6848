"""The daemon's ZeroMQ service: a ROUTER socket, one JSON message per frame (PROTOCOL.md).

Every request is answered by events and then exactly one result or error. A malformed or
oversized message gets an error (and a log line); nothing a client sends stops the service.
A client that disappears (its socket closed: sends to it fail; or silent longer than the
heartbeat timeout) loses its subscriptions, and a job nobody waits for is cancelled.

This module is the transport only: a checked request (request_fields.py) is parsed into its
typed request (requests.py) and answered by its handler (handlers/), whose generations take
the one road (jobs.py); its typed result (results.py) becomes the wire's `data` here, in
`_answer`, and the errors it fails with become protocol errors here too, through failures.py
(PROTOCOL.md, "Inside the daemon").
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
from typing import Any

import zmq
import zmq.asyncio
from papercycle.daemon import protocol, request_fields, requests, results
from papercycle.daemon.config import Config, ConfigError
from papercycle.daemon.failures import failure
from papercycle.daemon.handlers import HANDLERS, Context
from papercycle.daemon.jobs import Channel, Jobs
from papercycle.daemon.models.registry import Registry
from papercycle.daemon.paths import Paths
from papercycle.daemon.scheduler import Scheduler
from papercycle.daemon.sessions import Sessions
from papercycle.daemon.store import Store

log = logging.getLogger("papercycle.daemon")


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
        self.jobs = Jobs(self.store, self.registry, self.current_config)  # the generation road
        self.sessions = Sessions(self.jobs, self)  # open projects: watching, incremental reviews

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
        self.jobs.scheduler = self.scheduler
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
            await self.send(
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
                    self.spawn(self.send(peer, answer))

    def _handle(self, peer: bytes, payload: bytes) -> None:
        limit = self.config.daemon.max_message_bytes
        try:
            message = protocol.decode_request(payload, limit)
        except protocol.ProtocolError as error:
            self.bad_messages += 1
            log.warning("bad message (%s): %s", error.code, error)
            self.spawn(self.send(peer, protocol.error(error.request_id, error.code, str(error))))
            return
        request_id = message["id"]
        if self.token is not None and not _token_matches(message.get("token"), self.token):
            self.bad_messages += 1
            log.warning("request without a valid token refused")
            self.spawn(
                self.send(peer, protocol.error(request_id, "auth", "missing or wrong token"))
            )
            return
        self.requests += 1
        kind = message["type"]
        problem = request_fields.check(kind, message["params"])
        if problem is not None:  # a wrong type answers here, naming the field, never `internal`
            self.bad_messages += 1
            log.warning("bad %s request: %s", kind, problem)
            self.spawn(self.send(peer, protocol.error(request_id, "bad-request", problem)))
            return
        if kind == "ping":  # heartbeats are answered inline, never queued behind anything
            self.spawn(self._result(peer, request_id, results.Pong(pong=time.time())))
            return
        if kind == "cancel":
            self.spawn(self._cancel(peer, request_id, message["params"]))
            return
        key = (peer, request_id)
        if key in self.active:
            self.spawn(
                self.send(peer, protocol.error(request_id, "bad-request", "duplicate request id"))
            )
            return
        entry: dict[str, Any] = {"job": None}
        self.active[key] = entry
        entry["task"] = self.spawn(self._answer(peer, request_id, kind, message["params"]))

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def send(self, peer: bytes, message: dict[str, Any]) -> bool:
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
                await self.send(
                    peer, protocol.error(target, "cancelled", "cancelled by the client")
                )
        await self._result(peer, request_id, results.Cancelled(cancelled=found))

    # -- requests ----------------------------------------------------------------------------

    async def _answer(self, peer: bytes, request_id: str, kind: str, params: dict) -> None:
        """Runs the request's handler and sends its result, or the protocol error it failed
        with: the one place where the libraries' errors become protocol errors."""
        key = (peer, request_id)
        try:
            channel = Channel(peer, request_id, self, self.active)
            context = Context(channel, self.jobs, self.sessions, self.endpoint, self.status)
            answer = await HANDLERS[kind](context, requests.parse(kind, params))
            await self._result(peer, request_id, answer)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failed = failure(error)
            if failed is None:
                log.exception("request %s (%s) failed", request_id, kind)
                failed = protocol.RequestFailed("internal", f"{type(error).__name__}: {error}")
            await self.send(
                peer, protocol.error(request_id, failed.code, str(failed), **failed.data)
            )
        finally:
            self.active.pop(key, None)
            if kind == "shutdown":
                self.request_stop()

    async def _result(self, peer: bytes, request_id: str, answer: Any) -> None:
        """A typed result (results.py) sent as the request's `result`: the one place where
        answers take their wire form."""
        await self.send(peer, protocol.result(request_id, results.wire(answer)))

    def status(self) -> results.Status:
        assert self.scheduler is not None
        return results.Status(
            version=version("papercycle"),
            protocol=protocol.VERSION,
            pid=os.getpid(),
            uptime=round(time.time() - self.started, 1),
            endpoint=self.endpoint,
            config=str(self.paths.config_file),
            models=self.registry.status(),
            configured=sorted(self.current_config().models),
            queue=self.scheduler.status(),
            clients=len(self.last_seen),
            requests=self.requests,
            bad_messages=self.bad_messages,
            memory_budget_mb=self.config.daemon.memory_budget_mb,
            cache=results.CacheStats(**self.store.stats()),
            prompt_tokens_evaluated=self.registry.prompt_tokens_evaluated(),
            kv_states=self.registry.kv_states(),
            projects=self.sessions.status(),
        )

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
