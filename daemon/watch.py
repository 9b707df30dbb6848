"""Watching a project's files (watchdog: inotify on Linux), debounced.

Every relevant event (a `.tex`, `.bib`, `.sty`, `.cls`, `.bbl`, `latexmkrc`,
`.papercycle.toml` created, written, deleted, or the target of a rename) adds its path to a
pending set and restarts a quiet timer; when nothing happened for `debounce` seconds (or the
first pending change is `max_delay` old, so a file written without pause still updates), the
callback gets the whole set once. So an editor that saves by writing a temporary file and
renaming it over the original (vim's `backupcopy=no`, Emacs, JetBrains "safe write") is one
update, and a `git checkout` touching 100 files is one update. Editor temporaries (`.swp`,
`~`, `.#file`, `4913`) are not relevant files; files inside
version-control folders (`.git`, ...) are skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("papercycle.daemon.watch")

SUFFIXES = {".tex", ".bib", ".sty", ".cls", ".bbl", ".ltx"}
NAMES = {"latexmkrc", ".latexmkrc", ".papercycle.toml"}
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", "_minted"}


def relevant(path: str | Path) -> bool:
    p = Path(path)
    if any(part in SKIP_DIRS for part in p.parts[:-1]):
        return False
    name = p.name
    if name in NAMES:
        return True
    if name.startswith((".#", "~")) or name.endswith("~"):
        return False
    return p.suffix.lower() in SUFFIXES


class Watcher:
    """Watches `root` recursively; calls `callback(paths)` on the event loop after a quiet
    period. Start and stop it from the loop."""

    def __init__(
        self,
        root: Path,
        callback: Callable[[set[Path]], None],
        debounce: float = 1.5,
        max_delay: float | None = None,
    ) -> None:
        self.root = root
        self.callback = callback
        self.debounce = max(0.0, float(debounce))
        self.max_delay = max_delay if max_delay is not None else max(10 * self.debounce, 5.0)
        self.pending: set[Path] = set()
        self.events = 0  # relevant filesystem events seen
        self.batches = 0  # callbacks made
        self._first: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer = None

    def start(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        self._loop = asyncio.get_running_loop()
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write", "closed"):
                    return
                paths = [event.src_path]
                if getattr(event, "dest_path", ""):
                    paths.append(event.dest_path)
                for raw in paths:
                    path = raw.decode() if isinstance(raw, bytes) else raw
                    if not event.is_directory and relevant(path):
                        watcher._from_thread(Path(path))

        observer = Observer()
        observer.schedule(Handler(), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer

    def _from_thread(self, path: Path) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.touch, path)

    def touch(self, path: Path) -> None:
        """A change of `path` (also callable directly, e.g. by tests)."""
        assert self._loop is not None
        self.events += 1
        self.pending.add(path.absolute())
        now = time.monotonic()
        if self._first is None:
            self._first = now
        if self._timer is not None:
            self._timer.cancel()
        wait = min(self.debounce, max(0.0, self._first + self.max_delay - now))
        self._timer = self._loop.call_later(wait, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._first = None
        paths, self.pending = self.pending, set()
        if not paths:
            return
        self.batches += 1
        try:
            self.callback(paths)
        except Exception:  # a callback bug must not stop watching
            log.exception("watch callback failed")

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout=5)
