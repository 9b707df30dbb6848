"""The requests an editor sends while the author reads: hover, code lens, code action. Each
answers at once from the stored state (hover.py, code_lens.py, code_actions.py build the
answers); none waits for the daemon or a model."""

from __future__ import annotations

from lsprotocol import types
from papercycle.lsp import code_actions, code_lens, hover
from papercycle.lsp.draft_request import pending_drafts
from papercycle.lsp.publish import located
from papercycle.lsp.session import PapercycleServer


def register(ls: PapercycleServer) -> None:
    @ls.feature(types.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: PapercycleServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return None
        lines = doc.lines(ls.encoding)
        items, _, _ = located(ls, doc.path)
        root = ls.root_of(doc.path)
        outline = ls.outline_for(doc.path)
        offset = lines.offset(params.position)
        reviews = ls.reviews.get(root)
        return hover.hover(doc.path, offset, lines, outline, reviews, items, ls.client_kind)

    @ls.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def on_code_lens(ls: PapercycleServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return []
        root = ls.root_of(doc.path)
        project = ls.projects.open.get(root)
        running = f"review:{root}" in ls.jobs and project is not None and project.busy
        lines = doc.lines(ls.encoding)
        outline = ls.outline_for(doc.path)
        return code_lens.lenses(doc.uri, doc.path, lines, outline, ls.reviews.get(root), running)

    @ls.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
        ),
    )
    def on_code_action(
        ls: PapercycleServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command]:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return []
        lines = doc.lines(ls.encoding)
        start, end = lines.offset(params.range.start), lines.offset(params.range.end)
        items, _, _ = located(ls, doc.path)
        outline = ls.outline_for(doc.path)
        section = outline.section_of(doc.path, start) if outline else None
        edits = code_actions.capabilities(ls.client_capabilities)
        pending = pending_drafts(ls, doc)
        return code_actions.actions(
            doc.uri, doc.version, lines, start, end, items, section, edits, pending
        )
