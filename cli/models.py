"""`papercycle models list|add|remove|info`: the models the daemon may serve, by name."""

from __future__ import annotations

import json

import click
from papercycle.cli.errors import UserError


def _config():
    from papercycle.daemon.config import Config, ConfigError
    from papercycle.daemon.paths import Paths

    try:
        return Config.load(Paths.for_user().config_file)
    except ConfigError as error:
        raise UserError(str(error)) from None


@click.group("models")
def models() -> None:
    """Add, remove and inspect the models the daemon serves."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_models(as_json: bool) -> None:
    """Configured models and whether each one can be used."""
    from papercycle.daemon.models.registry import ModelError, check_model

    config = _config()
    rows = []
    for model in config.models.values():
        try:
            check_model(model)
            problem = None
        except ModelError as error:
            problem = str(error)
        rows.append({**model.to_toml(), "ok": problem is None, "error": problem})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(
            f"no models configured ({config.path}); add one: papercycle models add NAME PATH"
        )
    for row in rows:
        where = row.get("url") or row.get("path")
        state = "ok" if row["ok"] else f"BROKEN: {row['error']}"
        click.echo(
            f"{row['name']:<20} {row['role']:<10} {row['format']:<13} n_ctx {row['n_ctx']:<6} {where}  [{state}]"
        )


@models.command("add")
@click.argument("name")
@click.argument("path", required=False)
@click.option("--role", type=click.Choice(["reviewer", "researcher", "grader"]), default="reviewer")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclereviewer", "deepreviewer", "aiscientist", "section"]),
    default=None,
    help="Prompt format [default: deepreviewer, or the catalogue entry's].",
)
@click.option(
    "--n-ctx", type=int, default=None, help="Context length (default: the model's, at most 16384)."
)
@click.option("--threads", type=int, default=0)
@click.option("--gpu-layers", type=int, default=0)
@click.option(
    "--url", default="", help="OpenAI-compatible endpoint (http backend) instead of a GGUF."
)
@click.option("--api-model", default="", help="Model name the endpoint expects.")
@click.option(
    "--structured",
    is_flag=True,
    help="Force the format's layout with a grammar (untrained models).",
)
@click.option("--temperature", type=float, default=None)
@click.option("--max-tokens", type=int, default=None)
@click.option("--force", is_flag=True, help="Replace a model of the same name.")
def add(
    name,
    path,
    role,
    fmt,
    n_ctx,
    threads,
    gpu_layers,
    url,
    api_model,
    structured,
    temperature,
    max_tokens,
    force,
) -> None:
    """Register model NAME: a GGUF file at PATH, or an endpoint with --url. The file is checked
    now (missing, corrupt, wrong architecture, context length). `add ROLE CATALOGUE-NAME`
    (e.g. `add reviewer smollm2-135m-instruct`) registers a model of the built-in catalogue."""
    from pathlib import Path

    from papercycle.daemon.config import ROLES, ConfigError, ModelConfig
    from papercycle.daemon.models import catalogue
    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata
    from papercycle.daemon.models.registry import ModelError, check_model

    config = _config()
    if name in ROLES and path and not url and not Path(path).exists():
        try:
            entry = catalogue.find(path)
            role, name, path = name, entry.name, str(entry.path())
        except catalogue.CatalogueError as error:
            raise UserError(str(error)) from None
        fmt = fmt or entry.format
        n_ctx = n_ctx or entry.context
        click.echo(f"{entry.name}: {entry.title}, {entry.licence}; {entry.notice}")
    fmt = fmt or "deepreviewer"
    if name in config.models and not force:
        raise UserError(f"a model named {name!r} exists (use --force to replace it)")
    if not path and not url:
        raise UserError("give a GGUF PATH or an endpoint with --url")
    if path and not url:
        path = str(Path(path).expanduser().absolute())
        if n_ctx is None:
            try:
                trained = read_gguf_metadata(Path(path)).context_length
            except GGUFError as error:
                raise UserError(f"model {name!r}: {error}") from None
            n_ctx = min(trained or 4096, 16384)
    sampling = {}
    if temperature is not None:
        sampling["temperature"] = temperature
    if max_tokens is not None:
        sampling["max_tokens"] = max_tokens
    model = ModelConfig(
        name=name,
        path=path or "",
        role=role,
        format=fmt,
        n_ctx=n_ctx or 4096,
        n_threads=threads,
        n_gpu_layers=gpu_layers,
        backend="http" if url else "llama",
        url=url,
        api_model=api_model,
        structured=structured,
        sampling=sampling,
    )
    try:
        model.validate("papercycle models add")
        meta = check_model(model)
    except (ConfigError, ModelError) as error:
        raise UserError(str(error)) from None
    config.models[name] = model
    config.save()
    detail = (
        f"{meta.architecture}, {meta.quantization}, trained context {meta.context_length}"
        if meta
        else url
    )
    click.echo(f"added {name} ({detail}) to {config.path}")


@models.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Forget model NAME (the file is not touched)."""
    config = _config()
    if name not in config.models:
        raise UserError(f"no model named {name!r}")
    del config.models[name]
    config.save()
    click.echo(f"removed {name}")


@models.command("info")
@click.argument("name_or_path")
@click.option("--json", "as_json", is_flag=True)
def info(name_or_path: str, as_json: bool) -> None:
    """GGUF metadata of a configured model (or of a file)."""
    from pathlib import Path

    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata

    config = _config()
    model = config.models.get(name_or_path)
    if model is not None and model.backend == "http":
        click.echo(f"{model.name}: served by {model.url} ({model.api_model or 'default model'})")
        return
    path = Path(model.path if model else name_or_path)
    try:
        meta = read_gguf_metadata(path)
    except GGUFError as error:
        label = f"model {model.name!r}: " if model else ""
        raise UserError(f"{label}{error}") from None
    data = meta.to_json()
    data.pop("chat_template", None)
    if model is not None:
        data["config"] = model.to_toml()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        click.echo(f"{key:<16} {value}")
