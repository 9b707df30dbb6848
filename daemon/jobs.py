"""The one road every generation takes in the daemon: project → prepare → cache → context check
→ scheduler → store → finish.

`Jobs` holds what that road needs (the cache store, the model registry, the scheduler and the
configuration, re-read when its file changes) and is handed to every request handler
(handlers/) and to every open project (sessions/). A handler builds the project, picks the
model (`model`: the one place a request's model is chosen), prepares a GenerationRequest with
an engine function (`prepare`) and calls `generate` with the request's `Channel` (where its
events go, and the job a cancel stops); an open project calls `answer` directly with a
`Waiter` of its own (its section reviews wait for room in a full queue, and a superseded one
ends quietly).

Errors are not translated here: ReviewError, ModelError, ConfigError and ProjectError rise to
whoever answers (failures.py turns them into protocol errors, in one place). The road itself
answers only what is its own: `busy` (the queue is full) and `cancelled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from papercycle.daemon import protocol
from papercycle.daemon.config import Config, ModelConfig
from papercycle.daemon.engine import completeness, review
from papercycle.daemon.models.backend import GenerationError
from papercycle.daemon.models.registry import ModelError, Registry
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.protocol import RequestFailed
from papercycle.daemon.scheduler import PRIORITIES, Busy, Job, Scheduler
from papercycle.daemon.store import Store
from papercycle.latex import Project

# (project, request, output) -> the request's result; the project is None for plans and grades
Finish = Callable[[Any, Any, str], dict[str, Any]]


class Transport(Protocol):
    """How messages reach clients (the server's socket)."""

    async def send(self, peer: bytes, message: dict[str, Any]) -> bool: ...

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task: ...


class Waiter(Protocol):
    """Who waits for a generation: the scheduler's subscriber key and event sink, told when
    its job is submitted and when it ended."""

    key: Any
    wait_when_busy: bool  # a full queue: wait for room (open projects) or answer `busy`

    def sink(self, event: str, data: dict[str, Any]) -> None: ...

    def submitted(self, job: Job) -> None: ...

    def ended(self, job: Job) -> None: ...

    def cancelled(self, job: Job | None) -> bool: ...


@dataclass
class Answer:
    """A generation's output, from the cache or the model."""

    output: str
    info: dict[str, Any]
    cached: bool
    job: Job | None = None
    cancelled: bool = False
    tokens: int = 0  # a cancelled generation's, for the `cancelled` error
    prompt_evaluated: int = 0


@dataclass
class Channel:
    """One client request: where its events go, and the server's record of it (the job a
    `cancel` stops; gone from `active` once the client cancelled it or went away)."""

    peer: bytes
    request_id: str
    transport: Transport
    active: dict[tuple[bytes, str], dict[str, Any]]
    wait_when_busy = False

    @property
    def key(self) -> tuple[bytes, str]:
        return (self.peer, self.request_id)

    async def event(self, kind: str, data: dict[str, Any]) -> None:
        await self.transport.send(self.peer, protocol.event(self.request_id, kind, data))

    def sink(self, event: str, data: dict[str, Any]) -> None:
        self.transport.spawn(self.event(event, data))

    def submitted(self, job: Job) -> None:
        entry = self.active.get(self.key)
        if entry is not None:
            entry["job"] = job

    def ended(self, job: Job) -> None:
        entry = self.active.get(self.key)
        if entry is not None:
            entry["job"] = None

    def cancelled(self, job: Job | None) -> bool:
        """True when the client cancelled this job (the generation may still have ended)."""
        entry = self.active.get(self.key)
        return job is not None and entry is not None and entry.get("cancelled") is job

    def gone(self) -> bool:
        return self.key not in self.active


@dataclass
class Background:
    """A generation nobody streams: an open project's review. It waits for room in a full
    queue rather than failing, and `on_job` is told its job (so an edit can supersede it)."""

    key: Any
    on_job: Callable[[Job], None]
    wait_when_busy = True

    def sink(self, event: str, data: dict[str, Any]) -> None:
        pass

    def submitted(self, job: Job) -> None:
        self.on_job(job)

    def ended(self, job: Job) -> None:
        pass

    def cancelled(self, job: Job | None) -> bool:
        return False  # only a job's own cancel (an edit superseded it) stops it


class Jobs:
    def __init__(self, store: Store, registry: Registry, config: Callable[[], Config]) -> None:
        self.store = store
        self.registry = registry
        self.config = config  # the current configuration (re-read when its file changed)
        self.scheduler: Scheduler | None = None  # made when the daemon serves

    # -- project and model ---------------------------------------------------------------------

    async def project(self, path: str, buffers: dict[str, str] | None) -> Project:
        """A fresh project per request (a few ms: parsed files are cached by content digest),
        so each review reads one consistent version of the text; buffers win over the disk."""

        def build() -> Project:
            project = Project.build(Path(path))
            for file, text in (buffers or {}).items():
                if isinstance(text, str):
                    project.update(file, text)
            return project

        return await asyncio.to_thread(build)

    def project_config(self, project_dir: Path | None) -> Config:
        return self.config().with_project(project_dir)

    def model(
        self, project_dir: Path | None, wanted: str | None, role: str, fmt: str | None = None
    ) -> ModelConfig:
        """The model a request runs: the named one; else, for a reviewer, the project's
        `[review] model` / `section_model` or the first reviewer (of format `fmt` when given);
        for a researcher or grader, `[review] researcher_model` / `grader_model`, else the
        first model of that role, else the default reviewer."""
        config = self.project_config(project_dir)
        if wanted or role == "reviewer":
            return config.model_for(wanted, role, fmt=fmt)
        chosen = config.review.get(f"{role}_model")
        if isinstance(chosen, str) and chosen:
            return config.model_for(chosen, role)
        of_role = [m for m in config.models.values() if m.role == role]
        if of_role:
            return of_role[0]
        return config.model_for(None, "reviewer")

    @staticmethod
    def priority(name: str) -> int:
        """A priority's rank (requests.py has each request's default; request_fields.py has
        already refused a name that is not one)."""
        return PRIORITIES[name]

    @staticmethod
    async def prepare(prepare: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """An engine function's GenerationRequest(s), built off the event loop."""
        return await asyncio.to_thread(prepare, *args, **kwargs)

    # -- the generation --------------------------------------------------------------------------

    async def answer(self, request: GenerationRequest, priority: int, waiter: Waiter) -> Answer:
        """The output of `request`: the cached one, or a generation through the scheduler
        (stored in the cache once done). `cancelled` when the job was stopped."""
        cached = await asyncio.to_thread(self.store.get, request.key)
        if cached is not None:
            output, info = cached
            return Answer(output, info, cached=True)
        # counting tokens costs more than a cached answer: only on a miss
        await asyncio.to_thread(review.check_context, request, self.registry.count_tokens)
        assert self.scheduler is not None
        while True:
            try:
                job = self.scheduler.submit(request, priority, waiter.key, waiter.sink)
                break
            except Busy as error:
                if not waiter.wait_when_busy:
                    raise RequestFailed("busy", str(error), queue=self.scheduler.status()) from None
                await asyncio.sleep(0.5)  # the queue is full of other clients' work
        waiter.submitted(job)
        assert job.done is not None
        try:
            generation = await asyncio.shield(job.done)
        except GenerationError as error:
            raise ModelError(f"model {request.model.name!r}: {error}") from None
        finally:
            waiter.ended(job)
        if generation.finish == "cancelled" or waiter.cancelled(job):
            return Answer(generation.text, {}, False, job, True, generation.tokens)
        info = generation.info()
        await asyncio.to_thread(
            self.store.put, request.key, request.model.name, request.kind, generation.text, info
        )
        return Answer(
            generation.text, info, False, job, prompt_evaluated=generation.prompt_evaluated or 0
        )

    async def generate(
        self,
        channel: Channel,
        project: Project | None,
        request: GenerationRequest,
        priority: int,
        finish: Finish = review.finish_review,
    ) -> dict[str, Any]:
        """A client request's generation, finished into its result; a cut answer (read back
        from the cache too) is marked incomplete, never served as whole."""
        if channel.gone():
            raise asyncio.CancelledError
        answer = await self.answer(request, priority, channel)
        job = answer.job
        if answer.cancelled:
            assert job is not None
            raise RequestFailed(
                "cancelled",
                job.cancel.reason or "cancelled",
                tokens=answer.tokens,
                tokens_after_cancel=job.cancel.tokens_after_cancel,
            )
        result = await asyncio.to_thread(finish, project, request, answer.output)
        return {
            **completeness.mark(result, answer.info, request.model),
            "cached": answer.cached,
            "generation": answer.info,
        }
