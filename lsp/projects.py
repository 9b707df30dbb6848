"""The server's open projects in the daemon (issue 6's incremental review).

Per project root the server holds one open project in the daemon (`project.open` with the
open buffers of that project, the cursor, the models, `paper: auto` when `reviewMode` is
`standard`, else `off`) and one long-lived `subscribe` stream. The daemon watches the
project's files, re-reviews only the sections whose text changed (a file changed outside the
editor too) and pushes the results as events, which project_events.py applies; a review job
(project_review.py) pushes buffers and follows them until the daemon is idle.

Buffers go to the daemon (`project.buffer`) on save, after the debounce (checkFrequency
`edit`) or on a review command (`manual`); a closed document goes back to the disk
(`text: null`); the last closed document of a project closes it (`project.close`). After the
daemon restarts, every project is opened again and subscribed again; the last results are
served meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from papercycle.daemon.client import Client, DaemonError, DaemonGone
from papercycle.lsp.documents import Document
from papercycle.lsp.progress import Progress
from papercycle.lsp.project_events import on_event
from papercycle.lsp.results import ProjectOpened
from papercycle.lsp.settings import Settings

if TYPE_CHECKING:  # the session holds the projects; it is never imported from here
    from papercycle.lsp.session import PapercycleServer

log = logging.getLogger("papercycle.lsp")

# review modes the daemon's open projects do not have (they review the paper in "standard")
OWN_PAPER_MODES = ("fast", "best")


def own_paper_review(settings: Settings) -> bool:
    """Whether the server asks for the whole-paper review itself (`review.paper`): a mode the
    open projects do not have, or the AI Scientist's rounds (only `review.paper` has them)."""
    return settings.review_mode in OWN_PAPER_MODES or (
        settings.review_mode == "standard" and bool(settings.ai_scientist)
    )


@dataclass
class OpenProject:
    root: Path  # the project's root file (the daemon's project id)
    ident: str = ""
    client: Client | None = None  # the daemon connection it is open on; None: not open there (now)
    subscription: asyncio.Task | None = None
    opening: asyncio.Task | None = None  # project.open + subscribe, shared by its callers
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # set by every event
    todo: set[str] = field(default_factory=set)  # section ids whose fresh review is awaited
    total: int = 0  # sections to review in the current round (progress)
    names: dict[str, str] = field(default_factory=dict)  # section id -> display name
    in_update: bool = False  # between `sections.changed` and `anchored`
    outline_stale: bool = False  # files changed on disk: the structure is read again
    paper_busy: bool = False  # a whole-paper review is running or asked for
    paper_revision: int = -1  # reviewed_revision of the last paper event
    paused: bool = False  # the user cancelled: not opened again until the next review
    retries: int = 0  # re-opened after the daemon closed it under us (reset by an event)
    pushed: dict[Path, int] = field(default_factory=dict)  # buffer versions the daemon has
    settings: dict[str, Any] = field(default_factory=dict)  # paper, model, section_model
    progress: Progress | None = None
    failed: dict[str, str] = field(default_factory=dict)  # section id|paper|project -> message

    @property
    def busy(self) -> bool:
        return bool(self.todo) or self.paper_busy

    def report_progress(self) -> None:
        """How far the review job following this project is (its `$/progress`, if any)."""
        progress = self.progress
        if progress is None:
            return
        if self.todo:
            done = max(0, self.total - len(self.todo))  # reviewed or failed
            failed = min(done, sum(1 for key in self.failed if key not in ("paper", "project")))
            progress.report(
                f"{done - failed}/{self.total} sections reviewed"
                + (f", {failed} failed" if failed else ""),
                int(100 * done / max(1, self.total)),
            )
        elif self.paper_busy:
            progress.report("reviewing the whole paper")


class Projects:
    def __init__(self, ls: PapercycleServer) -> None:
        self.ls = ls
        self.open: dict[Path, OpenProject] = {}

    # -- opening ------------------------------------------------------------------------

    def docs_of(self, root: Path) -> list[Document]:
        ls = self.ls
        return [doc for doc in ls.docs.by_uri.values() if ls.root_of(doc.path) == root]

    def cursor(self, root: Path) -> dict[str, Any] | None:
        cursor = self.ls.cursor
        if cursor is None or self.ls.root_of(cursor[0]) != root:
            return None
        return {"path": str(cursor[0]), "offset": cursor[1]}

    def open_params(self, root: Path) -> dict[str, Any]:
        settings = self.ls.settings
        params: dict[str, Any] = {
            "path": str(root),
            "buffers": {
                str(doc.path): {"text": doc.text, "version": doc.version}
                for doc in self.docs_of(root)
            },
            "paper": "auto"
            if settings.review_mode == "standard" and not own_paper_review(settings)
            else "off",
        }
        for key, role in (("model", "reviewer"), ("section_model", "section")):
            if settings.model_for(role):
                params[key] = settings.model_for(role)
        cursor = self.cursor(root)
        if cursor is not None:
            params["cursor"] = cursor
        return params

    async def ensure(self, root: Path) -> tuple[OpenProject, bool]:
        """The project open in the current daemon and subscribed to; (it, whether it was
        opened now: then the daemon has every open buffer). The opening itself is not
        cancelled with the caller (a project opened twice would need closing twice)."""
        op = self.open.get(root)
        if op is None:
            op = self.open[root] = OpenProject(root)
        if op.opening is None or op.opening.done():
            op.opening = self.ls.spawn(self._ensure(op))
        return await asyncio.shield(op.opening)

    async def _ensure(self, op: OpenProject) -> tuple[OpenProject, bool]:
        client = await self.ls.link.ready(60.0)
        params = self.open_params(op.root)
        wanted = {k: params.get(k) for k in ("paper", "model", "section_model")}
        if op.client is client and op.settings != wanted:
            # the models or reviewMode changed: the daemon keeps what a project was opened
            # with, so it is closed and opened again (unchanged sections come from the cache)
            with contextlib.suppress(DaemonError, TimeoutError):
                await client.request("project.close", {"project": op.ident}, timeout=10.0)
            op.client = None
        subscribed = op.subscription is not None and not op.subscription.done()
        if op.client is client and subscribed:
            return op, False
        opened = op.client is not client
        if opened:
            answer = await client.request("project.open", params, timeout=60.0)
            opened_as = ProjectOpened.from_wire(answer)
            for warning in opened_as.warnings:  # its own models ignored (untrusted)
                self.ls.message(f"papercycle: {warning}", types.MessageType.Warning, once=True)
            op.ident = opened_as.project or str(op.root)
            op.client = client
            op.settings = wanted
            op.pushed = {Path(p): b["version"] for p, b in params["buffers"].items()}
        if op.subscription is not None:
            op.subscription.cancel()
        op.paused = False
        op.subscription = self.ls.spawn(self.subscribe(op, client))
        return op, opened

    async def subscribe(self, op: OpenProject, client) -> None:
        closed_under_us = False
        try:
            await self.ls.link.stream_on(
                client, "subscribe", {"project": op.ident}, lambda e: on_event(self.ls, op, e)
            )
            closed_under_us = True  # the daemon closed the project (`closed: true`)
        except (DaemonError, TimeoutError) as error:
            log.info("subscription to %s ended: %s", op.ident, error)
            closed_under_us = getattr(error, "code", None) == "project"
        finally:
            if op.client is client:
                op.client = None  # opened again once a daemon is there
            op.todo.clear()
            op.paper_busy = False
            op.wake.set()
        # the daemon closed the project under us (another client closed it, or went away while
        # it was being opened): open it again, a few times at most
        if closed_under_us and op.retries < 3 and not op.paused and self.docs_of(op.root):
            op.retries += 1
            await asyncio.sleep(0.5 * op.retries)
            await self._reopen(op.root)

    def reopen_all(self) -> None:
        """A (new) daemon connection: open every project again (not the paused ones)."""
        for root, op in list(self.open.items()):
            if not op.paused and self.docs_of(root):
                self.ls.spawn(self._reopen(root))

    async def _reopen(self, root: Path) -> None:
        with contextlib.suppress(DaemonError, TimeoutError):
            await self.ensure(root)

    async def call(self, op: OpenProject, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        """A request about `op` on the connection it is open on."""
        client = op.client
        if client is None:
            raise DaemonGone("the project is not open in the daemon")
        try:
            return await client.request(kind, {"project": op.ident, **params}, timeout=60.0)
        except DaemonGone as error:
            if self.ls.link.client in (client, None):
                await self.ls.link.lost(str(error))
            raise

    # -- closing ------------------------------------------------------------------------

    async def close(self, root: Path, forget: bool = True) -> None:
        """Stop reviewing `root` in the daemon (`project.close`)."""
        op = self.open.pop(root, None) if forget else self.open.get(root)
        if op is None:
            return
        if op.subscription is not None:
            op.subscription.cancel()
        client, op.client = op.client, None
        op.todo.clear()
        op.paper_busy = False
        if client is not None:
            with contextlib.suppress(Exception):
                await client.request("project.close", {"project": op.ident}, timeout=5.0)

    def stop(self, root: Path) -> None:
        """The user cancelled the review: stop the daemon's work on the project until the
        next review (save, edit or command) opens it again."""
        op = self.open.get(root)
        if op is not None:
            op.paused = True
            self.ls.spawn(self.close(root, forget=False))
        job = self.ls.jobs.get(f"review:{root}")
        if job is not None:
            job.cancel()

    async def close_all(self) -> None:
        await asyncio.gather(*(self.close(root) for root in list(self.open)))

    def closed(self, path: Path) -> None:
        """An editor closed `path`: the disk counts again; the last document of a project
        closes it."""
        root = self.ls.root_of(path)
        op = self.open.get(root)
        if op is None:
            return
        if not self.docs_of(root):
            self.ls.spawn(self.close(root))
        elif op.pushed.pop(path, None) is not None and op.client is not None:
            self.ls.spawn(self._push_quietly(op, path))

    async def _push_quietly(self, op: OpenProject, path: Path) -> None:
        with contextlib.suppress(DaemonError, TimeoutError):
            await self.call(op, "project.buffer", {"path": str(path), "text": None})
