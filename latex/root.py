"""Root detection, following the editors' conventions (LaTeX Workshop / VimTeX / texlab): an
explicit override, `.papercycle.toml`, `latexmkrc` `@default_files`, `% !TEX root` magic
comments, subfiles' `\\documentclass[main]{subfiles}`, then files with `\\documentclass` and
`\\begin{document}`, several candidates ranked by the include graph.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papercycle.latex.diagnostics import Diagnostic
from papercycle.latex.document import Document
from papercycle.latex.files import (
    ProjectConfig,
    ProjectError,
    clean_path,
    exists,
    is_dir,
    is_file,
)
from papercycle.latex.folder import TEX_SUFFIXES, is_within, parent_folders, root_refusal

_SKIP_DIRS = frozenset([".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__"])
MAX_SCAN_FILES = 3000
MAX_SCAN_DEPTH = 8
MAX_SCAN_DIRS = 2000


@dataclass(frozen=True, slots=True)
class RootChoice:
    """The main file and why it was chosen. `method` is one of "override", "papercycle.toml",
    "latexmkrc", "magic-comment", "subfiles", "self", "only-candidate", "include-graph"."""

    path: Path
    method: str
    reason: str
    candidates: tuple[Path, ...] = ()
    refused: tuple[Diagnostic, ...] = ()  # roots the project's files named outside its folder


_LATEXMK_DEFAULT = re.compile(r"@default_files\s*=\s*\(([^)]*)\)")
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")
_SUBFILES_CLASS = "subfiles"


def lm_file(directory: Path) -> Path:
    """The latexmkrc of `directory` (the one latexmk reads first)."""
    return next(
        (directory / n for n in (".latexmkrc", "latexmkrc") if is_file(directory / n)),
        directory / "latexmkrc",
    )


def latexmkrc_default(directory: Path) -> str | None:
    for name in (".latexmkrc", "latexmkrc"):
        p = directory / name
        if is_file(p):
            try:
                text = p.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
            m = _LATEXMK_DEFAULT.search(text)
            if m:
                q = _QUOTED.findall(m.group(1))
                if q:
                    return q[0]
    return None


def scan_tex_files(directory: Path) -> list[Path]:
    """TeX files under `directory` (sorted, bounded depth and count, skipping VCS/venvs)."""
    out: list[Path] = []
    base_depth = len(directory.parts)
    for visited, (dirpath, dirnames, filenames) in enumerate(os.walk(directory)):
        if visited >= MAX_SCAN_DIRS:  # PATH is a home directory or "/": do not walk it all
            break
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        if depth >= MAX_SCAN_DEPTH:
            dirnames[:] = []
        for f in sorted(filenames):
            if f.lower().endswith(TEX_SUFFIXES):
                out.append(Path(dirpath) / f)
                if len(out) >= MAX_SCAN_FILES:
                    return out
    return out


def is_main_candidate(doc: Document) -> bool:
    dc = doc.documentclass
    if dc is None or doc.begin_document is None:
        return False
    return doc.arg_text(dc.arg(1)).strip() != _SUBFILES_CLASS


def subfiles_main(doc: Document, path: Path) -> Path | None:
    dc = doc.documentclass
    if dc is None or doc.arg_text(dc.arg(1)).strip() != _SUBFILES_CLASS:
        return None
    opt = doc.arg_text(dc.arg(0)).strip()
    if not opt:
        return None
    p = clean_path(path.parent / opt)
    return p if p.suffix else p.with_name(p.name + ".tex")


def magic_root(doc: Document, path: Path) -> Path | None:
    if doc.magic_root is None:
        return None
    p = clean_path(path.parent / doc.magic_root[0].strip().strip('"'))
    return p if p.suffix else p.with_name(p.name + ".tex")


_PREFERRED_NAMES = ("main.tex", "paper.tex", "ms.tex", "thesis.tex", "article.tex", "root.tex")


def choose_root(
    path: Path,
    load: Callable[[Path], Document | None],
    reach: Callable[[Path], set[Path]],
    override: str | Path | None = None,
    config: ProjectConfig | None = None,
) -> RootChoice:
    """Pick the main file for `path` (a file or directory). `load` parses a file (None when it
    cannot be read), `reach` gives the files a candidate includes (transitively).
    Raises ProjectError when there is no LaTeX project. Only `override` (the user's own
    choice) may name a file outside the project folder (folder.py); a root the project's
    files name outside it is refused with a diagnostic in `RootChoice.refused`."""
    path = clean_path(path)
    if not exists(path):
        raise ProjectError(f"{path}: no such file or directory")
    directory = path if is_dir(path) else path.parent
    if override is not None:
        p = Path(override)
        if not p.is_absolute():
            p = (directory / p) if exists(directory / p) else Path.cwd() / p
        p = clean_path(p)
        if not is_file(p):
            raise ProjectError(f"{p}: root file given as override does not exist")
        return RootChoice(p, "override", f"{p.name} was given explicitly")
    refused: list[Diagnostic] = []
    a_file = is_file(path)
    widest = ([directory, *parent_folders(directory)])[-1] if a_file else directory

    def usable(candidate: Path, where: Path, setting: str) -> bool:
        # a part may name a main file above its folder, but only one that includes it
        including = a_file and is_within(candidate, widest) and path.resolve() in reach(candidate)
        folder = widest if including else directory
        refusal = root_refusal(candidate, folder, where, setting)
        if refusal is not None and refusal not in refused:
            refused.append(refusal)
        return refusal is None

    choice = _choose_root(path, directory, load, reach, config, usable)
    if choice is None:
        raise ProjectError("; ".join([d.message for d in refused] + [_no_project(path, a_file)]))
    return RootChoice(choice.path, choice.method, choice.reason, choice.candidates, tuple(refused))


def _no_project(path: Path, a_file: bool) -> str:
    if a_file:
        return f"{path}: not a main LaTeX file and no main file includes it"
    return f"{path}: no LaTeX project here (no file has \\documentclass and \\begin{{document}})"


def _choose_root(
    path: Path,
    directory: Path,
    load: Callable[[Path], Document | None],
    reach: Callable[[Path], set[Path]],
    config: ProjectConfig | None,
    usable: Callable[[Path, Path, str], bool],
) -> RootChoice | None:
    cfg = config or ProjectConfig.load(directory)[0]
    toml = directory / ".papercycle.toml"
    if cfg.root:
        p = clean_path(directory / cfg.root)
        setting = f"root = {cfg.root!r}"
        if usable(p, toml, setting):
            if not is_file(p):
                raise ProjectError(f"{toml}: {setting} does not exist")
            return RootChoice(p, "papercycle.toml", f"{setting} in .papercycle.toml")
    lm = latexmkrc_default(directory)
    if lm:
        p = clean_path(directory / lm)
        if not p.suffix:
            p = p.with_name(p.name + ".tex")
        if is_file(p) and usable(p, lm_file(directory), f"@default_files = {lm!r}"):
            return RootChoice(p, "latexmkrc", f"@default_files = {lm!r} in latexmkrc")
    if is_file(path):
        doc = load(path)
        if doc is None:
            raise ProjectError(f"{path}: cannot be read as a LaTeX file")
        mr = magic_root(doc, path)
        if mr is not None and is_file(mr) and usable(mr, path, "% !TEX root"):
            return RootChoice(mr, "magic-comment", f"% !TEX root in {path.name}")
        sm = subfiles_main(doc, path)
        if sm is not None and is_file(sm) and usable(sm, path, "\\documentclass[main]{subfiles}"):
            return RootChoice(sm, "subfiles", f"{path.name} is a subfile of {sm.name}")
        if is_main_candidate(doc):
            return RootChoice(
                path, "self", f"{path.name} has \\documentclass and \\begin{{document}}"
            )
        # a part of a project: find the main file that includes it, here or in a parent
        # directory (sections/intro.tex with main.tex one level up)
        files = _inside(scan_tex_files(directory), directory)
        for parent in parent_folders(directory):
            files += _inside(
                sorted(f for f in parent.glob("*") if f.suffix.lower() in TEX_SUFFIXES), parent
            )
        cands = [f for f in files if (d := load(f)) is not None and is_main_candidate(d)]
        owning = [c for c in cands if path.resolve() in reach(c)]
        if owning:
            best = _rank(owning, reach)
            return RootChoice(
                best, "include-graph", f"{best.name} includes {path.name}", tuple(owning)
            )
        return None
    files = _inside(scan_tex_files(directory), directory)
    if not files:
        raise ProjectError(f"{path}: no LaTeX project here (no .tex files)")
    docs = {f: load(f) for f in files}
    votes: dict[Path, int] = {}
    for f, d in docs.items():
        if d is None:
            continue
        mr = magic_root(d, f)
        usable_root = mr is not None and is_file(mr) and mr.resolve() != f.resolve()
        if usable_root and usable(mr, f, "% !TEX root"):
            votes[mr.resolve()] = votes.get(mr.resolve(), 0) + 1
    cands = [f for f, d in docs.items() if d is not None and is_main_candidate(d)]
    if not cands:
        if votes:
            best = max(votes, key=lambda p: votes[p])
            return RootChoice(best, "magic-comment", f"% !TEX root in {votes[best]} file(s)")
        return None
    if len(cands) == 1:
        return RootChoice(
            cands[0],
            "only-candidate",
            f"{_rel(cands[0], directory)} is the only file with \\documentclass and \\begin{{document}}",
            tuple(cands),
        )
    voted = [c for c in cands if c.resolve() in votes]
    if voted:
        best = max(voted, key=lambda c: votes[c.resolve()])
        return RootChoice(
            best, "magic-comment", f"% !TEX root in {votes[best.resolve()]} file(s)", tuple(cands)
        )
    best = _rank(cands, reach)
    others = ", ".join(_rel(c, directory) for c in cands if c != best)
    return RootChoice(
        best,
        "include-graph",
        f"{_rel(best, directory)} chosen among {len(cands)} candidates (not included by another, "
        f"includes the most files; others: {others}); override with --root",
        tuple(cands),
    )


def _inside(files: list[Path], directory: Path) -> list[Path]:
    """The files that are in `directory` once symlinks are resolved (a `main.tex` linked to a
    file elsewhere is not a candidate root)."""
    return [f for f in files if is_within(f, directory)]


def _rel(p: Path, base: Path) -> str:
    try:
        return str(p.relative_to(base))
    except ValueError:
        return str(p)


def _rank(cands: list[Path], reach: Callable[[Path], set[Path]]) -> Path:
    reaches = {c: reach(c) for c in cands}
    resolved = {c: c.resolve() for c in cands}
    included_by_other = {
        c for c in cands if any(resolved[c] in reaches[o] for o in cands if o != c)
    }
    pool = [c for c in cands if c not in included_by_other] or cands

    def key(c: Path):
        preferred = (
            _PREFERRED_NAMES.index(c.name) if c.name in _PREFERRED_NAMES else len(_PREFERRED_NAMES)
        )
        return (-len(reaches[c]), preferred, len(c.parts), str(c))

    return min(pool, key=key)
