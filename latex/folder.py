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
`main.tex -> /etc/passwd` is outside too. Graphics are never read, but one outside the root's
folder is reported: a PDF built from the project would embed it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from papercycle.latex.diagnostics import Diagnostic, Severity
from papercycle.latex.positions import Range

if TYPE_CHECKING:
    from papercycle.latex.document import Document

MAX_PARENT_LEVELS = 3  # a part file looks this far up for the main file that includes it
TEX_SUFFIXES = (".tex", ".ltx", ".latex")
GRAPHICS_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".eps")  # what \includegraphics tries


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


def graphics_outside(doc: Document | None, path: Path, root_dir: Path) -> list[Diagnostic]:
    """A warning per `\\includegraphics` of `doc` whose file lies outside `root_dir` (LaTeX
    resolves it against the root's folder; symlinks resolved)."""
    out: list[Diagnostic] = []
    for macro, in_definition in doc.recorded if doc is not None else ():
        if macro.name != "includegraphics" or in_definition or not macro.args:
            continue
        name = doc.arg_text(macro.args[-1]).strip()
        if not name:
            continue
        target = Path(os.path.normpath(root_dir / name))
        files = [target.with_name(target.name + ext) for ext in GRAPHICS_SUFFIXES]
        if not all(is_within(f, root_dir) for f in (target, *files) if f == target or f.exists()):
            out.append(
                Diagnostic(
                    Severity.WARNING,
                    "graphics-outside-root",
                    f"\\includegraphics{{{name}}}: {target} is outside the project root "
                    f"{root_dir}; a PDF built from this project would embed it",
                    Range(path, macro.start, macro.end),
                )
            )
    return out
