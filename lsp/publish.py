"""Publishing diagnostics: every finding of a file (the daemon's reviews, the project model's
own) placed in the text the editor has now, dismissals left out, sent with the document's
version. Never a comment anchored in an older text at the wrong place: `documents.py` shifts
or withholds it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types
from papercycle.lsp import diagnostics
from papercycle.lsp.documents import Document, path_uri
from papercycle.lsp.findings import Finding
from papercycle.lsp.positions import UTF16, Lines

if TYPE_CHECKING:  # the session is the state read here; it never imports this module
    from papercycle.lsp.session import PapercycleServer

RangeMapper = Callable[[int | None, int, int], tuple[int, int] | None]


def mapper(ls: PapercycleServer, path: Path, doc: Document | None) -> RangeMapper:
    """(the version a range was found in, start, end) -> where it is in the current text of
    `path` (None: withheld, that text was edited since)."""

    def map_range(base: int | None, start: int, end: int) -> tuple[int, int] | None:
        if doc is None:
            return (start, end) if base is None else None
        if base is not None:
            return doc.map_range(base, start, end)
        before = ls.disk_base.get(path)
        if before is None or before == doc.text:
            return start, end
        # Reviewed from disk, open since with other text: shift around the changed middle
        # (one diff per document version, shared by its findings).
        cached = ls.probes.get(path)
        if cached is None or cached[0] != (doc.version, before):
            probe = Document(doc.uri, path, before, -1, first_version=-1)
            probe.apply(0, [types.TextDocumentContentChangeWholeDocument(doc.text)], UTF16)
            cached = ls.probes[path] = ((doc.version, before), probe)
        return cached[1].map_range(-1, start, end)

    return map_range


def located(ls: PapercycleServer, path: Path) -> tuple[list[diagnostics.Located], str, int | None]:
    """The findings of `path` placed in its current text (not dismissed), the text, and the
    document's version (None: a file not open, its text on disk)."""
    doc = ls.docs.by_path(path)
    outline = ls.outline_for(path)
    if doc is not None:
        text, version = doc.text, doc.version
    elif outline is not None and path in outline.texts:
        text, version = outline.texts[path], None
    else:
        return [], "", None
    findings: list[Finding] = [f for f in ls.reviews_for(path).findings() if f.path == path]
    if outline is not None:
        findings += [f for f in outline.findings if f.path == path]
    placed = diagnostics.locate(findings, text, version, mapper(ls, path, doc))
    dismissed = ls.dismissals_for(path)
    kept = [
        item
        for item in placed
        if item.finding.key not in dismissed.comments
        and item.finding.category not in dismissed.categories
    ]
    return kept, text, version


def publish(ls: PapercycleServer, path: Path) -> None:
    items, text, version = located(ls, path)
    doc = ls.docs.by_path(path)
    uri = doc.uri if doc is not None else path_uri(path)
    dismissed = ls.dismissals_for(path)
    outline = ls.outline_for(path)

    def lines_of(other: Path) -> Lines | None:
        other_doc = ls.docs.by_path(other)
        if other_doc is not None:
            return other_doc.lines(ls.encoding)
        if outline is not None and other in outline.texts:
            return Lines(outline.texts[other], ls.encoding)
        return None

    def uri_of(other: Path) -> str:
        other_doc = ls.docs.by_path(other)
        return other_doc.uri if other_doc is not None else path_uri(other)

    found = diagnostics.to_diagnostics(
        items,
        text,
        ls.settings,
        dismissed.keys,
        dismissed.categories,
        ls.encoding,
        uri_of,
        lines_of,
    )
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri, found, version if doc is not None else None)
    )
    ls.published.setdefault(ls.root_of(path), set()).add(uri)


def publish_project(ls: PapercycleServer, path: Path) -> None:
    """Every file of the project of `path` that has findings, is open, or had diagnostics."""
    root = ls.root_of(path)
    outline = ls.outline_for(path)
    paths = {f.path for f in ls.reviews_for(path).findings()}
    if outline is not None:
        paths |= {f.path for f in outline.findings}
    paths |= {doc.path for doc in ls.docs.by_uri.values() if ls.root_of(doc.path) == root}
    for uri in ls.published.get(root, set()):
        doc = ls.docs.get(uri)
        if doc is not None:
            paths.add(doc.path)
    for p in sorted(paths):
        publish(ls, p)


def withdraw(ls: PapercycleServer, doc: Document) -> None:
    """A document closed: its diagnostics are cleared."""
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(doc.uri, []))
    for uris in ls.published.values():
        uris.discard(doc.uri)
