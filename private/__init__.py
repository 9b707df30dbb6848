"""Owner-only files and directories: what papercycle keeps for a user (configuration, cache of
reviews, state, logs, the runtime directory) is read by nobody else on the machine.

Reviews of unpublished papers sit in the cache and the logs, so the modes are set explicitly
(directories 0700, files 0600) instead of coming from the umask, which is commonly 022 and
would make them world-readable. A directory or file that exists and belongs to the user is
tightened; one that belongs to someone else is left alone (the caller decides what to do).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
# The daemon process creates only the user's own files (cache, logs, sockets, KV states): any
# file it creates without an explicit mode is owner-only too.
PROCESS_UMASK = 0o077


def _tighten(path: Path, mode: int) -> None:
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != mode:
            path.chmod(mode)


def private_dir(path: Path) -> Path:
    """Create `path` and every missing parent 0700 (mkdir's `mode` applies to the last one
    only, and passes through the umask); tighten `path` itself when it exists."""
    missing = []
    for directory in (path, *path.parents):
        if directory.exists():
            break
        missing.append(directory)
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIRECTORY_MODE)
        _tighten(directory, DIRECTORY_MODE)
    _tighten(path, DIRECTORY_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty 0600 unless it exists; tighten it when it does (a log, a database
    that other code opens by name)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path, content: str | bytes) -> None:
    """Replace `path` with `content` (text as UTF-8) atomically, 0600 from the first byte."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
