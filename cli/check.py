r"""`papercycle check PATH`: the pre-submission gate. Exit 1 while any simulated-result marker
(`\papercyclesimulated{...}` or a `% papercycle: simulated` comment) remains in the project's
files, each printed as `file:line:col: error: [simulated] ...`, or while the paper holds text a
reader cannot see or instructions to an AI reviewer (`... warning: [hidden-text] ...`,
`... error: [hidden-injection] ...`; source-only comments are not counted); 0 when clean; 2 on
errors.

PATH is a .tex file, a project directory, or a file of any other kind (checked as text).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from papercycle.cli.errors import UserError


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the markers as JSON.")
def check(paths, as_json) -> None:
    """Fail (exit 1) while simulated results remain in the paper at PATH.

    \b
    Examples:
      papercycle check paper/
      papercycle check paper/main.tex --json
    """
    from papercycle.daemon.engine import simulated

    markers = []
    hidden: list[dict] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{raw}: no such file or directory")
        found, project = _markers(path, simulated)
        markers += found
        if project is not None:
            hidden += _hidden_findings(project)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in markers] + hidden, indent=2))
    else:
        for m in markers:
            what = (
                "simulated result, replace it with a measured one"
                if m.kind == "macro"
                else "simulated-results marker comment"
            )
            click.echo(f"{m.path}:{m.line}:{m.column}: error: [simulated] {what}: {m.text}")
        for h in hidden:
            click.echo(
                f"{h['path']}:{h['line']}:{h['column']}: {h['severity']}: [{h['kind']}] "
                f"{h['message']}"
            )
        if markers:
            click.echo(f"papercycle: {len(markers)} simulated-result marker(s) remain", err=True)
        if hidden:
            click.echo(
                f"papercycle: {len(hidden)} hidden-text finding(s): text a reader cannot see "
                "or instructions to an AI reviewer",
                err=True,
            )
    sys.exit(1 if markers or hidden else 0)


def _hidden_findings(project) -> list[dict]:
    """Hidden text and injections at warning level or above (LSP numbering: lower is worse)."""
    from papercycle.latex.diagnostics import Severity

    out = []
    for d in project.diagnostics:
        if d.code not in ("hidden-text", "hidden-injection") or d.severity > Severity.WARNING:
            continue
        start = project.lsp_range(d.range).start
        out.append(
            {
                "kind": d.code,
                "severity": "error" if d.severity == Severity.ERROR else "warning",
                "path": str(d.range.path),
                "line": start.line + 1,
                "column": start.character + 1,
                "message": d.message,
            }
        )
    return out


def _markers(path: Path, simulated) -> tuple[list, object]:
    """Simulated-result markers under `path`, and the project built from it (None when the
    path is not a LaTeX project)."""
    from papercycle.latex import Project, ProjectError

    if path.is_file() and path.suffix not in (".tex", ".ltx"):
        return simulated.scan_paths([path]), None
    try:
        project = Project.build(path)
    except ProjectError as error:
        if path.is_dir():  # no LaTeX root: check every .tex file under it
            files = sorted(path.rglob("*.tex"))
            if not files:
                raise UserError(str(error)) from None
            return simulated.scan_paths(files), None
        raise UserError(str(error)) from None
    found = simulated.project_markers(project)
    # Files the include graph does not reach (a drafted section not \input yet) count too.
    seen = {m.path for m in found} | {str(p) for p in project.files}
    base = path if path.is_dir() else path.parent
    extra = [p for p in sorted(base.rglob("*.tex")) if str(p.resolve()) not in seen]
    return found + simulated.scan_paths(p.resolve() for p in extra), project
