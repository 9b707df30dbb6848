"""`papercycle project PATH`: what the project model sees in a LaTeX project."""

from __future__ import annotations

import json
import sys

import click
from papercycle.cli.errors import UserError


@click.command("project")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.option("--text", "as_text", is_flag=True, help="Print the visible prose the model reads.")
@click.option("--root", "root", default=None, help="Main file to use (overrides detection).")
def project(path: str, as_json: bool, as_text: bool, root: str | None) -> None:
    """Show the root file chosen and why, files and include graph, section tree with ranges,
    citations, bibliography problems and hidden-text findings of the LaTeX project at PATH.

    \b
    Examples:
      papercycle project paper/
      papercycle project paper/ --text
      papercycle project paper/ --root main.tex --json
    """
    from papercycle.latex import Project, ProjectError

    try:
        proj = Project.build(path, root=root)
    except ProjectError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    if as_text:
        # --text prints no diagnostics: a root the project named outside itself is said here
        for refusal in proj.root.refused:
            click.echo(f"papercycle: {refusal.message}", err=True)
        click.echo(proj.visible.text)
        return
    if as_json:
        json.dump(proj.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        click.echo()
        return
    _print_human(proj)


def _loc(proj, r) -> str:
    if r is None:
        return "-"
    line, col = proj.line_index(r.path).line_col(r.start)
    try:
        name = r.path.relative_to(proj.root_dir)
    except ValueError:
        name = r.path
    return f"{name}:{line}:{col}"


def _print_human(proj) -> None:
    echo = click.echo
    echo(f"root: {proj.root.path}")
    echo(f"  why: {proj.root.reason}")
    if len(proj.root.candidates) > 1:
        echo("  candidates: " + ", ".join(str(c) for c in proj.root.candidates))
    echo(f"files ({len(proj.files)}):")
    for f in proj.files:
        echo(f"  {f.relative_to(proj.root_dir) if f.is_relative_to(proj.root_dir) else f}")
    if proj.includes:
        echo("include graph:")
        for e in proj.includes:
            target = e.target.name if e.target is not None else "?"
            mark = "" if e.status == "ok" else f"  [{e.status}]"
            echo(f"  {_loc(proj, e.range)} \\{e.command}{{{e.argument}}} -> {target}{mark}")
    echo("sections:")
    for node in proj.structure.root.walk():
        if node.kind == "document":
            continue
        depth = max(node.level, 0) if node.level >= 0 else 0
        echo(f"  {'  ' * depth}{node.display_name()}  ({_loc(proj, node.range)})")
    if proj.structure.floats:
        echo("floats:")
        for f in proj.structure.floats:
            echo(f"  {f.kind} {f.number or '-'}: {f.caption[:70]}  ({_loc(proj, f.range)})")
    bib = proj.bibliography
    cites = proj.structure.citations
    echo(
        f"citations: {len(cites)} ({len({c.key for c in cites})} keys); bibliography: {bib.kind}, "
        f"{len(bib.entries)} entries"
        + (
            f" ({sum(1 for e in bib.entries.values() if e.abstract)} with abstracts)"
            if bib.entries
            else ""
        )
    )
    if bib.undefined:
        echo("  undefined: " + ", ".join(sorted(bib.undefined)))
    if bib.unused:
        echo("  unused: " + ", ".join(bib.unused))
    problems = [
        d
        for d in proj.diagnostics
        if d.code.startswith(("bib-", "include-", "encoding", "file-", "ref-", "label-"))
        and d.code not in ("bib-unused",)
    ]
    if problems:
        echo("problems:")
        for d in problems:
            echo(f"  {d.severity.name.lower()}: {_loc(proj, d.range)} {d.message}")
    if proj.hidden:
        echo(f"hidden text ({len(proj.hidden)}):")
        for h in proj.hidden:
            tag = "INJECTION " if h.injection else ""
            preview = h.text if len(h.text) <= 100 else h.text[:100] + "..."
            echo(
                f"  {tag}{h.method}: {_loc(proj, h.range)} {h.detail}"
                + (f": {preview!r}" if preview else "")
            )
    else:
        echo("hidden text: none")
    echo(f"visible text: {len(proj.visible.text)} characters (--text to print it)")
