"""`papercycle trust [PATH] [--remove] [--list]`: the folders whose projects may declare their
own models.

A project's `.papercycle.toml` may choose among the models in the user's configuration. Its
own `[[models]]` (a GGUF file to load, an HTTP endpoint to send the paper to) count only in a
folder listed here, as VS Code's workspace trust: the list lives in the user's `config.toml`
(`[trust] folders`), never in a project, so a cloned repository cannot trust itself.
"""

from __future__ import annotations

from pathlib import Path

import click
from papercycle.cli.errors import UserError


@click.command("trust")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--remove", is_flag=True, help="Stop trusting PATH.")
@click.option("--list", "as_list", is_flag=True, help="Print the trusted folders.")
def trust(path: Path | None, remove: bool, as_list: bool) -> None:
    """Trust the projects in folder PATH to declare their own models (GGUF files, endpoints).

    \b
    Examples:
      papercycle trust ~/papers
      papercycle trust --list
      papercycle trust ~/papers --remove
    """
    from papercycle.cli.models import _config

    config = _config()
    if as_list or path is None:
        for folder in config.trusted:
            click.echo(folder)
        if not config.trusted:
            click.echo(f"no trusted folders ({config.path})")
        return
    folder = str(path.expanduser().resolve())
    if remove:
        if folder not in config.trusted:
            raise UserError(f"{folder} is not in the trusted folders of {config.path}")
        config.trusted.remove(folder)
        config.save()
        click.echo(f"no longer trusted: {folder}")
        return
    if not path.is_dir():
        raise UserError(f"{path}: not a folder (trust the folder that holds the project)")
    if folder not in config.trusted:
        config.trusted.append(folder)
        config.save()
    click.echo(f"trusted: {folder} (its projects' [[models]] are used)")
