"""`papercycle models pull NAME|HF_REPO_ID`: from a name to a registered model.

A catalogue name whose file is installed with papercycle (SmolLM2) is registered as it is,
nothing downloaded. Otherwise the repository (the entry's, or the Hugging Face id given) is
pinned to the commit it serves now, and before a byte is downloaded the user is shown the
licence line and what it will take (download, disk, RAM at the context it will run with); the
pull is refused, with the numbers, when this machine cannot hold it (`force` goes on anyway).
A GGUF repository gives its file for the quantization asked; a checkpoint is downloaded and
converted by `papercycle export` (the `[train]` extra) in a subprocess, as a user would run it.
The model is registered with the entry's format, role, context and sampling, and with the
repository and commit it came from. Files live in `<data>/models/<name>/`; `pull.json` there
records what was pulled, so pulling the same thing again registers it without downloading.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papercycle.daemon.config import Config, ConfigError, ModelConfig
from papercycle.daemon.models import catalogue, checkpoint_size, hub_download
from papercycle.daemon.models.catalogue import CatalogueEntry, CatalogueError
from papercycle.daemon.models.hub_download import RemoteFile, RepoRevision
from papercycle.daemon.models.memory_estimate import (
    BITS_PER_WEIGHT,
    MemoryNeed,
    free_disk,
    gib,
    machine_ram,
    memory_need,
    weights_bytes,
)
from papercycle.daemon.models.registry import ModelError, check_model

DEFAULT_QUANT = "Q4_K_M"
MAX_DEFAULT_CONTEXT = 16384  # as `models add`: a model without a catalogue entry
# What of a checkpoint the converter reads (weights, configuration, tokenizer, chat template)
CHECKPOINT_SUFFIXES = (".safetensors", ".json", ".model", ".jinja", ".txt", ".tiktoken")
# Quantizations `papercycle export --quant` writes, by the name it takes
EXPORT_QUANTS = {"Q4_K_M": "Q4_K_M", "Q5_K_M": "Q5_K_M", "Q8_0": "Q8_0", "F16": "f16", "F32": "f32"}

Say = Callable[[str], None]


class PullError(RuntimeError):
    """A pull refused or failed; the message is one line with the numbers or the fix."""


@dataclass
class PullRequest:
    source: str  # a catalogue name, or a Hugging Face id OWNER/NAME
    models_dir: Path
    quant: str | None = None
    revision: str | None = None
    name: str | None = None  # register under this name (default: the catalogue's, the repo's)
    role: str | None = None
    format: str | None = None
    n_ctx: int | None = None
    force: bool = False  # past the disk and RAM refusals, and over a model of the same name
    keep_checkpoint: bool = False
    pre_tokenizer: str | None = None  # passed to `papercycle export` (self-trained vocabularies)
    endpoint: str | None = None  # default: HF_ENDPOINT, else huggingface.co


def pull(request: PullRequest, config: Config, say: Say) -> ModelConfig:
    entry = _entry(request.source)
    quant = _quant(request.quant)
    name = request.name or (entry.name if entry else request.source.split("/")[-1].lower())
    if entry and entry.installed_quant and quant in (None, entry.installed_quant):
        return _register_installed(entry, name, request, config, say)
    repo = entry.hf_repo if entry else request.source
    if entry and entry.gguf_repos:
        repo = entry.gguf_repos[0]
    pinned = hub_download.resolve(repo, request.revision, request.endpoint)
    folder = request.models_dir / name
    recorded = _recorded(folder)
    quant = quant or DEFAULT_QUANT
    if recorded and (recorded["repo"], recorded["commit"], recorded["quant"]) == (
        pinned.repo,
        pinned.commit,
        quant,
    ):
        pinned_here = f"{pinned.repo}@{pinned.commit[:12]} ({quant})"
        say(f"{name}: {pinned_here} is already here: nothing to download")
        model = _model(entry, request, name, folder / recorded["file"], pinned)
        return _register(model, config, request, say)

    ggufs = [f for f in pinned.files if f.name.lower().endswith(".gguf")]
    say(_licence_line(entry, pinned, request.endpoint))
    if pinned.gated and not hub_download.has_token():
        raise PullError(
            f"{pinned.repo} is gated: accept its licence at "
            f"{hub_download.endpoint_url(request.endpoint)}/{pinned.repo} (logged in), then set "
            "HF_TOKEN to a read token of that account; nothing was downloaded"
        )
    if ggufs:
        files = _gguf_files(pinned, ggufs, quant, request.quant is not None)
        weights = sum(f.size or 0 for f in files)
        need = memory_need(0, quant, _context(entry, request), _shape(entry), weights)
        _check_room(files, 0, need, folder, request, config, say)
        for remote in files:
            hub_download.download(pinned, remote, folder / remote.name, request.endpoint)
        gguf = folder / files[0].name
    else:
        gguf = _pull_checkpoint(entry, pinned, quant, name, folder, request, config, say)
    model = _model(entry, request, name, gguf, pinned)
    model = _register(model, config, request, say)
    (folder / "pull.json").write_text(
        json.dumps(
            {"repo": pinned.repo, "commit": pinned.commit, "quant": quant, "file": gguf.name},
            indent=2,
        )
    )
    return model


def _entry(source: str) -> CatalogueEntry | None:
    try:
        return catalogue.find(source)
    except CatalogueError as error:
        if "/" in source.strip("/"):
            return None  # a Hugging Face id the catalogue does not know
        raise PullError(f"{error}; or give a Hugging Face id, OWNER/NAME") from None


def _quant(asked: str | None) -> str | None:
    if asked is None:
        return None
    quant = asked.upper()
    if quant not in BITS_PER_WEIGHT:
        known = ", ".join((*EXPORT_QUANTS, "Q4_1"))
        raise PullError(f"unknown quantization {asked!r} (choose from {known})")
    return quant


def _register_installed(
    entry: CatalogueEntry, name: str, request: PullRequest, config: Config, say: Say
) -> ModelConfig:
    try:
        path = entry.path()
    except CatalogueError as error:
        raise PullError(str(error)) from None
    say(entry.licence_line())
    say(f"nothing to download: {entry.name} was installed with papercycle ({path})")
    model = entry.model_config(request.role, path, request.n_ctx)
    model.name = name
    if request.format:
        model.format = request.format
    return _register(model, config, request, say)


def _recorded(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / "pull.json").read_text())
    except (OSError, ValueError):
        return None
    keys = ("repo", "commit", "quant", "file")
    if not isinstance(record, dict) or not all(isinstance(record.get(k), str) for k in keys):
        return None
    return record if (folder / record["file"]).is_file() else None


def _licence_line(entry: CatalogueEntry | None, pinned: RepoRevision, endpoint: str | None) -> str:
    if entry is not None:
        return entry.licence_line()
    page = f"{hub_download.endpoint_url(endpoint)}/{pinned.repo}"
    stated = pinned.licence or "not stated by the repository"
    return f"licence: {stated}; read the terms at {page} before use"


def _context(entry: CatalogueEntry | None, request: PullRequest) -> int:
    if request.n_ctx:
        return request.n_ctx
    return entry.context if entry else MAX_DEFAULT_CONTEXT


def _shape(entry: CatalogueEntry | None) -> tuple[int, int, int] | None:
    return entry.shape() if entry else None


def _gguf_files(
    pinned: RepoRevision, ggufs: list[RemoteFile], quant: str, asked: bool
) -> list[RemoteFile]:
    """The GGUF file (or the parts of a split one) for `quant`; the only GGUF when none was
    asked for and the repository has just one."""
    if len(ggufs) == 1 and not asked:
        return ggufs
    wanted = [f for f in ggufs if quant.lower() in f.name.lower()]
    if not wanted:
        names = ", ".join(f.name for f in ggufs)
        raise PullError(f"{pinned.repo} has no {quant} GGUF (it has {names}); choose with --quant")
    return sorted(wanted, key=lambda f: f.name)  # split files: part 1 first, llama.cpp reads on


def _checkpoint_files(pinned: RepoRevision) -> list[RemoteFile]:
    names = {f.name for f in pinned.files}
    if "config.json" not in names or not any(n.endswith(".safetensors") for n in names):
        raise PullError(
            f"{pinned.repo}@{pinned.commit[:12]} has neither GGUF files nor a safetensors "
            "checkpoint (config.json and *.safetensors)"
        )
    return [f for f in pinned.files if f.name.endswith(CHECKPOINT_SUFFIXES) and "/" not in f.name]


def _pull_checkpoint(
    entry: CatalogueEntry | None,
    pinned: RepoRevision,
    quant: str,
    name: str,
    folder: Path,
    request: PullRequest,
    config: Config,
    say: Say,
) -> Path:
    if quant not in EXPORT_QUANTS:
        raise PullError(f"papercycle export writes {', '.join(EXPORT_QUANTS)}, not {quant}")
    files = _checkpoint_files(pinned)
    if not all(importlib.util.find_spec(m) for m in ("torch", "transformers", "safetensors")):
        raise PullError(
            f"{pinned.repo} is a checkpoint: converting it to GGUF needs the [train] extra "
            "(pip install 'papercycle[train]'); nothing was downloaded"
        )
    checkpoint = folder / "checkpoint"
    stored = sum(f.size or 0 for f in files if f.name.endswith(".safetensors"))
    if entry is not None:
        params, shape, n_ctx = entry.params, entry.shape(), request.n_ctx or entry.context
    else:
        # nothing known: its config.json (a few KB) gives the shape and the context first
        config_file = hub_download.download(
            pinned, pinned.file("config.json"), checkpoint / "config.json", request.endpoint
        )
        try:
            size = checkpoint_size.read(config_file, stored)
        except ValueError as error:
            raise PullError(f"{pinned.repo}: {error}") from None
        params, shape = size.params, size.shape
        n_ctx = request.n_ctx or min(size.context or 4096, MAX_DEFAULT_CONTEXT)
    need = memory_need(params, quant, n_ctx, shape)
    # on disk at once: the checkpoint, the converter's unquantized GGUF, the quantized one
    intermediate = 0 if quant in ("F16", "F32") else stored
    output = folder / f"{name}-{quant}.gguf"
    _check_room(
        files, weights_bytes(params, quant) + intermediate, need, folder, request, config, say
    )
    for remote in files:
        hub_download.download(pinned, remote, checkpoint / remote.name, request.endpoint)
    say(f"converting {pinned.repo} to {quant} with papercycle export")
    command = [sys.executable, "-m", "papercycle.cli", "export", str(checkpoint), "-o", str(output)]
    command += ["--quant", EXPORT_QUANTS[quant]]
    if request.pre_tokenizer:
        command += ["--pre-tokenizer", request.pre_tokenizer]
    exported = subprocess.run(command, check=False)
    if exported.returncode != 0:
        raise PullError(
            f"papercycle export failed on {pinned.repo} (exit {exported.returncode}, its error "
            f"is above); the downloaded checkpoint is kept in {checkpoint}"
        )
    if not request.keep_checkpoint:
        shutil.rmtree(checkpoint)
        say(f"removed the downloaded checkpoint ({gib(stored)}; --keep-checkpoint keeps it)")
    return output


def _check_room(
    files: list[RemoteFile],
    written: int,
    need: MemoryNeed,
    folder: Path,
    request: PullRequest,
    config: Config,
    say: Say,
) -> None:
    """Say what the pull takes; refuse (unless forced) when the disk or the RAM is too small.
    `written` is what is written besides the downloads (a conversion's output)."""
    # a resumed pull needs only the rest
    remaining = sum(max(0, (f.size or 0) - _have(folder, f)) for f in files)
    disk = remaining + written
    free = free_disk(folder)
    ram = machine_ram()
    say(
        f"needs: {gib(remaining)} to download, {gib(disk)} of disk ({gib(free)} free at "
        f"{folder.parent}), {need.describe()}; this machine has {gib(ram)} RAM"
    )
    problems = []
    if disk > free:
        problems.append(f"{gib(disk)} of disk but {gib(free)} is free at {folder.parent}")
    if ram is not None and need.total > ram:
        problems.append(
            f"{gib(need.total)} of RAM but this machine has {gib(ram)} "
            "(a smaller --quant or --n-ctx needs less)"
        )
    if problems and not request.force:
        raise PullError(f"not pulled: it needs {' and '.join(problems)}; --force pulls anyway")
    budget = config.daemon.memory_budget_mb * 2**20
    if need.total > budget:
        say(
            f"note: that is more than the daemon's memory budget ({gib(budget)}): raise "
            f"memory_budget_mb in [daemon] of {config.path} to serve it"
        )


def _have(folder: Path, remote: RemoteFile) -> int:
    """Bytes of `remote` already here (complete or partial) from an earlier pull."""
    for place in (folder / remote.name, folder / "checkpoint" / remote.name):
        for candidate in (place, hub_download.partial_path(place)):
            if candidate.is_file():
                return candidate.stat().st_size
    return 0


def _model(
    entry: CatalogueEntry | None,
    request: PullRequest,
    name: str,
    gguf: Path,
    pinned: RepoRevision,
) -> ModelConfig:
    if entry is not None:
        model = entry.model_config(request.role, gguf, request.n_ctx)
        model.name = name
    else:
        model = ModelConfig(
            name=name,
            path=str(gguf),
            role=request.role or "reviewer",
            format="deepreviewer",
            n_ctx=request.n_ctx or _gguf_context(gguf),
        )
    if request.format:
        model.format = request.format
    model.hf_repo, model.revision = pinned.repo, pinned.commit
    return model


def _gguf_context(gguf: Path) -> int:
    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata

    try:
        trained = read_gguf_metadata(gguf).context_length
    except GGUFError as error:
        raise PullError(str(error)) from None
    return min(trained or 4096, MAX_DEFAULT_CONTEXT)


def _register(model: ModelConfig, config: Config, request: PullRequest, say: Say) -> ModelConfig:
    existing = config.models.get(model.name)
    if existing is not None and existing.path != model.path and not request.force:
        raise PullError(
            f"a model named {model.name!r} exists ({existing.path or existing.url}); pull with "
            "--name to register it under another name, or --force to replace it"
        )
    try:
        model.validate("papercycle models pull")
        meta = check_model(model)
    except (ConfigError, ModelError) as error:
        raise PullError(str(error)) from None
    config.models[model.name] = model
    config.save()
    pinned = f", {model.hf_repo}@{model.revision[:12]}" if model.revision else ""
    detail = f"{meta.architecture}, {meta.quantization}" if meta else model.path
    say(
        f"registered {model.name} ({detail}{pinned}) as a {model.role}, format {model.format}, "
        f"n_ctx {model.n_ctx}, in {config.path}"
    )
    return model
