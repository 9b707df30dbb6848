"""A review job (`review:ROOT`, started by a save, the debounce or a review command): push the
buffers to the project's open project in the daemon, ask for the whole paper when wanted, and
report progress until the daemon says the project is idle, its events applied meanwhile by
project_events.py. `reviewMode` fast / best and the AI Scientist's rounds: the server sends
`review.paper` itself once the sections are done."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from papercycle.daemon.client import DaemonError
from papercycle.lsp.failures import outcome
from papercycle.lsp.findings import from_result
from papercycle.lsp.progress import Progress
from papercycle.lsp.project_events import notify, refresh_lenses
from papercycle.lsp.projects import OpenProject, own_paper_review
from papercycle.lsp.publish import publish_project
from papercycle.lsp.results import ProjectStatus, ReviewResult

if TYPE_CHECKING:
    from papercycle.lsp.session import PapercycleServer

POLL_S = 2.0  # how often a review job asks the daemon whether the project is idle


async def review(ls: PapercycleServer, path: Path, paper: bool, push_all: bool = False) -> None:
    """The job `review:ROOT`: push the buffer of `path` (every changed open buffer of the
    project with `push_all`), ask for the whole paper when `paper`, and report progress
    until the daemon has nothing left to do for the project."""
    outline = await ls.refresh_outline(path)
    if outline is None:
        return
    publish_project(ls, path)
    if ls.link is None:
        return
    root = outline.root_path
    progress = Progress(ls, "papercycle: reviewing", on_cancel=lambda: ls.projects.stop(root))
    await progress.begin("waiting for the daemon")
    op: OpenProject | None = None
    try:
        op = await push(ls, root, path, paper, push_all)
        op.progress = progress
        await settle(ls, op)
        mode = ls.settings.review_mode
        if op.client is not None and own_paper_review(ls.settings):
            await paper_review(ls, root, mode, "interactive" if paper else "background")
        progress.end(outcome(op) if op.client is not None else "the daemon stopped")
    except asyncio.CancelledError:
        progress.end("cancelled")
        raise
    except TimeoutError:
        progress.end("the daemon is not reachable")
        ls.message(
            "papercycle: the daemon is not reachable; reviews resume when it is back",
            types.MessageType.Warning,
            once=True,
        )
    except DaemonError as error:
        progress.end(error.message)
        if error.code != "gone":
            ls.message(
                f"papercycle: review failed: {error.message}",
                types.MessageType.Warning,
                once=True,
            )
    finally:
        if op is not None and op.progress is progress:
            op.progress = None


async def push(
    ls: PapercycleServer, root: Path, path: Path, paper: bool, push_all: bool
) -> OpenProject:
    """Open the project if need be (with every buffer), else push the buffer of `path`
    (every changed one with `push_all`); `project.review` when `paper`."""
    projects = ls.projects
    for attempt in (1, 2):
        op, opened = await projects.ensure(root)
        try:
            if not opened:
                docs = projects.docs_of(root) if push_all else [ls.docs.by_path(path)]
                for doc in docs:
                    if doc is None or (push_all and op.pushed.get(doc.path) == doc.version):
                        continue
                    cursor = projects.cursor(root)
                    await projects.call(
                        op,
                        "project.buffer",
                        {
                            "path": str(doc.path),
                            "text": doc.text,
                            "version": doc.version,
                            **({"cursor": cursor} if cursor else {}),
                        },
                    )
                    op.pushed[doc.path] = doc.version
            if paper and not own_paper_review(ls.settings):
                op.paper_busy = True
                await projects.call(op, "project.review", {})
            return op
        except DaemonError as error:
            if error.code != "project" or attempt == 2:
                raise
            op.client = None  # closed in the daemon under us (idle, forced): open again
    raise AssertionError("unreachable")


async def paper_review(ls: PapercycleServer, root: Path, mode: str, priority: str) -> None:
    """`reviewMode` fast / best, or the AI Scientist's rounds (`aiScientist` settings): the
    daemon's open projects review the whole paper with one answer in its standard mode
    only, so the server asks for this one itself (`review.paper`), after the sections, as
    before open projects."""
    op = ls.projects.open.get(root)
    if op is not None:
        op.paper_busy = True
        op.report_progress()
    # the AI Scientist's rounds, as set (a reviewer of another format: the daemon says no)
    params = {**ls.request_params(root, priority), "mode": mode, **ls.settings.ai_scientist}
    if ls.settings.model_for("reviewer"):
        params["model"] = ls.settings.model_for("reviewer")
    versions = ls.versions()
    assert ls.link is not None  # a review job runs once the link exists
    try:
        answer = await ls.link.stream("review.paper", params)
    finally:
        if op is not None:
            op.paper_busy = False
    result = ReviewResult.from_wire(answer)
    reviews = ls.reviews_for(root)
    reviews.paper = result
    reviews.paper_from_project = False
    reviews.paper_findings = from_result(result, versions, ls.title_of(root))
    notify(ls, result, f"the {mode} paper review")
    publish_project(ls, root)
    refresh_lenses(ls)


async def settle(ls: PapercycleServer, op: OpenProject) -> None:
    """Until the daemon says the project is idle (every changed section and the paper
    review done), its events applied."""
    polled = 0.0
    while op.client is not None:
        if not op.todo or time.monotonic() - polled > POLL_S:
            polled = time.monotonic()
            status = ProjectStatus.from_wire(await ls.projects.call(op, "project.status", {}))
            # events sent before the answer are queued before it: let them be applied
            for _ in range(3):
                await asyncio.sleep(0)
            op.paper_busy = op.paper_busy or status.paper_running
            if status.idle:
                op.todo.clear()
                op.paper_busy = False
                return
        op.report_progress()
        op.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(op.wake.wait(), POLL_S)
