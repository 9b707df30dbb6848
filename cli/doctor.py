"""`papercycle doctor [PAPER]`: is this installation ready to review, and if not, what fixes it.

One line per check (cli/doctor_checks.py): Python, the llama.cpp build and its GPU backend, the
configuration file, each model (its file read and checked), the memory budget, the paper's
length against each reviewer's context (PAPER, or the current folder when it holds a LaTeX
project), the daemon, and the editor integrations found. Exit 1 when any line is a problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _paper_here(folder: Path) -> bool:
    """The folder holds a LaTeX project (a .tex file with \\documentclass near its top)."""
    for tex in sorted(folder.glob("*.tex"))[:50]:
        try:
            if "\\documentclass" in tex.read_text(errors="replace")[:20000]:
                return True
        except OSError:
            continue
    return False


@click.command("doctor")
@click.argument("paper", required=False, type=click.Path(exists=True, path_type=Path))
def doctor(paper: Path | None) -> None:
    """Check that papercycle can review: each line is ok, a problem with its fix, or a note.

    \b
    Examples:
      papercycle doctor                  # the installation (and the paper in this folder)
      papercycle doctor ~/papers/mine    # also: does that paper fit each reviewer's context
    """
    from papercycle.cli import doctor_checks as checks
    from papercycle.daemon.paths import Paths

    paths = Paths.for_user()
    config, config_lines = checks.config_check(paths)
    lines = checks.python_check() + checks.llama_check(config) + config_lines
    if config is not None:
        lines += checks.models_check(config) + checks.budget_check(config)
        if paper is None and _paper_here(Path.cwd()):
            paper = Path.cwd()
        if paper is not None:
            lines += checks.context_check(config, paper.absolute())
    lines += checks.daemon_check() + checks.editors_check(Path.home())
    for check in lines:
        click.echo(check.line())
    problems = sum(check.status == "problem" for check in lines)
    click.echo(f"{problems} problem(s)" if problems else "ready")
    sys.exit(1 if problems else 0)
