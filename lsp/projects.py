"""The server's open projects in the daemon (issue 6's incremental review).

Per project root the server holds one open project in the daemon (`project.open` with the
open buffers of that project, the cursor, the models, `paper: auto` when `reviewMode` is
`standard`, else `off`) and one long-lived `subscribe` stream. The daemon watches the project's files,
re-reviews only the sections whose text changed (a file changed outside the editor too) and
pushes the results as events, which are applied here:

- `sections.changed`: which sections are being reviewed again (progress, code lens);
- `comments`: a section's comments. `stale` ones (the section changed, its new review is on
  the way) are kept only where their quote was found verbatim in the new text; the others are
  withheld until the new review arrives;
- `paper`: the whole-paper review (hover, code lens, diagnostics);
- `anchored`: every comment is anchored in the text of the event's `versions` (the editor's
  document versions the daemon had): findings are re-based on them and published; the
  documents module shifts or withholds them for any later edit (never stale);
- `error`: a section's (the paper's, the project's) current failure; the daemon replays the
  current ones to a new subscription, so errors that fired before it are not lost. Each
  distinct message is shown once as a window message, and the project's failures stay as an
  error diagnostic on `\\documentclass` until the sections they name are reviewed.

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
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.daemon.client import DaemonError, DaemonGone
from papercycle.lsp.failures import failure_findings, outcome
from papercycle.lsp.findings import Finding, from_result
from papercycle.lsp.progress import Progress
from papercycle.lsp.reviews import ProjectReviews, SectionResult, notices

log = logging.getLogger("papercycle.lsp")

POLL_S = 2.0  # how often a review job asks the daemon whether the project is idle
# review modes the daemon's open projects do not have (they review the paper in "standard")
OWN_PAPER_MODES = ("fast", "best")


def own_paper_review(settings) -> bool:
    """Whether the server asks for the whole-paper review itself (`review.paper`): a mode the
    open projects do not have, or the AI Scientist's rounds (only `review.paper` has them)."""
    return settings.review_mode in OWN_PAPER_MODES or (
        settings.review_mode == "standard" and bool(settings.ai_scientist)
    )


@dataclass
class OpenProject:
    root: Path  # the project's root file (the daemon's project id)
    ident: str = ""
    client: Any = None  # the daemon connection it is open on; None: not open there (now)
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


class Projects:
    def __init__(self, ls) -> None:
        self.ls = ls
        self.open: dict[Path, OpenProject] = {}

    # -- opening ------------------------------------------------------------------------

    def docs_of(self, root: Path) -> list:
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
            status = await client.request("project.open", params, timeout=60.0)
            for warning in status.get("warnings") or []:  # its own models ignored (untrusted)
                self.ls.message(f"papercycle: {warning}", types.MessageType.Warning, once=True)
            op.ident = str(status.get("project") or op.root)
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
                client, "subscribe", {"project": op.ident}, lambda e: self.on_event(op, e)
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

    # -- a review: push, then follow the events until the daemon is idle ------------------

    async def review(self, path: Path, paper: bool, push_all: bool = False) -> None:
        """The job `review:ROOT`: push the buffer of `path` (every changed open buffer of the
        project with `push_all`), ask for the whole paper when `paper`, and report progress
        until the daemon has nothing left to do for the project."""
        ls = self.ls
        outline = await ls.refresh_outline(path)
        if outline is None:
            return
        ls.publish_project(path)
        if ls.link is None:
            return
        root = outline.root_path
        progress = Progress(ls, "papercycle: reviewing", on_cancel=lambda: self.stop(root))
        await progress.begin("waiting for the daemon")
        op: OpenProject | None = None
        try:
            op = await self.push(root, path, paper, push_all)
            op.progress = progress
            await self.settle(op, progress)
            mode = ls.settings.review_mode
            if op.client is not None and own_paper_review(ls.settings):
                await self.paper_review(root, mode, "interactive" if paper else "background")
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

    async def push(self, root: Path, path: Path, paper: bool, push_all: bool) -> OpenProject:
        """Open the project if need be (with every buffer), else push the buffer of `path`
        (every changed one with `push_all`); `project.review` when `paper`."""
        for attempt in (1, 2):
            op, opened = await self.ensure(root)
            try:
                if not opened:
                    docs = self.docs_of(root) if push_all else [self.ls.docs.by_path(path)]
                    for doc in docs:
                        if doc is None or (push_all and op.pushed.get(doc.path) == doc.version):
                            continue
                        cursor = self.cursor(root)
                        await self.call(
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
                if paper and not own_paper_review(self.ls.settings):
                    op.paper_busy = True
                    await self.call(op, "project.review", {})
                return op
            except DaemonError as error:
                if error.code != "project" or attempt == 2:
                    raise
                op.client = None  # closed in the daemon under us (idle, forced): open again
        raise AssertionError("unreachable")

    async def paper_review(self, root: Path, mode: str, priority: str) -> None:
        """`reviewMode` fast / best, or the AI Scientist's rounds (`aiScientist` settings): the
        daemon's open projects review the whole paper with one answer in its standard mode
        only, so the server asks for this one itself (`review.paper`), after the sections, as
        before open projects."""
        ls = self.ls
        op = self.open.get(root)
        if op is not None:
            op.paper_busy = True
            self.report(op)
        # the AI Scientist's rounds, as set (a reviewer of another format: the daemon says no)
        params = {**ls.request_params(root, priority), "mode": mode, **ls.settings.ai_scientist}
        if ls.settings.model_for("reviewer"):
            params["model"] = ls.settings.model_for("reviewer")
        versions = ls.versions()
        try:
            result = await ls.link.stream("review.paper", params)
        finally:
            if op is not None:
                op.paper_busy = False
        reviews = ls.reviews_for(root)
        reviews.paper = result
        reviews.paper_from_project = False
        reviews.paper_findings = from_result(result, versions, ls.title_of(root))
        self._notify(result, f"the {mode} paper review")
        ls.publish_project(root)
        self._lenses()

    async def settle(self, op: OpenProject, progress: Progress) -> None:
        """Until the daemon says the project is idle (every changed section and the paper
        review done), its events applied."""
        polled = 0.0
        while op.client is not None:
            if not op.todo or time.monotonic() - polled > POLL_S:
                polled = time.monotonic()
                status = await self.call(op, "project.status", {})
                # events sent before the answer are queued before it: let them be applied
                for _ in range(3):
                    await asyncio.sleep(0)
                op.paper_busy = op.paper_busy or bool(status.get("paper_running"))
                if status.get("idle"):
                    op.todo.clear()
                    op.paper_busy = False
                    return
            self.report(op)
            op.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(op.wake.wait(), POLL_S)

    def report(self, op: OpenProject) -> None:
        progress = op.progress
        if progress is None:
            return
        if op.todo:
            done = max(0, op.total - len(op.todo))  # reviewed or failed
            failed = min(done, sum(1 for key in op.failed if key not in ("paper", "project")))
            progress.report(
                f"{done - failed}/{op.total} sections reviewed"
                + (f", {failed} failed" if failed else ""),
                int(100 * done / max(1, op.total)),
            )
        elif op.paper_busy:
            progress.report("reviewing the whole paper")

    # -- events -------------------------------------------------------------------------

    def on_event(self, op: OpenProject, event: dict[str, Any]) -> None:
        log.debug("%s: %s event %s", op.ident, event.get("event"), _summary(event))
        op.retries = 0
        try:
            self._apply(op, event)
        except Exception:  # one bad event must not end the subscription
            log.exception("applying a %s event failed", event.get("event"))
        op.wake.set()

    def _apply(self, op: OpenProject, event: dict[str, Any]) -> None:
        ls = self.ls
        kind = event.get("event")
        reviews = ls.reviews.get(op.root)
        if reviews is None:
            reviews = ls.reviews[op.root] = ProjectReviews(op.root)
        versions = {Path(p): v for p, v in (event.get("versions") or {}).items()}
        publish = False
        if kind == "sections.changed":
            self._sections_changed(op, reviews, event)
        elif kind == "comments":
            self._comments(op, reviews, event, versions)
            publish = not op.in_update or self._failure_gone(op, reviews, event)
        elif kind == "paper":
            result = dict(event.get("result") or {})
            reviews.paper = result
            reviews.paper_from_project = True
            reviews.paper_findings = self._findings(op.root, result, versions)
            self._notify(result, "the paper review")
            op.paper_revision = max(op.paper_revision, int(event.get("reviewed_revision", 0)))
            op.paper_busy = False
            publish = not op.in_update or self._cleared(op, reviews, "paper")
            self._lenses()
        elif kind == "anchored":
            op.in_update = False
            reviews.versions = versions
            for entry in reviews.sections.values():
                if entry.from_project:
                    entry.findings = self._findings(op.root, entry.result, versions)
            if reviews.paper is not None and reviews.paper_from_project:
                reviews.paper_findings = self._findings(op.root, reviews.paper, versions)
            if op.outline_stale:
                op.outline_stale = False
                ls.spawn(self._reread(op.root))
            publish = True
        elif kind == "error":
            section = event.get("section")
            if section == "paper":
                op.paper_busy = False
            elif section is not None:
                op.todo.discard(str(section))
            message = str(event.get("message") or "failed")
            op.failed[str(section) if section is not None else "project"] = message
            # once per distinct message: a missing model fails every section with the same one
            ls.message(f"papercycle: review failed: {message}", types.MessageType.Error, once=True)
            reviews.error_findings = failure_findings(ls, op)
            publish = True
        if publish:
            ls.publish_project(op.root)
        self.report(op)

    def _sections_changed(
        self, op: OpenProject, reviews: ProjectReviews, event: dict[str, Any]
    ) -> None:
        op.in_update = True
        if event.get("origin") == "disk":
            op.outline_stale = True
        if not op.todo:
            op.total = 0
        for section in [*event.get("added", []), *event.get("changed", [])]:
            ident = str(section.get("id"))
            op.names[ident] = str(section.get("name") or ident)
            if ident not in op.todo:
                op.todo.add(ident)
                op.total += 1
        gone = set(event.get("removed") or [])
        if event.get("origin") == "subscribe":  # the current state: what is not in it is gone
            order = set(event.get("order") or [])
            gone |= {i for i, e in reviews.sections.items() if e.from_project and i not in order}
        for ident in gone:
            op.todo.discard(ident)
            reviews.sections.pop(ident, None)
            self._cleared(op, reviews, ident)
        if event.get("origin") != "subscribe":
            self._cleared(op, reviews, "project")  # the project was read

    def _comments(
        self,
        op: OpenProject,
        reviews: ProjectReviews,
        event: dict[str, Any],
        versions: dict[Path, int | None],
    ) -> None:
        section = event.get("section") or {}
        ident = str(section.get("id"))
        if section.get("removed"):
            op.todo.discard(ident)
            reviews.sections.pop(ident, None)
            return
        comments = list(event.get("comments") or [])
        if event.get("stale"):
            # anchored best effort in a changed text: only a quote found verbatim is sure
            comments = [c for c in comments if (c.get("anchor") or {}).get("method") == "quote"]
        else:
            op.todo.discard(ident)
        op.names[ident] = str(section.get("name") or ident)
        result = {
            "kind": "section",
            "model": self.ls.settings.model_for("section") or "section model",
            "section": section,
            "comments": comments,
            "scores": event.get("scores") or {},
            "stale": bool(event.get("stale")),
            "cached": event.get("cached"),
            "generation": event.get("generation"),
        }
        # a `review.section` answer for the same section is replaced
        for other in [
            i
            for i, e in reviews.sections.items()
            if not e.from_project
            and (e.result.get("section") or {}).get("name") == section.get("name")
        ]:
            reviews.sections.pop(other, None)
        reviews.sections[ident] = SectionResult(result, self._findings(op.root, result, versions))
        self._notify(result, f"the review of {op.names[ident]}")

    def _failure_gone(
        self, op: OpenProject, reviews: ProjectReviews, event: dict[str, Any]
    ) -> bool:
        if event.get("stale"):
            return False
        return self._cleared(op, reviews, str((event.get("section") or {}).get("id")))

    def _cleared(self, op: OpenProject, reviews: ProjectReviews, key: str) -> bool:
        """Forget the failure of `key` (reviewed now, or gone); whether there was one."""
        if op.failed.pop(key, None) is None:
            return False
        reviews.error_findings = failure_findings(self.ls, op)
        return True

    def _notify(self, result: dict[str, Any], what: str) -> None:
        for text in notices(result, what):
            self.ls.message(text, types.MessageType.Warning, once=True)

    def _findings(
        self, root: Path, result: dict[str, Any], versions: dict[Path, int | None]
    ) -> list[Finding]:
        ls = self.ls
        findings = from_result(result, versions, ls.title_of(root))
        # a file open in the editor that the daemon read from disk (its buffer not pushed):
        # ranges are shifted from the disk text to the buffer
        for path in {f.path for f in findings if f.base_version is None}:
            if ls.docs.by_path(path) is not None:
                with contextlib.suppress(OSError):
                    ls.disk_base[path] = path.read_text(encoding="utf-8")
        return findings

    async def _reread(self, root: Path) -> None:
        """Files changed on disk: the structure (and the text of unopened files, which
        diagnostics are placed in) is read again."""
        ls = self.ls
        buffers = {doc.path: doc.text for doc in ls.docs.by_uri.values()}
        await ls.outlines.refresh(root, buffers, ls.versions(), reload=True)
        ls.publish_project(root)

    def _lenses(self) -> None:
        ls = self.ls
        if ls._refresh_lenses():
            ls.spawn(self._refresh_lenses())

    async def _refresh_lenses(self) -> None:
        with contextlib.suppress(Exception):
            await self.ls.workspace_code_lens_refresh_async(None)


def _summary(event: dict[str, Any]) -> str:
    """What a debug log says of an event: its keys, and how many comments a result has."""
    result = event.get("result") or {}
    comments = result.get("comments") if isinstance(result, dict) else None
    counts = f" ({len(comments)} comments)" if isinstance(comments, list) else ""
    return ", ".join(sorted(str(k) for k in event)) + counts
