"""Open documents as the server sees them: text, version, and the edits between versions, so
that review results computed for an older version are shifted to the current text, or withheld
where the text they point at was edited (never stale)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from papercycle.lsp.positions import UTF16, Lines
from pygls.uris import from_fs_path, to_fs_path

MAX_EDITS = 2000


@dataclass(frozen=True, slots=True)
class Edit:
    """After this edit the document is at `version`: text[start:old_end] became new_len chars."""

    version: int
    start: int
    old_end: int
    new_len: int


@dataclass
class Document:
    uri: str
    path: Path
    text: str
    version: int
    language: str = "latex"
    edits: list[Edit] = field(default_factory=list)
    first_version: int = 0  # edits are known from this version on
    _lines: Lines | None = None
    _encoding: str = UTF16
    # (since, start, end) -> (version, start, end) | (version, None, None): ranges already
    # carried forward, so typing does not re-walk every edit since the last review
    _memo: dict = field(default_factory=dict)
    _edit_versions: list[int] = field(default_factory=list)

    def lines(self, encoding: str = UTF16) -> Lines:
        if self._lines is None or self._encoding != encoding:
            self._lines = Lines(self.text, encoding)
            self._encoding = encoding
        return self._lines

    def apply(
        self, version: int, changes: list[types.TextDocumentContentChangeEvent], encoding: str
    ) -> None:
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                lines = self.lines(encoding)
                start = lines.offset(change.range.start)
                end = lines.offset(change.range.end)
                new = change.text
            else:
                # Whole text: record the changed middle (common prefix and suffix kept).
                old, new_text = self.text, change.text
                start = 0
                limit = min(len(old), len(new_text))
                while start < limit and old[start] == new_text[start]:
                    start += 1
                tail = 0
                while (
                    tail < limit - start
                    and old[len(old) - 1 - tail] == new_text[len(new_text) - 1 - tail]
                ):
                    tail += 1
                end = len(old) - tail
                new = new_text[start : len(new_text) - tail]
            self.text = self.text[:start] + new + self.text[end:]
            self._lines = None
            self.edits.append(Edit(version, start, end, len(new)))
            self._edit_versions.append(version)
        self.version = version
        if len(self.edits) > MAX_EDITS:
            dropped = self.edits[: len(self.edits) - MAX_EDITS]
            self.edits = self.edits[len(dropped) :]
            self._edit_versions = [edit.version for edit in self.edits]
            self.first_version = dropped[-1].version

    def map_range(self, since: int, start: int, end: int) -> tuple[int, int] | None:
        """A range of the text at version `since` in the current text; None when an edit since
        then touched it (or the edits are no longer known)."""
        if since == self.version:
            return start, end
        key = (since, start, end)
        cached = self._memo.get(key)
        if cached is not None:
            since, start, end = cached
            if start is None:
                return None
            if since == self.version:
                return start, end
        elif since < self.first_version:
            return None
        at = bisect.bisect_right(self._versions(), since)
        placed: tuple[int, int] | None = (start, end)
        for edit in self.edits[at:]:
            if edit.old_end <= start:
                delta = edit.new_len - (edit.old_end - edit.start)
                start, end = start + delta, end + delta
            elif edit.start >= end:
                continue
            else:
                placed = None
                break
        else:
            placed = (start, end)
        if len(self._memo) > 10_000:
            self._memo.clear()
        self._memo[key] = (self.version, *(placed or (None, None)))
        return placed

    def _versions(self) -> list[int]:
        if len(self._edit_versions) != len(self.edits):
            self._edit_versions = [edit.version for edit in self.edits]
        return self._edit_versions


class Documents:
    def __init__(self) -> None:
        self.by_uri: dict[str, Document] = {}

    def open(self, item: types.TextDocumentItem) -> Document:
        doc = Document(
            item.uri,
            uri_path(item.uri),
            item.text,
            item.version,
            item.language_id,
            first_version=item.version,
        )
        self.by_uri[item.uri] = doc
        return doc

    def get(self, uri: str) -> Document | None:
        return self.by_uri.get(uri)

    def by_path(self, path: Path) -> Document | None:
        for doc in self.by_uri.values():
            if doc.path == path:
                return doc
        return None

    def close(self, uri: str) -> None:
        self.by_uri.pop(uri, None)

    def buffers(self) -> dict[str, str]:
        return {str(doc.path): doc.text for doc in self.by_uri.values()}


def uri_path(uri: str) -> Path:
    path = to_fs_path(uri)
    return Path(path if path else uri).resolve()


def path_uri(path: str | Path) -> str:
    return from_fs_path(str(path)) or f"file://{path}"
