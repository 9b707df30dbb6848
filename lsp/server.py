"""The papercycle language server: a thin pygls 2.x server per editor window.

It keeps the open documents, the last review results the daemon sent and a snapshot of the
project's structure; every request handler answers from those (never waiting on the daemon or a
model). Reviews and drafts run as background tasks that talk to the daemon through
`DaemonLink`; their results are published as diagnostics for the version they belong to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.daemon.client import DaemonError
from papercycle.lsp import code_actions, code_lens, commands, diagnostics, drafts, hover
from papercycle.lsp.daemon_link import DaemonLink
from papercycle.lsp.dismissals import Dismissals
from papercycle.lsp.documents import Document, Documents, path_uri, uri_path
from papercycle.lsp.findings import Finding, from_result
from papercycle.lsp.outline import Outline, Outlines
from papercycle.lsp.positions import UTF16, Lines
from papercycle.lsp.progress import Progress
from papercycle.lsp.projects import Projects
from papercycle.lsp.reviews import ProjectReviews, SectionResult, notices
from papercycle.lsp.settings import SECTION, Settings
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
        self.outlines = Outlines()
        self.reviews: dict[Path, ProjectReviews] = {}
        self.dismissals: dict[Path, Dismissals] = {}
        self.disk_base: dict[Path, str] = {}  # text of unopened files when last reviewed
        self._probes: dict[Path, tuple] = {}  # path -> ((version, disk text), diff document)
        self.published: dict[Path, set[str]] = {}  # root -> uris with diagnostics
        self.jobs: dict[str, asyncio.Task] = {}  # running long work, by job name
        self.drafts: dict[str, drafts.Draft] = {}
        self.link: DaemonLink | None = None
        self.projects = Projects(self)
        self._debounce: dict[str, asyncio.Task] = {}
        self._outline_tasks: dict[Path, asyncio.Task] = {}
        self._messages_shown: set[str] = set()
        # where the author last typed (a file, a character offset in its buffer): the daemon
        # reviews that section first
        self.cursor: tuple[Path, int] | None = None

    # -- plumbing ------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            return str(self.workspace.position_encoding or UTF16)
        except Exception:
            return UTF16

    def spawn(self, coroutine, name: str | None = None) -> asyncio.Task:
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

    def message(self, text: str, kind=types.MessageType.Info, once: bool = False) -> None:
        if once:
            if text in self._messages_shown:
                return
            self._messages_shown.add(text)
        self.window_show_message(types.ShowMessageParams(kind, text))

    def outline_for(self, path: Path) -> Outline | None:
        return self.outlines.for_path(path)

    def allows(self, uri: str) -> bool:
        """Whether this session may touch the file at `uri` (resolved: `..` and links)."""
        if not self.confined:
            return True
        path = uri_path(uri)
        if not self.allowed_folders:
            return True
        return any(path == f or f in path.parents for f in self.allowed_folders)

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

    # -- placing findings in the current text ---------------------------------------------

    def _mapper(self, path: Path, doc: Document | None):
        def map_range(base: int | None, start: int, end: int) -> tuple[int, int] | None:
            if doc is None:
                return (start, end) if base is None else None
            if base is not None:
                return doc.map_range(base, start, end)
            before = self.disk_base.get(path)
            if before is None or before == doc.text:
                return start, end
            # Reviewed from disk, open since with other text: shift around the changed middle
            # (one diff per document version, shared by its findings).
            cached = self._probes.get(path)
            if cached is None or cached[0] != (doc.version, before):
                probe = Document(doc.uri, path, before, -1, first_version=-1)
                probe.apply(0, [types.TextDocumentContentChangeWholeDocument(doc.text)], UTF16)
                cached = self._probes[path] = ((doc.version, before), probe)
            return cached[1].map_range(-1, start, end)

        return map_range

    def located(self, path: Path) -> tuple[list[diagnostics.Located], str, int | None]:
        doc = self.docs.by_path(path)
        outline = self.outline_for(path)
        if doc is not None:
            text, version = doc.text, doc.version
        elif outline is not None and path in outline.texts:
            text, version = outline.texts[path], None
        else:
            return [], "", None
        findings: list[Finding] = [f for f in self.reviews_for(path).findings() if f.path == path]
        if outline is not None:
            findings += [f for f in outline.findings if f.path == path]
        placed = diagnostics.locate(findings, text, version, self._mapper(path, doc))
        dismissed = self.dismissals_for(path)
        return (
            [
                item
                for item in placed
                if item.finding.key not in dismissed.comments
                and item.finding.category not in dismissed.categories
            ],
            text,
            version,
        )

    def publish(self, path: Path) -> None:
        located, text, version = self.located(path)
        doc = self.docs.by_path(path)
        uri = doc.uri if doc is not None else path_uri(path)
        dismissed = self.dismissals_for(path)
        outline = self.outline_for(path)

        def lines_of(other: Path) -> Lines | None:
            odoc = self.docs.by_path(other)
            if odoc is not None:
                return odoc.lines(self.encoding)
            if outline is not None and other in outline.texts:
                return Lines(outline.texts[other], self.encoding)
            return None

        def uri_of(other: Path) -> str:
            odoc = self.docs.by_path(other)
            return odoc.uri if odoc is not None else path_uri(other)

        diags = diagnostics.to_diagnostics(
            located,
            text,
            self.settings,
            dismissed.keys,
            dismissed.categories,
            self.encoding,
            uri_of,
            lines_of,
        )
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri, diags, version if doc is not None else None)
        )
        self.published.setdefault(self.root_of(path), set()).add(uri)

    def publish_project(self, path: Path) -> None:
        root = self.root_of(path)
        outline = self.outline_for(path)
        paths = {f.path for f in self.reviews_for(path).findings()}
        if outline is not None:
            paths |= {f.path for f in outline.findings}
        paths |= {doc.path for doc in self.docs.by_uri.values() if self.root_of(doc.path) == root}
        for uri in self.published.get(root, set()):
            doc = self.docs.get(uri)
            if doc is not None:
                paths.add(doc.path)
        for p in sorted(paths):
            self.publish(p)

    # -- project structure -------------------------------------------------------------

    async def refresh_outline(self, path: Path) -> Outline | None:
        buffers = {doc.path: doc.text for doc in self.docs.by_uri.values()}
        outline = await self.outlines.refresh(path, buffers, self.versions())
        return outline

    def schedule_outline(self, path: Path, delay: float = 0.15) -> None:
        previous = self._outline_tasks.get(path)
        if previous is not None and not previous.done():
            previous.cancel()

        async def run() -> None:
            await asyncio.sleep(delay)
            await self.refresh_outline(path)
            self.publish_project(path)

        self._outline_tasks[path] = self.spawn(run())

    # -- reviews -----------------------------------------------------------------------

    def request_params(self, path: Path, priority: str) -> dict[str, Any]:
        outline = self.outline_for(path)
        buffers = {str(doc.path): doc.text for doc in self.docs.by_uri.values()}
        if outline is not None:
            for file, text in outline.texts.items():
                if self.docs.by_path(file) is None:
                    self.disk_base[file] = text
        return {"path": str(path), "buffers": buffers, "priority": priority}

    def title_of(self, path: Path) -> tuple[Path, int, int] | None:
        """Where paper-review comments point: the title, else \\documentclass."""
        outline = self.outline_for(path)
        if outline is None:
            return None
        if outline.title:
            return outline.title.path, outline.title.start, outline.title.end
        return outline.documentclass

    def start_review(self, path: Path, paper: bool = False, push_all: bool = False) -> asyncio.Task:
        """Push the buffer of `path` to the project's open project in the daemon (every
        changed buffer of the project with `push_all`; the whole paper too when `paper`) and
        follow its reviews (superseding the job following them)."""
        return self.spawn(
            self.projects.review(path, paper, push_all), name=f"review:{self.root_of(path)}"
        )

    def _refresh_lenses(self) -> bool:
        caps = self.client_capabilities.workspace
        return bool(caps and caps.code_lens and caps.code_lens.refresh_support)

    async def review_section(self, path: Path, anchor: int) -> dict[str, Any] | None:
        outline = await self.refresh_outline(path)
        if outline is None or self.link is None:
            return None
        heading = outline.section_of(path, anchor)
        task = asyncio.current_task()
        name = heading.name if heading else "section"
        progress = Progress(self, f"papercycle: {name}", on_cancel=task.cancel if task else None)
        await progress.begin("waiting for the daemon")
        versions = self.versions()
        params = self.request_params(path, "interactive")
        params["section"] = {"path": str(path), "offset": heading.anchor if heading else anchor}
        model = self.settings.model_for("section")
        if model:
            params["model"] = model
        try:
            result = await self.link.stream(
                "review.section", params, lambda e: progress.report(str(e.get("event")))
            )
        except asyncio.CancelledError:
            progress.end("cancelled")
            raise
        except (DaemonError, TimeoutError) as error:
            why = getattr(error, "message", None) or "the daemon is not reachable"
            progress.end(why)
            self.message(f"papercycle: {why}", types.MessageType.Warning)
            return None
        key = (result.get("section") or {}).get("name", name)
        reviews = self.reviews_for(path)
        found = reviews.section_named(key)  # the open project's entry of the section
        reviews.sections[found[0] if found else f"name:{key}"] = SectionResult(
            result, from_result(result, versions, self.title_of(path)), from_project=False
        )
        self.publish_project(path)
        for text in notices(result, f"the review of {key}"):
            self.message(text, types.MessageType.Warning)
        progress.end("done")
        return {"section": key, "comments": len(result.get("comments", []))}

    # -- drafts ------------------------------------------------------------------------

    async def draft_section(self, uri: str, anchor: int) -> dict[str, Any] | None:
        doc = self.docs.get(uri)
        if doc is None or self.link is None:
            return None
        outline = await self.refresh_outline(doc.path)
        heading = outline.section_of(doc.path, anchor) if outline else None
        if heading is None:
            self.message("papercycle: no section here to draft", types.MessageType.Warning)
            return None
        text_at, version = doc.text, doc.version
        draft = drafts.Draft(
            drafts.new_id(),
            uri,
            doc.path,
            heading.name,
            drafts.insertion_offset(text_at, heading.end) if heading.path == doc.path else 0,
            version,
        )
        task = asyncio.current_task()
        progress = Progress(
            self, f"papercycle: drafting {heading.name}", task.cancel if task else None
        )
        await progress.begin("waiting for the daemon")
        params = self.request_params(doc.path, "interactive")
        versions_at_request = self.versions()
        params["section"] = {"path": str(heading.path), "offset": heading.anchor}
        model = self.settings.model_for("researcher")
        if model:
            params["model"] = model
        chunks = 0

        def on_event(event: dict[str, Any]) -> None:
            nonlocal chunks
            kind = event.get("event")
            if kind in ("queued", "loading", "started") or (
                kind == "progress" and event.get("stage")
            ):
                progress.report(str(event.get("stage") or kind))
            if kind == "token":
                chunks += 1
                draft.text += str(event.get("text", ""))
                self.protocol.notify(
                    drafts.NOTIFICATION, drafts.chunk_message(draft, event.get("text", ""))
                )
                progress.report(f"{chunks} tokens")

        try:
            result = await self.link.stream(drafts.REQUEST, params, on_event)
        except asyncio.CancelledError:
            self.protocol.notify(
                drafts.NOTIFICATION, {**drafts.chunk_message(draft, "", True), "cancelled": True}
            )
            progress.end("cancelled")
            raise
        except TimeoutError:
            progress.end("the daemon is not reachable")
            self.message("papercycle: the daemon is not reachable", types.MessageType.Warning)
            return None
        except DaemonError as error:
            progress.end(error.message)
            if drafts.missing_request(error):
                self.message(
                    "papercycle: this daemon cannot draft sections yet (no draft.section "
                    "request; the co-author is not installed)",
                    types.MessageType.Warning,
                )
            else:
                self.message(
                    f"papercycle: draft failed: {error.message}", types.MessageType.Warning
                )
            return None
        self.finish_job()  # generated: a cancel has nothing left to stop
        draft.text = str(result.get("text", draft.text))
        target = drafts.place(draft, result)
        if target is not None and target != draft.path:
            # the daemon drafts into the section's own file (an \input part)
            other = self.docs.by_path(target)
            draft.path = target
            draft.uri = other.uri if other is not None else path_uri(target)
            draft.version = versions_at_request.get(target)
        draft.done = True
        self.protocol.notify(drafts.NOTIFICATION, drafts.chunk_message(draft, "", True))
        progress.end("done")
        warnings = [str(w) for w in result.get("warnings") or []]
        if warnings:  # invented citations removed, simulated-result markers to replace
            self.message(
                f"papercycle: draft of {draft.section}: " + "; ".join(warnings),
                types.MessageType.Warning,
            )
        return await self.offer_draft(draft)

    async def offer_draft(self, draft: drafts.Draft) -> dict[str, Any]:
        caps = self.client_capabilities.workspace
        if caps and caps.apply_edit:
            applied = await self.apply_draft(draft)
            return {"draft": draft.id, "applied": applied}
        self.drafts[draft.id] = draft
        self.message(
            f"papercycle: the draft of {draft.section} is ready: use the code action "
            f"'Insert the draft of {draft.section}'"
        )
        return {"draft": draft.id, "applied": False}

    async def apply_draft(self, draft: drafts.Draft) -> bool:
        doc = self.docs.get(draft.uri)
        if doc is None:
            self.message(
                f"papercycle: open {draft.path.name} to insert the draft of {draft.section}",
                types.MessageType.Warning,
            )
            return False
        placed = self.draft_range(doc, draft)
        if placed is None:
            self.message(
                "papercycle: the section changed while drafting; draft not inserted",
                types.MessageType.Warning,
            )
            return False
        lines = doc.lines(self.encoding)
        edit = code_actions.workspace_edit(
            doc.uri,
            doc.version,
            lines.range(*placed),
            drafts.insertion_text(draft, doc.text),
            self._doc_changes(),
        )
        answer = await self.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit, label=f"papercycle: draft of {draft.section}")
        )
        return bool(answer and answer.applied)

    @staticmethod
    def draft_range(doc: Document, draft: drafts.Draft) -> tuple[int, int] | None:
        """Where the draft goes in the current text (None: that place was edited since)."""
        end = draft.insert_at if draft.replace_end is None else draft.replace_end
        if draft.version is None:
            return draft.insert_at, end
        return doc.map_range(draft.version, draft.insert_at, end)

    def _doc_changes(self) -> bool:
        return code_actions.capabilities(self.client_capabilities).document_changes

    # -- settings ----------------------------------------------------------------------

    async def pull_configuration(self) -> None:
        caps = self.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        try:
            answer = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams([types.ConfigurationItem(section=SECTION)])
                ),
                10.0,
            )
        except Exception as error:
            log.info("workspace/configuration failed: %s", error)
            return
        if answer and isinstance(answer[0], dict):
            problems: list[str] = []
            self.settings = self.settings.merged(answer[0], problems)
            for problem in problems:
                log.warning("settings: %s", problem)
        for doc in list(self.docs.by_uri.values()):
            self.publish(doc.path)


def _log_failure(task: asyncio.Task) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task failed: %r", error, exc_info=error)


def create_server(protocol_cls: type | None = None) -> PapercycleServer:
    """A fresh server with every feature registered (one per stdio process or WS connection)."""
    ls = PapercycleServer(protocol_cls)

    @ls.feature(types.INITIALIZE)
    def initialize(ls: PapercycleServer, params: types.InitializeParams) -> None:
        problems: list[str] = []
        ls.settings = ls.settings.merged(params.initialization_options or {}, problems)
        ls.client_kind = hover.client_kind(params.client_info.name if params.client_info else "")
        if ls.confined:
            declared = [folder.uri for folder in params.workspace_folders or []]
            declared += [params.root_uri] if params.root_uri else []
            ls.allowed_folders = [uri_path(uri) for uri in declared if uri.startswith("file:")]
        for problem in problems:
            log.warning("settings: %s", problem)

    @ls.feature(types.INITIALIZED)
    def initialized(ls: PapercycleServer, params: types.InitializedParams) -> None:
        ls.link = DaemonLink(
            autostart=ls.settings.auto_start_daemon,
            on_down=lambda text: ls.message(text, types.MessageType.Warning),
            on_up=lambda hello: ls.message(
                f"papercycle: reconnected to the daemon (pid {hello.get('pid')})"
            ),
            on_connected=lambda client: ls.projects.reopen_all(),
        )
        ls.link.start()
        ls.spawn(ls.pull_configuration())

    @ls.feature(types.SHUTDOWN)
    async def shutdown(ls: PapercycleServer, params: None) -> None:
        for task in list(ls.jobs.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ls.projects.close_all(), 10)
        if ls.link is not None:
            await ls.link.close()
        ls.outlines.close()

    @ls.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: PapercycleServer, params) -> None:
        if isinstance(params.settings, dict) and params.settings:
            ls.settings = ls.settings.merged(params.settings)
        ls.spawn(ls.pull_configuration())

    @ls.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PapercycleServer, params: types.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        if not ls.allows(uri):
            log.warning("document outside this session's project refused: %s", uri)
            ls.message(
                f"papercycle: {uri} is outside this session's project; not opened",
                types.MessageType.Warning,
            )
            return
        if ls.confined and not ls.allowed_folders:
            ls.allowed_folders = [uri_path(uri).parent]
        doc = ls.docs.open(params.text_document)
        if ls.settings.check_frequency == "manual":
            ls.schedule_outline(doc.path, 0)
        else:
            ls.start_review(doc.path)

    @ls.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PapercycleServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        doc.apply(params.text_document.version, list(params.content_changes), ls.encoding)
        if doc.edits:
            ls.cursor = (doc.path, doc.edits[-1].start)
        ls.publish(doc.path)  # shifted or withheld at once: never stale
        ls.schedule_outline(doc.path)
        if ls.settings.check_frequency == "edit":
            key = str(ls.root_of(doc.path))
            previous = ls._debounce.get(key)
            if previous is not None and not previous.done():
                previous.cancel()

            async def later(path: Path = doc.path) -> None:
                await asyncio.sleep(ls.settings.debounce_ms / 1000)
                ls.start_review(path)

            ls._debounce[key] = ls.spawn(later())

    @ls.feature(
        types.TEXT_DOCUMENT_DID_SAVE, types.TextDocumentSaveRegistrationOptions(include_text=False)
    )
    def did_save(ls: PapercycleServer, params: types.DidSaveTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        if ls.settings.check_frequency != "manual":
            ls.start_review(doc.path)

    @ls.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PapercycleServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        ls.docs.close(params.text_document.uri)
        if doc is not None and ls.cursor is not None and ls.cursor[0] == doc.path:
            ls.cursor = None  # its offset was in the buffer, not the file on disk
        if doc is not None:
            ls.outlines.forget(doc.path)  # the project reads the file from disk again
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(doc.uri, []))
            for uris in ls.published.values():
                uris.discard(doc.uri)
            ls.projects.closed(doc.path)

    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PapercycleServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        lines = doc.lines(ls.encoding)
        offset = lines.offset(params.position)
        located, _, _ = ls.located(doc.path)
        return hover.hover(
            doc.path,
            offset,
            lines,
            ls.outline_for(doc.path),
            ls.reviews.get(ls.root_of(doc.path)),
            located,
            getattr(ls, "client_kind", "other"),
        )

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def on_code_lens(ls: PapercycleServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return []
        root = ls.root_of(doc.path)
        project = ls.projects.open.get(root)
        running = f"review:{root}" in ls.jobs and project is not None and project.busy
        return code_lens.lenses(
            doc.uri,
            doc.path,
            doc.lines(ls.encoding),
            ls.outline_for(doc.path),
            ls.reviews.get(root),
            running,
        )

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
        ),
    )
    def on_code_action(ls: PapercycleServer, params: types.CodeActionParams):
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return []
        lines = doc.lines(ls.encoding)
        start, end = lines.offset(params.range.start), lines.offset(params.range.end)
        located, _, _ = ls.located(doc.path)
        outline = ls.outline_for(doc.path)
        section = outline.section_of(doc.path, start) if outline else None
        pending = []
        for d in ls.drafts.values():
            placed = ls.draft_range(doc, d) if d.uri == doc.uri else None
            if placed is not None:
                edit = code_actions.workspace_edit(
                    doc.uri,
                    doc.version,
                    lines.range(*placed),
                    drafts.insertion_text(d, doc.text),
                    ls._doc_changes(),
                )
                pending.append((d.id, d.section, edit))
        return code_actions.actions(
            doc.uri,
            doc.version,
            lines,
            start,
            end,
            located,
            section,
            code_actions.capabilities(ls.client_capabilities),
            pending,
        )

    # -- commands ----------------------------------------------------------------------

    def command(name: str):
        """ls.command, with arguments' and handlers' errors answered in one line."""

        def register(function):
            return ls.command(name)(commands.answering_errors(name)(function))

        return register

    def _doc_and_offset(args, name: str) -> tuple[Document | None, int]:
        uri = commands.arg(args, 0, "")
        if not isinstance(uri, str):
            raise commands.bad_argument(name, f"argument 1 must be a document URI, not {uri!r}")
        doc = ls.docs.get(uri)
        where = commands.position_arg(args, 1, name)
        if doc is None:
            raise commands.bad_argument(name, f"{uri or 'no URI'} is not an open document")
        if isinstance(where, dict):
            where = doc.lines(ls.encoding).offset(
                types.Position(int(where.get("line", 0)), int(where.get("character", 0)))
            )
        return doc, int(where) if isinstance(where, int | float) else 0

    @command(commands.REVIEW_DOCUMENT)
    async def review_document(ls: PapercycleServer, *args):
        doc = ls.docs.get(str(commands.arg(args, 0, "")))
        if doc is None and ls.docs.by_uri:
            doc = next(iter(ls.docs.by_uri.values()))
        if doc is None:
            return {"started": False}
        task = ls.start_review(doc.path, paper=True, push_all=True)
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return {"started": True, "cancelled": task.cancelled()}

    @command(commands.REVIEW_SECTION)
    async def review_section(ls: PapercycleServer, *args):
        doc, offset = _doc_and_offset(args, commands.REVIEW_SECTION)
        task = ls.spawn(ls.review_section(doc.path, offset), name=f"section:{doc.path}:{offset}")
        try:
            return await task
        except asyncio.CancelledError:
            return {"cancelled": True}

    @command(commands.DRAFT_SECTION)
    async def draft_section(ls: PapercycleServer, *args):
        doc, offset = _doc_and_offset(args, commands.DRAFT_SECTION)
        task = ls.spawn(ls.draft_section(doc.uri, offset), name=f"draft:{doc.uri}:{offset}")
        try:
            return await task
        except asyncio.CancelledError:
            return {"cancelled": True}

    @command(commands.CANCEL)
    def cancel(ls: PapercycleServer, *args):
        which = commands.arg(args, 0)
        cancelled = []
        for name, task in list(ls.jobs.items()):
            if (
                which is None or which == name or str(name).startswith(f"{which}:")
            ) and not task.done():
                if str(name).startswith("review:"):
                    ls.projects.stop(Path(str(name)[len("review:") :]))
                task.cancel()
                cancelled.append(name)
        return {"cancelled": cancelled}

    @command(commands.SELECT_MODEL)
    async def select_model(ls: PapercycleServer, *args):
        role = str(commands.arg(args, 0, "reviewer"))
        name = commands.arg(args, 1)
        if name is None and ls.link is not None:
            try:
                listing = await ls.link.request("models.list", timeout=10)
            except (DaemonError, TimeoutError) as error:
                ls.message(f"papercycle: cannot list models: {error}", types.MessageType.Warning)
                return None
            names = [m["name"] for m in listing.get("models", [])]
            if not names:
                ls.message("papercycle: no models configured (papercycle models add NAME PATH)")
                return None
            answer = await ls.window_show_message_request_async(
                types.ShowMessageRequestParams(
                    types.MessageType.Info,
                    f"papercycle: model for the {role} role",
                    [types.MessageActionItem(n) for n in names],
                )
            )
            name = answer.title if answer else None
        if name is None:
            return None
        ls.settings = ls.settings.merged({"models": {role: str(name)}})
        ls.message(f"papercycle: {role} model is now {name} (this window)")
        return {"role": role, "model": name}

    @command(commands.SHOW_STATUS)
    async def show_status(ls: PapercycleServer, *args):
        out: dict[str, Any] = {
            "daemon": ls.link.state if ls.link else "idle",
            "jobs": sorted(ls.jobs),
            "settings": {
                "reviewMode": ls.settings.review_mode,
                "checkFrequency": ls.settings.check_frequency,
                "models": ls.settings.models,
            },
        }
        if ls.link is not None and ls.link.state == "connected":
            with contextlib.suppress(DaemonError, TimeoutError):
                status = await ls.link.request("status", timeout=5)
                out["daemon_status"] = {
                    "pid": status.get("pid"),
                    "version": status.get("version"),
                    "models": status.get("models"),
                    "queue": status.get("queue"),
                }
        running = (out.get("daemon_status") or {}).get("queue", {}) or {}
        ls.message(
            f"papercycle: daemon {out['daemon']}"
            + (f" (pid {out['daemon_status']['pid']})" if "daemon_status" in out else "")
            + f"; {len(out['jobs'])} job(s) in this window"
            + (f"; running: {running.get('running')}" if running.get("running") else "")
        )
        return out

    @command(commands.APPLY_REWRITE)
    async def apply_rewrite(ls: PapercycleServer, *args):
        uri, version, start, end, text = (commands.arg(args, i) for i in range(5))
        doc = ls.docs.get(str(uri))
        if doc is None:
            return {"applied": False}
        placed = (
            doc.map_range(int(version), int(start), int(end))
            if version is not None
            else (int(start), int(end))
        )
        if placed is None:
            ls.message(
                "papercycle: the text changed; rewrite not applied", types.MessageType.Warning
            )
            return {"applied": False}
        edit = code_actions.workspace_edit(
            doc.uri,
            doc.version,
            doc.lines(ls.encoding).range(*placed),
            str(text),
            ls._doc_changes(),
        )
        answer = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit, label="papercycle: suggested rewrite")
        )
        return {"applied": bool(answer and answer.applied)}

    @command(commands.DISMISS)
    def dismiss(ls: PapercycleServer, *args):
        uri = str(commands.arg(args, 0, ""))
        doc = ls.docs.get(uri)
        key = str(commands.arg(args, 1, ""))
        if doc is None:  # never opened, or outside this session's project: nothing is written
            raise commands.bad_argument(
                commands.DISMISS, f"{uri or 'no URI'} is not an open document"
            )
        if not key:
            return {"dismissed": False}
        about = {}
        for f in ls.reviews_for(doc.path).findings():
            if f.key == key:
                about = {"category": f.category, "text": f.message, "quote": f.quote}
                break
        ls.dismissals_for(doc.path).dismiss(key, **about)
        ls.publish_project(doc.path)
        return {"dismissed": True, "file": str(ls.dismissals_for(doc.path).file)}

    @command(commands.DISABLE_CATEGORY)
    def disable_category(ls: PapercycleServer, *args):
        uri = str(commands.arg(args, 0, ""))
        doc = ls.docs.get(uri)
        category = str(commands.arg(args, 1, ""))
        if doc is None:
            raise commands.bad_argument(
                commands.DISABLE_CATEGORY, f"{uri or 'no URI'} is not an open document"
            )
        if not category:
            return {"disabled": False}
        ls.dismissals_for(doc.path).disable(category)
        ls.publish_project(doc.path)
        return {"disabled": True, "category": category}

    @command(commands.INSERT_DRAFT)
    async def insert_draft(ls: PapercycleServer, *args):
        draft = ls.drafts.pop(str(commands.arg(args, 0, "")), None)
        if draft is None:
            return {"applied": False}
        if commands.arg(args, 1, False):  # the code action's edit was applied by the client
            return {"applied": True}
        return {"applied": await ls.apply_draft(draft)}

    return ls
