"""A project's files as the model reads them: an editor's unsaved buffer wins over the disk,
disk reads are cached by (mtime, size) and stat'ed once per rebuild, parsed documents are
cached by content digest, and real paths and line indexes are memoized."""

from __future__ import annotations

from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic
from papercycle.latex.document import Document, content_digest, parse
from papercycle.latex.files import (
    ProjectConfig,
    SourceFile,
    clean_path,
    is_file,
    read_source,
)
from papercycle.latex.positions import LineIndex


class ProjectSources:
    def __init__(self, config: ProjectConfig) -> None:
        self.config = config
        self.overlay: dict[Path, str] = {}
        self.docs: dict[Path, Document] = {}
        self._disk: dict[Path, tuple[int, int, SourceFile | Diagnostic]] = {}
        self._indexes: dict[Path, LineIndex] = {}
        self._exists: dict[Path, bool] = {}
        self._resolved: dict[Path, Path] = {}
        self._round: dict[Path, SourceFile | Diagnostic] = {}

    def set_buffer(self, path: Path, text: str | None) -> None:
        """An editor's buffer for `path`; None: closed, read the disk again."""
        if text is None:
            self.overlay.pop(path, None)
            self._disk.pop(path, None)
        else:
            self.overlay[path] = text
        self._exists.pop(path, None)

    def forget_disk(self) -> None:
        """Read every file from disk again (after changes outside the editor)."""
        self._disk.clear()
        self._exists.clear()
        self._resolved.clear()

    def new_round(self) -> None:
        """A rebuild starts: each file is stat'ed at most once in it."""
        self._round = {}

    def known_path(self, p: Path) -> Path:
        """The project's own spelling of a path an editor gives (symlinks, `..`)."""
        if p in self.docs or p in self.overlay:
            return p
        real = self.real(p)
        for known in (*self.docs, *self.overlay):
            if self.real(known) == real:
                return known
        return p

    def source(self, path: Path) -> SourceFile | Diagnostic:
        if path in self.overlay:
            return SourceFile(path, self.overlay[path])
        memo = self._round.get(path)
        if memo is not None:
            return memo
        self._round[path] = src = self._stat_source(path)
        return src

    def _stat_source(self, path: Path) -> SourceFile | Diagnostic:
        try:
            st = path.stat()
            key = (st.st_mtime_ns, st.st_size)
        except OSError:
            key = (-1, -1)
        cached = self._disk.get(path)
        if cached is not None and cached[:2] == key:
            return cached[2]
        src = read_source(path, self.config.max_file_bytes)
        self._disk[path] = (*key, src)
        return src

    def doc(self, path: Path) -> Document | None:
        src = self.source(path)
        if isinstance(src, Diagnostic):
            return None
        old = self.docs.get(path)
        if old is not None and old.text is src.text:
            return old
        digest = content_digest(src.text)
        if old is not None and old.digest == digest:
            return old
        doc = parse(src.text)
        self.docs[path] = doc
        self._indexes.pop(path, None)
        return doc

    def real(self, p: Path) -> Path:
        r = self._resolved.get(p)
        if r is None:
            try:
                r = p.resolve()
            except (OSError, RuntimeError):
                r = p
            self._resolved[p] = r
        return r

    def within(self, p: Path, root_dir: Path) -> bool:
        return self.real(p).is_relative_to(self.real(root_dir))

    def file_exists(self, p: Path) -> bool:
        if p in self.overlay:
            return True
        e = self._exists.get(p)
        if e is None:
            e = self._exists[p] = is_file(p)
        return e

    def file_text(self, p: Path) -> str | None:
        d = self.docs.get(p)
        if d is not None:
            return d.text
        src = self.source(p)
        return None if isinstance(src, Diagnostic) else src.text

    def index(self, path: Path) -> LineIndex:
        idx = self._indexes.get(path)
        if idx is None:
            text = self.file_text(clean_path(path)) or ""
            idx = self._indexes[path] = LineIndex(text)
        return idx
