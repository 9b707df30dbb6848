"""Files of a project: paths spelled one way, reading (encoding, size limit), the project's
configuration (`.papercycle.toml`) and where each include command may point. Root detection is
in `root.py`."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.document import INCLUDE_MACROS, Document, Macro
from papercycle.latex.folder import TEX_SUFFIXES
from papercycle.latex.positions import Range

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024


def clean_path(p: str | Path) -> Path:
    """Absolute, with `.` and `..` folded lexically (as editors spell paths): one spelling per
    file, so caches and the include graph never see the same file twice."""
    return Path(os.path.normpath(Path(p).absolute()))


def is_file(p: Path) -> bool:
    """Path.is_file that says False instead of raising (a 5000-character \\input argument)."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except (OSError, ValueError):
        return False


def exists(p: Path) -> bool:
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


class ProjectError(Exception):
    """PATH holds no LaTeX project (or cannot be read). The message is one line."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A decoded file. `problems` are decoding warnings (replacement characters)."""

    path: Path
    text: str
    problems: tuple[Diagnostic, ...] = ()


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> SourceFile | Diagnostic:
    """Read and decode a file. Returns a Diagnostic (never raises) when it cannot be used:
    missing, unreadable, a directory, or over the size limit."""
    try:
        size = path.stat().st_size
        if not is_file(path):
            return Diagnostic(Severity.ERROR, "file-unreadable", f"{path}: not a regular file")
        if size > max_bytes:
            return Diagnostic(
                Severity.ERROR,
                "file-too-large",
                f"{path}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit "
                "(set max_file_bytes in .papercycle.toml to raise it); file not read",
                Range(path, 0, 0),
            )
        data = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        msg = getattr(exc, "strerror", None) or str(exc)
        return Diagnostic(Severity.ERROR, "file-unreadable", f"{path}: {msg}")
    return decode_source(path, data)


def decode_source(path: Path, data: bytes) -> SourceFile:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return SourceFile(path, data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        # position of the first bad byte, in characters of the decoded text
        prefix = data[: exc.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        return SourceFile(
            path,
            text,
            (
                Diagnostic(
                    Severity.WARNING,
                    "encoding",
                    f"{path.name}: not valid UTF-8 (first bad byte on line {line}); "
                    "undecodable bytes were replaced with U+FFFD",
                    Range(path, len(prefix), len(prefix) + 1),
                ),
            ),
        )


# ---------------------------------------------------------------------------------------------
# Include graph


@dataclass(frozen=True, slots=True)
class IncludeEdge:
    """One include command. `target` is the resolved file (None when missing or refused);
    `status` is "ok", "missing", "outside-root", "cycle", "excluded" (by \\includeonly) or
    "too-large"/"unreadable"."""

    source: Path
    command: str
    argument: str
    range: Range
    target: Path | None
    status: str = "ok"


def _candidates(base: Path, name: str, force_tex: bool) -> list[Path]:
    name = name.strip().strip('"')
    if not name:
        return []
    p = Path(name)
    if not p.is_absolute():
        p = base / p
    p = clean_path(p)
    if not p.name:  # "/" or an empty name: nothing to include
        return []
    out = []
    has_ext = bool(p.suffix) and p.suffix.lower() in (
        *TEX_SUFFIXES,
        ".txt",
        ".sty",
        ".cls",
        ".bbl",
        ".tikz",
    )
    if force_tex:
        out.append(p if p.suffix == ".tex" else p.with_name(p.name + ".tex"))
    else:
        if has_ext:
            out.append(p)
        out.append(p.with_name(p.name + ".tex"))
        if not has_ext:
            out.append(p)
    return out


def include_targets(
    doc: Document, path: Path, root_dir: Path
) -> list[tuple[Macro, str, list[Path]]]:
    """For each include command of `doc` (outside definitions): the command, its argument and
    the candidate paths to try in order (LaTeX resolves relative to the root directory;
    subfiles and \\subimport relative to the including file)."""
    out = []
    here = path.parent
    for macro, in_def in doc.recorded:
        name = macro.name
        if in_def or name not in INCLUDE_MACROS:
            continue
        if name in ("input", "include", "subfile", "InputIfFileExists"):
            arg = doc.arg_text(macro.arg(0)).strip()
            force = name == "include"
            if name == "subfile":
                cands = _candidates(here, arg, False)
            else:
                cands = _candidates(root_dir, arg, force)
                if here != root_dir:
                    cands += [c for c in _candidates(here, arg, force) if c not in cands]
        else:  # \import{dir}{file} and friends
            d = doc.arg_text(macro.arg(0)).strip()
            f = doc.arg_text(macro.arg(1)).strip()
            arg = d + f if d.endswith("/") or not d else d + "/" + f
            base = here if name.startswith("sub") else root_dir
            cands = _candidates(base, arg, name.endswith("includefrom"))
        out.append((macro, arg, cands))
    return out


@dataclass(slots=True)
class ProjectConfig:
    """Settings, from `.papercycle.toml` ([project] table or top level) or the caller."""

    root: str | None = None
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path) -> tuple[ProjectConfig, Diagnostic | None]:
        path = directory / ".papercycle.toml"
        if not is_file(path):
            return cls(), None
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            return cls(), Diagnostic(
                Severity.WARNING, "config", f"{path}: cannot read ({exc}); using defaults"
            )
        table = data.get("project", data)
        cfg = cls()
        if isinstance(table.get("root"), str):
            cfg.root = table["root"]
        mfb = table.get("max_file_bytes")
        if isinstance(mfb, int) and mfb > 0:
            cfg.max_file_bytes = mfb
        return cfg, None
