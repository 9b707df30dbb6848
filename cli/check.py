r"""`papercycle check PATH`: the pre-submission gate. Exit 1 while any simulated-result marker
(`\papercyclesimulated{...}` or a `% papercycle: simulated` comment) remains in the project's
files, each printed as `file:line:col: error: [simulated] ...`; 0 when clean; 2 on errors.

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
    """Fail (exit 1) while simulated results remain in the paper at PATH."""
    from papercycle.daemon.engine import simulated

    markers = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UserError(f"{raw}: no such file or directory")
        markers += _markers(path, simulated)
    if as_json:
        click.echo(json.dumps([m.to_dict() for m in markers], indent=2))
    else:
        for m in markers:
            what = (
                "simulated result, replace it with a measured one"
                if m.kind == "macro"
                else "simulated-results marker comment"
            )
            click.echo(f"{m.path}:{m.line}:{m.column}: error: [simulated] {what}: {m.text}")
        if markers:
            click.echo(f"papercycle: {len(markers)} simulated-result marker(s) remain", err=True)
    sys.exit(1 if markers else 0)


def _markers(path: Path, simulated) -> list:
    from papercycle.daemon.project import Project, ProjectError

    if path.is_file() and path.suffix not in (".tex", ".ltx"):
        return simulated.scan_paths([path])
    try:
        project = Project.build(path)
    except ProjectError as error:
        if path.is_dir():  # no LaTeX root: check every .tex file under it
            files = sorted(path.rglob("*.tex"))
            if not files:
                raise UserError(str(error)) from None
            return simulated.scan_paths(files)
        raise UserError(str(error)) from None
    found = simulated.project_markers(project)
    # Files the include graph does not reach (a drafted section not \input yet) count too.
    seen = {m.path for m in found} | {str(p) for p in project.files}
    base = path if path.is_dir() else path.parent
    extra = [p for p in sorted(base.rglob("*.tex")) if str(p.resolve()) not in seen]
    return found + simulated.scan_paths(p.resolve() for p in extra)
