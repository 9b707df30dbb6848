"""The `papercycle` entry point.

Subcommands are loaded only when invoked, so `papercycle --version` or a daemon
command never pays for importing the trainer (torch) or the language server.
Each command lives in its own module in this package.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import version

import click

# name -> "module:attribute" of a click command, relative to papercycle.cli
COMMANDS: dict[str, str] = {
    "export": "export:export",
    "inspect": "inspect_gguf:inspect",
    "tiny": "tiny:tiny",
    "parse-review": "parse_review:parse_review",
    "project": "project:project",
    "train": "train:train",
    "eval": "eval:eval_",
    "daemon": "daemon:daemon",
    "models": "models:models",
    "review": "review:review",
    "cache": "cache:cache",
    "lsp": "lsp:lsp",
    "draft": "draft:draft",
    "check": "check:check",
    "plan": "plan:plan",
    "rubric": "rubric:rubric",
    "web": "web:web",
    "trust": "trust:trust",
    "config": "config:config",
    "doctor": "doctor:doctor",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        available = [name for name, target in COMMANDS.items() if _module_exists(target)]
        return sorted(available + list(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None or not _module_exists(target):
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"papercycle.cli.{module_name}")
        return getattr(module, attribute)


def _module_exists(target: str) -> bool:
    module_name = target.split(":")[0]
    return importlib.util.find_spec(f"papercycle.cli.{module_name}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("papercycle"), prog_name="papercycle")
def cli() -> None:
    """papercycle: a local AI reviewer and co-author for LaTeX papers."""


def main() -> None:
    try:
        cli.main(prog_name="papercycle", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
