"""`papercycle config init|path`: the user's configuration file, written as a commented
template (daemon/config_template.py) so that its keys are documented where they are edited."""

from __future__ import annotations

import contextlib

import click
from papercycle.cli.errors import UserError


@click.group("config")
def config() -> None:
    """The user's configuration file (daemon settings and models).

    \b
    Examples:
      papercycle config init
      papercycle config path
    """


@config.command("init")
@click.option("--force", is_flag=True, help="Replace an existing configuration file.")
def init(force: bool) -> None:
    """Write a commented configuration file: every setting, its default and its meaning, and
    the embedded default model when it is installed.

    \b
    Examples:
      papercycle config init            # then edit the file it names
      papercycle config init --force    # start again from the defaults (models are lost)
    """
    from papercycle.daemon.config_template import render
    from papercycle.daemon.models.catalogue import CatalogueError, entries
    from papercycle.daemon.paths import Paths
    from papercycle.private import write_private

    paths = Paths.for_user()
    target = paths.config_file
    if target.exists() and not force:
        raise UserError(
            f"{target} exists (its models would be lost); `papercycle config init --force` "
            "replaces it"
        )
    models = []
    default = next((e for e in entries().values() if e.default), None)
    if default is not None:
        # not installed: the file lists no model, `models pull` adds one
        with contextlib.suppress(CatalogueError):
            models.append(default.model_config())
    write_private(target, render(models))
    registered = f"; registered {models[0].name}" if models else ""
    click.echo(f"wrote {target}{registered}")


@config.command("path")
def path() -> None:
    """Print where the configuration file is (it may not exist yet).

    \b
    Examples:
      papercycle config path
      $EDITOR "$(papercycle config path)"
    """
    from papercycle.daemon.paths import Paths

    click.echo(str(Paths.for_user().config_file))
