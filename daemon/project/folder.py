"""The project folder: the part of the disk a project may read.

A project is untrusted input (a cloned repository, an arXiv source): its `.papercycle.toml`
`root`, its `latexmkrc` `@default_files` and its `% !TEX root` comments are the author's
words, not the user's. None of them may make a file outside the folder the user opened the
root (the root's text is what reaches a model, and what `papercycle project --text` prints).
Includes and bibliographies are confined to the root's directory, which lies inside it.

The folder is the directory the user opened (or the directory of the file opened). A part
file may name a main file above it (`% !TEX root = ../main.tex`, subfiles), but only one that
includes it, at most `MAX_PARENT_LEVELS` up, never past a `.git`, and never in the user's home
or the filesystem's root (those hold everything). Every comparison resolves symlinks, so
`main.tex -> /etc/passwd` is outside too.
"""

from __future__ import annotations

from pathlib import Path

from papercycle.daemon.project.diagnostics import Diagnostic, Severity
from papercycle.daemon.project.positions import Range

MAX_PARENT_LEVELS = 3  # a part file looks this far up for the main file that includes it
TEX_SUFFIXES = (".tex", ".ltx", ".latex")


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except (OSError, RuntimeError, ValueError):
        return p


def is_within(path: Path, folder: Path) -> bool:
    """`path` lies inside `folder` once both have their symlinks resolved."""
    return _resolved(path).is_relative_to(_resolved(folder))


def _too_wide(directory: Path) -> bool:
    """The filesystem's root, the user's home or one of its ancestors: not one project."""
    real = _resolved(directory)
    return real.parent == real or _resolved(Path.home()).is_relative_to(real)


def parent_folders(directory: Path) -> list[Path]:
    """The directories above `directory` where a part's main file may live, nearest first."""
    out: list[Path] = []
    parent = directory
    for _ in range(MAX_PARENT_LEVELS):
        if (parent / ".git").exists() or _too_wide(parent.parent):
            break
        parent = parent.parent
        out.append(parent)
    return out


def root_refusal(candidate: Path, folder: Path, where: Path, setting: str) -> Diagnostic | None:
    """Why `candidate`, named as the root by `setting` in the file `where`, cannot be the root
    (None when it can): outside the project folder, or not a LaTeX file."""
    if not is_within(candidate, folder):
        problem = f"is outside the project folder {folder}"
    elif candidate.suffix.lower() not in TEX_SUFFIXES:
        problem = f"is not a LaTeX file ({', '.join(TEX_SUFFIXES)})"
    else:
        return None
    return Diagnostic(
        Severity.ERROR,
        "root-refused",
        f"{where}: {setting} names {candidate}, which {problem}; not used as the root",
        Range(where, 0, 0),
    )
