"""An open project's section reviews: the sections that changed, reviewed one at a time (the
cursor's first, then reading order) at `save` priority through the daemon's road (jobs.py);
a section that changes again while it is being reviewed has that review cancelled
(superseded), and a failure is reported to subscribers (the session keeps it until the section succeeds)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import TYPE_CHECKING, Any

from papercycle.daemon.engine import incremental, review, review_units
from papercycle.daemon.failures import failure
from papercycle.daemon.jobs import Background
from papercycle.daemon.scheduler import PRIORITIES, Job
from papercycle.daemon.sessions import comments
from papercycle.daemon.sessions.comments import SectionReview

if TYPE_CHECKING:
    from papercycle.daemon.sessions.session import Session

log = logging.getLogger("papercycle.daemon.sessions")
_numbers = itertools.count(1)  # tells apart the scheduler subscribers of one section


class SectionQueue:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.todo: set[str] = set()
        self.current: tuple[str, str, Job | None, Any] | None = None  # ident, key, job, waiter
        self.worker: asyncio.Task | None = None

    def want(self, ident: str) -> None:
        self.supersede(ident)
        self.todo.add(ident)

    def drop(self, ident: str) -> None:
        self.todo.discard(ident)
        self.supersede(ident)

    def supersede(self, ident: str) -> None:
        """Stop the review of `ident` if it is the one running (its text changed)."""
        if self.current is not None and self.current[0] == ident:
            _, _, job, subscriber = self.current
            scheduler = self.session.jobs.scheduler
            if job is not None and scheduler is not None:
                self.session.counters["superseded"] += 1
                scheduler.unsubscribe(job, subscriber, "superseded by an edit")

    def kick(self) -> None:
        if self.worker is None or self.worker.done():
            self.worker = self.session.transport.spawn(self._work())

    @property
    def running(self) -> str | None:
        return self.current[0] if self.current else None

    @property
    def idle(self) -> bool:
        return (
            not self.todo and self.current is None and (self.worker is None or self.worker.done())
        )

    def close(self) -> None:
        self.todo.clear()
        if self.current:
            self.supersede(self.current[0])
        if self.worker is not None:
            self.worker.cancel()

    def _next(self) -> review_units.Unit | None:
        todo = [u for u in self.session.units if u.ident in self.todo]
        self.todo = {u.ident for u in todo}
        ordered = incremental.attention_order(todo, self.session.cursor)
        return ordered[0] if ordered else None

    async def _work(self) -> None:
        session = self.session
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
                failed = failure(error)
                code = failed.code if failed is not None else "internal"
                log.warning("section review of %s failed: %s", unit.ident, error)
                session.emit(
                    "error",
                    {**session.stamp(), "section": unit.ident, "code": code, "message": str(error)},
                )
            finally:
                self.current = None
        session.paper_review.maybe()

    async def _review(self, unit: review_units.Unit) -> None:
        session = self.session
        model = session.section_model()
        async with session.lock:
            request = await asyncio.to_thread(
                review.prepare_section, session.project, model, unit.part
            )
            revision = session.revision
        subscriber = ("session", session.id, unit.ident, next(_numbers))

        def running(job: Job) -> None:
            self.current = (unit.ident, request.key, job, subscriber)

        waiter = Background(subscriber, running)
        answer = await session.jobs.answer(request, PRIORITIES["save"], waiter)
        if answer.cancelled:
            return  # superseded (the unit is back in todo) or the daemon stops
        session.counters["prompt_tokens_evaluated"] += answer.prompt_evaluated
        session.counters["section_cached" if answer.cached else "section_reviews"] += 1
        async with session.lock:
            now = next((u for u in session.units if u.ident == unit.ident), None)
            if now is None or now.key != unit.key:
                return  # changed meanwhile: its new text is queued
            state = SectionReview(
                unit, request, answer.output, answer.info, answer.cached, revision
            )
            old = session.reviews.get(unit.ident)
            found = await asyncio.to_thread(comments.finish, session, state, now)
            if old is not None:
                state.comments = old.comments  # so the event says what was removed/updated
            session.reviews[unit.ident] = state
            session.errors.clear(unit.ident)
            comments.emit_comments(session, state, found)
