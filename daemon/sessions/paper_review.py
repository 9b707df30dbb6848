"""An open project's whole-paper review: run in the background (scheduler priority
`background`, below every section and interactive request) when the paper changed "enough"
(`[daemon] paper_review_threshold` of its words, or a section added or removed) or on
`project.review`; its comments re-anchored in every new revision like the sections'."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING, Any

from papercycle.daemon.engine import completeness, incremental, review
from papercycle.daemon.jobs import Background
from papercycle.daemon.project_errors import PAPER
from papercycle.daemon.scheduler import PRIORITIES, Job

if TYPE_CHECKING:
    from papercycle.daemon.sessions.session import Session

log = logging.getLogger("papercycle.daemon.sessions")


class PaperReview:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.last: dict[str, Any] | None = None  # request, output, info, revision, baseline
        self.event: dict[str, Any] | None = None  # the last `paper` event, for late subscribers
        self.task: asyncio.Task | None = None
        self.wanted = False  # asked for (project.review) whatever changed
        self.job: tuple[Job, Any] | None = None  # the running generation, for close

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def maybe(self, requested: bool = False) -> None:
        """Start the review loop unless it runs, when wanted or in `auto` mode."""
        if requested:
            self.wanted = True
        if self.session.paper_mode == "off" and not self.wanted:
            return
        if self.task is None or self.task.done():
            self.task = self.session.transport.spawn(self._loop())

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        scheduler = self.session.jobs.scheduler
        if self.job is not None and scheduler is not None:
            scheduler.unsubscribe(self.job[0], self.job[1], "project closed")

    def _needed(self) -> bool:
        if self.wanted:
            return True
        if self.session.paper_mode != "auto":
            return False
        baseline = None if self.last is None else self.last["baseline"]
        threshold = float(self.session.jobs.config().daemon.paper_review_threshold)
        return incremental.needs_paper_review(baseline, self.session.units, threshold)

    def _error(self, error: Exception) -> None:
        session = self.session
        session.emit("error", {**session.stamp(), "section": "paper", "message": str(error)})

    async def _loop(self) -> None:
        session = self.session
        while self._needed():
            try:
                model = session.paper_model()
            except Exception as error:
                self._error(error)
                return
            if model.format == "section":
                self.wanted = False
                return  # no whole-paper reviewer configured
            self.wanted = False
            async with session.lock:
                try:
                    request = await asyncio.to_thread(
                        review.prepare_paper, session.project, model, "standard"
                    )
                except review.ReviewError as error:
                    self._error(error)
                    return
                baseline = {u.ident: u.body for u in session.units}
                revision = session.revision
            subscriber = ("session", session.id, "paper")

            def running(job: Job, subscriber: Any = subscriber) -> None:
                self.job = (job, subscriber)

            try:
                answer = await session.jobs.answer(
                    request, PRIORITIES["background"], Background(subscriber, running)
                )
            except Exception as error:
                self._error(error)
                return
            if answer.cancelled:
                # cancelled: by this project's close, or by the daemon stopping; said in the log
                # because an editor then shows sections without a paper review
                log.info("%s: whole-paper review cancelled before it answered", session.id)
                return
            session.counters["prompt_tokens_evaluated"] += answer.prompt_evaluated
            if not answer.cached:
                session.counters["paper_reviews"] += 1
            self.last = {
                "request": request,
                "output": answer.output,
                "info": answer.info,
                "cached": answer.cached,
                "revision": revision,
                "baseline": baseline,
            }
            session.errors.clear(PAPER)
            async with session.lock:
                await asyncio.to_thread(self.reanchor)

    def reanchor(self) -> None:
        """The `paper` event: the last review's result anchored in the current text."""
        if self.last is None:
            return
        last, session = self.last, self.session
        result = review.finish(session.project, last["request"], last["output"])
        result["comments"] = [
            {"id": f"paper/{i}/{hashlib.sha1(c['text'].encode()).hexdigest()[:10]}", **c}
            for i, c in enumerate(result["comments"])
        ]
        completeness.mark(result, last["info"], last["request"].model)
        result.update(cached=last["cached"], generation=last["info"])
        log.info(
            "%s: whole-paper review%s: %d comments",
            session.id,
            " (cached)" if last["cached"] else "",
            len(result["comments"]),
        )
        self.event = {**session.stamp(), "reviewed_revision": last["revision"], "result": result}
        session.emit("paper", self.event)

    def status(self) -> dict[str, Any] | None:
        if self.last is None:
            return None
        return {
            "reviewed_revision": self.last["revision"],
            "generation": self.last["info"],
            "cached": self.last["cached"],
        }
