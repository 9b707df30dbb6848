"""`papercycle train RECIPE --config FILE`: run a training recipe (see trainer/configs/)."""

from __future__ import annotations

from pathlib import Path

import click
from papercycle.cli.errors import UserError

RECIPE_NAMES = ("sft-reviewer", "sft-researcher", "simpo", "rubric-grpo")


def _overrides(pairs: tuple[str, ...]) -> dict:
    import yaml

    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set {pair!r}: expected KEY=VALUE")
        values[key.strip()] = yaml.safe_load(value)
    return values


@click.command()
@click.argument("recipe", type=click.Choice(RECIPE_NAMES))
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path), required=True,
    help="The recipe's YAML config.",
)  # fmt: skip
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config key.")
@click.option("--no-export", is_flag=True, help="Do not export the result to GGUF.")
@click.option("--check", is_flag=True, help="Validate the config and stop (loads no model).")
def train(recipe, config_file, sets, no_export, check):
    """Train with RECIPE: sft-reviewer, sft-researcher, simpo or rubric-grpo.

    \b
    Examples:
      papercycle train sft-reviewer --config trainer/configs/sft-reviewer.yaml --check
      papercycle train sft-reviewer --config my.yaml --set lr=1e-4
    """
    from papercycle.trainer.config import ConfigError, load_config
    from papercycle.trainer.recipes.registry import RECIPES

    config_class, run = RECIPES[recipe]
    overrides = _overrides(sets)
    if no_export:
        overrides["export"] = False
    try:
        config = load_config(config_class, config_file, overrides)
        if check:
            click.echo(f"{config_file}: a valid {recipe} config")
            return
        result = run(config, say=click.echo)
    except ConfigError as error:
        raise UserError(str(error)) from None
    except Exception as error:
        from papercycle.trainer.data.records import DataError
        from papercycle.trainer.export.errors import ExportError
        from papercycle.trainer.generation.client import GenerationError

        if isinstance(error, DataError | ExportError | GenerationError):
            raise UserError(str(error)) from None
        raise
    click.echo(f"done: {result.gguf or result.model_dir}")
