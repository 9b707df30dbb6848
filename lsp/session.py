"""One language-server session (an editor window on stdio, or one WebSocket connection): the
state every feature reads, and the plumbing they share.

It keeps the open documents, the last review results the daemon sent, the project structure's
last snapshot and the open projects in the daemon; every request handler answers from those
(never waiting on the daemon or a model). The handlers themselves live in the feature modules
that `server.create_server` registers; nothing here knows a request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.lsp import project_review
from papercycle.lsp.code_actions import capabilities
from papercycle.lsp.daemon_link import DaemonLink
from papercycle.lsp.dismissals import Dismissals
from papercycle.lsp.documents import Document, Documents, uri_path
from papercycle.lsp.drafts import Draft
from papercycle.lsp.outline import Outline, Outlines
from papercycle.lsp.positions import UTF16
from papercycle.lsp.projects import Projects
from papercycle.lsp.reviews import ProjectReviews
from papercycle.lsp.settings import Settings
from pygls.lsp.server import LanguageServer

log = logging.getLogger("papercycle.lsp")

try:
    from importlib.metadata import version as _version

    VERSION = _version("papercycle")
except Exception:  # pragma: no cover
    VERSION = "0"


class PapercycleServer(LanguageServer):
    def __init__(self, protocol_cls: type | None = None) -> None:
        if protocol_cls is None:
            super().__init__("papercycle", VERSION)
        else:
            super().__init__("papercycle", VERSION, protocol_cls=protocol_cls)
        self.docs = Documents()
        # A WebSocket session (transport.py) is confined to the folders it declared at
        # initialize, or else to the folder of the first document it opened: a token holder
        # reaches one project, never a file elsewhere through `..` or a link.
        self.confined = False
        self.allowed_folders: list[Path] = []
        self.settings = Settings()
        self.client_kind = "other"  # the client family (hover.client_kind): how hovers say things
        self.outlines = Outlines()
        self.reviews: dict[Path, ProjectReviews] = {}
        self.dismissals: dict[Path, Dismissals] = {}
        self.disk_base: dict[Path, str] = {}  # text of unopened files when last reviewed
        # path -> ((version, disk text), diff document): publish.py's shifts from disk text
        self.probes: dict[Path, tuple[tuple[int, str], Document]] = {}
        self.published: dict[Path, set[str]] = {}  # root -> uris with diagnostics
        self.jobs: dict[str, asyncio.Task] = {}  # running long work, by job name
        self.drafts: dict[str, Draft] = {}  # finished drafts waiting for their code action
        self.link: DaemonLink | None = None
        self.projects = Projects(self)
        self.debounce: dict[str, asyncio.Task] = {}  # project root -> the review after typing
        self.outline_tasks: dict[Path, asyncio.Task] = {}
        self._messages_shown: set[str] = set()
        # where the author last typed (a file, a character offset in its buffer): the daemon
        # reviews that section first
        self.cursor: tuple[Path, int] | None = None

    @property
    def encoding(self) -> str:
        try:
            return str(self.workspace.position_encoding or UTF16)
        except Exception:
            return UTF16

    # -- tasks ---------------------------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coroutine)
        if name is not None:
            previous = self.jobs.get(name)
            if previous is not None and not previous.done():
                previous.cancel()  # superseded
            self.jobs[name] = task

            def forget(t: asyncio.Task, key: str = name) -> None:
                if self.jobs.get(key) is t:
                    self.jobs.pop(key, None)

            task.add_done_callback(forget)
        task.add_done_callback(_log_failure)
        return task

    def finish_job(self) -> None:
        """The current task's work is done: take it out of the cancellable jobs."""
        task = asyncio.current_task()
        for name, job in list(self.jobs.items()):
            if job is task:
                self.jobs.pop(name, None)

    def start_review(self, path: Path, paper: bool = False, push_all: bool = False) -> asyncio.Task:
        """Push the buffer of `path` to the project's open project in the daemon (every
        changed buffer of the project with `push_all`; the whole paper too when `paper`) and
        follow its reviews (superseding the job following them)."""
        return self.spawn(
            project_review.review(self, path, paper, push_all),
            name=f"review:{self.root_of(path)}",
        )

    # -- the client ----------------------------------------------------------------------

    def message(
        self, text: str, kind: types.MessageType = types.MessageType.Info, once: bool = False
    ) -> None:
        if once:
            if text in self._messages_shown:
                return
            self._messages_shown.add(text)
        self.window_show_message(types.ShowMessageParams(kind, text))

    def can_refresh_lenses(self) -> bool:
        caps = self.client_capabilities.workspace
        return bool(caps and caps.code_lens and caps.code_lens.refresh_support)

    def document_changes(self) -> bool:
        """Whether the client takes versioned `documentChanges` in a WorkspaceEdit."""
        return capabilities(self.client_capabilities).document_changes

    def allows(self, uri: str) -> bool:
        """Whether this session may touch the file at `uri` (resolved: `..` and links)."""
        if not self.confined:
            return True
        path = uri_path(uri)
        if not self.allowed_folders:
            return True
        return any(path == f or f in path.parents for f in self.allowed_folders)

    # -- projects ------------------------------------------------------------------------

    def outline_for(self, path: Path) -> Outline | None:
        return self.outlines.for_path(path)

    async def refresh_outline(self, path: Path) -> Outline | None:
        buffers = {doc.path: doc.text for doc in self.docs.by_uri.values()}
        return await self.outlines.refresh(path, buffers, self.versions())

    def root_of(self, path: Path) -> Path:
        outline = self.outline_for(path)
        return outline.root_path if outline is not None else path

    def reviews_for(self, path: Path) -> ProjectReviews:
        root = self.root_of(path)
        entry = self.reviews.get(root)
        if entry is None:
            entry = self.reviews[root] = ProjectReviews(root)
        return entry

    def dismissals_for(self, path: Path) -> Dismissals:
        outline = self.outline_for(path)
        folder = outline.root_dir if outline is not None else path.parent
        entry = self.dismissals.get(folder)
        if entry is None:
            entry = self.dismissals[folder] = Dismissals(folder)
        else:
            entry.reload()
        return entry

    def versions(self) -> dict[Path, int | None]:
        return {doc.path: doc.version for doc in self.docs.by_uri.values()}

    def title_of(self, path: Path) -> tuple[Path, int, int] | None:
        """Where paper-review comments point: the title, else \\documentclass."""
        outline = self.outline_for(path)
        if outline is None:
            return None
        if outline.title:
            return outline.title.path, outline.title.start, outline.title.end
        return outline.documentclass

    def request_params(self, path: Path, priority: str) -> dict[str, Any]:
        """What every review / draft request carries: the file, the open buffers, the
        priority. The text of unopened files is remembered as the review's base."""
        outline = self.outline_for(path)
        buffers = {str(doc.path): doc.text for doc in self.docs.by_uri.values()}
        if outline is not None:
            for file, text in outline.texts.items():
                if self.docs.by_path(file) is None:
                    self.disk_base[file] = text
        return {"path": str(path), "buffers": buffers, "priority": priority}


def _log_failure(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task failed: %r", error, exc_info=error)
