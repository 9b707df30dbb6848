"""One generation at a time on this machine, most urgent first, never the same work twice.

- Priorities: an interactive request (the user asked and waits) before an on-save section
  review before a background full review. Generation is not preempted: a higher priority job
  runs next, when the current decode finishes or is cancelled.
- Coalescing: a request whose cache key equals a queued or running job's joins that job and
  gets the same events and result; the job is cancelled only when its last subscriber leaves.
- Cancellation sets the job's flag, which the decoding thread reads after every token.
- The queue is bounded: beyond `max_queue` waiting jobs, `submit` raises Busy.
- Jobs for an OpenAI-compatible endpoint run beside the local one, up to its model's
  `max_parallel` at once: the server batches them.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from papercycle.daemon.engine.review_units import shown_name
from papercycle.daemon.models.backend import Cancellation, Generation
from papercycle.daemon.models.request import GenerationRequest

log = logging.getLogger("papercycle.daemon.scheduler")

PRIORITIES = {"interactive": 0, "save": 1, "background": 2}


class Busy(RuntimeError):
    pass


def remote(job: Job) -> bool:
    return job.request.model.backend == "http"


EventSink = Callable[[str, dict[str, Any]], None]


@dataclass
class Job:
    number: int
    key: str
    priority: int
    request: GenerationRequest
    cancel: Cancellation = field(default_factory=Cancellation)
    subscribers: dict[Any, EventSink] = field(default_factory=dict)
    state: str = "queued"  # queued, running, done
    created: float = field(default_factory=time.monotonic)
    started: float | None = None
    done: asyncio.Future | None = None
    tokens: int = 0
    yields: int = 0  # times it gave way to more urgent work (background jobs)
    prompt_evaluated: int = 0  # prompt tokens evaluated before its yields
    written: str = ""  # what it wrote before its yields (it continues after it)
    written_tokens: int = 0

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        for sink in list(self.subscribers.values()):
            sink(kind, data)

    def describe(self) -> dict[str, Any]:
        request = self.request
        return {
            "job": self.number,
            "kind": request.kind,
            "model": request.model.name,
            "section": shown_name(request.section.node) if request.section else None,
            "priority": next(k for k, v in PRIORITIES.items() if v == self.priority),
            "state": self.state,
            "clients": len(self.subscribers),
            "tokens": self.tokens,
            "waited": round((self.started or time.monotonic()) - self.created, 2),
        }


class Scheduler:
    def __init__(self, registry: Any, max_queue: int) -> None:
        self.registry = registry
        self.max_queue = max_queue
        self._heap: list[tuple[int, int, Job]] = []
        self._jobs: dict[str, Job] = {}  # by key, while queued or running
        self._counter = itertools.count(1)
        self._wake = asyncio.Event()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="generate")
        # jobs on OpenAI-compatible endpoints wait on the network, not on this machine: up to
        # their model's max_parallel run at once beside the local one (http_backend.py)
        self._remote_executor = ThreadPoolExecutor(32, thread_name_prefix="remote")
        self._tasks: set[asyncio.Task] = set()
        self.running: Job | None = None  # on a local model
        self.remote: list[Job] = []
        self.completed = 0
        self._stopping = False

    @property
    def queued(self) -> list[Job]:
        return sorted(
            (j for j in self._jobs.values() if j.state == "queued"),
            key=lambda j: (j.priority, j.number),
        )

    def submit(
        self, request: GenerationRequest, priority: int, subscriber: Any, sink: EventSink
    ) -> Job:
        job = self._jobs.get(request.key)
        if job is not None and not job.cancel.cancelled:
            job.subscribers[subscriber] = sink
            if job.state == "queued" and priority < job.priority:
                job.priority = priority
                heapq.heappush(self._heap, (priority, job.number, job))
            sink("queued", {"position": self._position(job), "coalesced": True, **job.describe()})
            return job
        waiting = len(self.queued)
        if waiting >= self.max_queue:
            running = self.running.describe() if self.running else None
            raise Busy(
                f"daemon busy: {waiting} reviews are waiting (limit {self.max_queue}); "
                f"running: {running['kind'] + ' review with ' + running['model'] if running else 'none'}"
                "; try again later"
            )
        job = Job(next(self._counter), request.key, priority, request)
        job.done = asyncio.get_running_loop().create_future()
        job.subscribers[subscriber] = sink
        self._jobs[request.key] = job
        heapq.heappush(self._heap, (priority, job.number, job))
        sink("queued", {"position": self._position(job), "coalesced": False, **job.describe()})
        self._wake.set()
        return job

    def _position(self, job: Job) -> int:
        """How many jobs run before this one (the running one included)."""
        ahead = [j for j in self.queued if (j.priority, j.number) < (job.priority, job.number)]
        return len(ahead) + (1 if self.running is not None and self.running is not job else 0)

    def unsubscribe(self, job: Job, subscriber: Any, reason: str = "cancelled") -> None:
        """A client left or cancelled: the job stops when nobody waits for it any more."""
        job.subscribers.pop(subscriber, None)
        if not job.subscribers and job.state != "done":
            self._cancel(job, reason)

    def _forget(self, job: Job) -> None:
        """The job no longer answers for its key. Only if it still does: a job cancelled while
        running keeps running to its next token, and a request for the same key submitted
        meanwhile is a new job that must stay findable."""
        if self._jobs.get(job.key) is job:
            del self._jobs[job.key]

    def _cancel(self, job: Job, reason: str) -> None:
        job.cancel.cancel(reason)
        if job.state == "queued":
            job.state = "done"
            self._forget(job)
            if job.done is not None and not job.done.done():
                job.done.set_result(Generation("", None, 0, "cancelled", 0.0))

    def cancel_all(self, reason: str) -> None:
        self._stopping = True
        for job in list(self._jobs.values()):
            self._cancel(job, reason)
        self._wake.set()

    async def run(self) -> None:
        try:
            while not self._stopping:
                job = self._next()
                if job is None:
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                if remote(job):
                    self.remote.append(job)
                else:
                    self.running = job
                self._tasks.add(task := asyncio.create_task(self._run(job)))
                task.add_done_callback(self._tasks.discard)
        finally:
            # stopping: the generating threads end at their next token (their jobs were
            # cancelled); `shutdown` waits for them
            for task in list(self._tasks):
                task.cancel()

    async def _run(self, job: Job) -> None:
        loop = asyncio.get_running_loop()
        job.state = "running"
        job.started = time.monotonic()
        job.emit("started", job.describe())
        executor = self._remote_executor if remote(job) else self._executor
        try:
            result: Any = await loop.run_in_executor(executor, self._generate, job, loop)
        except Exception as error:  # reported to every subscriber by the server
            log.warning("job %s failed: %s", job.number, error)
            result = error
        finally:
            if remote(job):
                self.remote.remove(job)
            else:
                self.running = None
            self._wake.set()  # its slot is free
        if (
            isinstance(result, Generation)
            and result.finish == "yielded"
            and not job.cancel.cancelled
            and not self._stopping
        ):
            # a background job gave way to more urgent work: back in the queue; its
            # evaluated prompt prefix waits in a saved KV state
            job.state = "queued"
            job.yields += 1
            job.prompt_evaluated += result.prompt_evaluated or 0
            job.written += result.text
            job.written_tokens += result.tokens
            heapq.heappush(self._heap, (job.priority, job.number, job))
            job.emit("queued", {"position": self._position(job), "yielded": True, **job.describe()})
            return
        if isinstance(result, Generation) and result.finish == "yielded":
            result.finish = "cancelled"  # cancelled (or stopping) while it gave way
        if isinstance(result, Generation) and job.prompt_evaluated:
            result.prompt_evaluated = (result.prompt_evaluated or 0) + job.prompt_evaluated
        if isinstance(result, Generation) and job.written:
            result.text = job.written + result.text
            result.tokens += job.written_tokens
        job.state = "done"
        self.completed += 1
        self._forget(job)
        if job.done is not None and not job.done.done():
            if isinstance(result, Exception):
                job.done.set_exception(result)
            else:
                job.done.set_result(result)

    def _urgent_waiting(self, job: Job) -> bool:
        """(From the worker thread) a queued job more urgent than `job`."""
        return any(
            j.state == "queued" and j.priority < job.priority and not j.cancel.cancelled
            for j in list(self._jobs.values())
        )

    def _next(self) -> Job | None:
        """The most urgent queued job that can start now: a local model's when none runs, an
        endpoint's while it has fewer than its `max_parallel` requests in flight."""
        waiting = []
        chosen = None
        while self._heap:
            item = heapq.heappop(self._heap)
            priority, _, job = item
            if job.state != "queued" or priority != job.priority:
                continue  # done, or pushed again at a higher priority
            if self._can_start(job):
                chosen = job
                break
            waiting.append(item)
        for item in waiting:
            heapq.heappush(self._heap, item)
        return chosen

    def _can_start(self, job: Job) -> bool:
        if not remote(job):
            return self.running is None
        model = job.request.model
        sent = sum(1 for j in self.remote if j.request.model.url == model.url)
        return sent < max(1, model.max_parallel)

    def _generate(self, job: Job, loop: asyncio.AbstractEventLoop) -> Generation:
        """In the worker thread: load (if needed) and decode, streaming tokens to the loop."""

        def post(kind: str, data: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(job.emit, kind, data)

        def on_token(text: str) -> None:
            job.tokens += 1
            loop.call_soon_threadsafe(job.emit, "token", {"text": text, "n": job.tokens})

        if job.cancel.cancelled:
            return Generation("", None, 0, "cancelled", 0.0)
        if job.priority == PRIORITIES["background"]:
            job.cancel.should_yield = lambda: self._urgent_waiting(job)
        request = job.request
        settings, resume = request.settings, {}
        if job.written:  # it gave way mid-answer: the rest of its answer, within its budget
            left = int(settings.get("max_tokens", 512)) - job.written_tokens
            settings = {**settings, "max_tokens": max(1, left)}
            resume = {"written": job.written}
        entry = self.registry.acquire(request.model, post)
        try:
            return entry.backend.generate(
                request.prompt,
                request.messages,
                settings,
                request.grammar,
                on_token,
                job.cancel,
                post,
                **resume,
            )
        finally:
            self.registry.release(entry)

    def status(self) -> dict[str, Any]:
        return {
            "running": self.running.describe() if self.running else None,
            "remote": [j.describe() for j in self.remote],
            "queued": [j.describe() for j in self.queued],
            "max_queue": self.max_queue,
            "completed": self.completed,
        }

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._remote_executor.shutdown(wait=True, cancel_futures=True)
