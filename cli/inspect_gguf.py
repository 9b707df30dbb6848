"""`papercycle inspect`: a GGUF file's metadata, without loading the model."""

from __future__ import annotations

import json
from pathlib import Path

import click
from papercycle.cli.errors import UserError


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def inspect(path: Path, as_json: bool) -> None:
    """Print the metadata of the GGUF file PATH.

    \b
    Examples:
      papercycle inspect model.gguf
      papercycle inspect model.gguf --json
    """
    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata

    try:
        meta = read_gguf_metadata(path)
    except GGUFError as error:
        raise UserError(str(error)) from None
    if as_json:
        click.echo(
            json.dumps(meta.to_json() | {"chat_template": meta.chat_template is not None}, indent=2)
        )
        return
    rows = [
        ("file", f"{meta.path} ({meta.file_size / 2**20:.1f} MiB)"),
        ("kind", "LoRA adapter" if meta.is_adapter else "model"),
        ("architecture", meta.architecture),
        ("name", meta.name or "-"),
        ("parameters", f"{meta.parameters:,}"),
        ("quantization", meta.quantization),
        ("context length", meta.context_length or "-"),
        ("vocabulary", meta.vocab_size or "-"),
        ("BOS / EOS", f"{meta.bos_token_id} / {meta.eos_token_id}"),
        ("chat template", "present" if meta.chat_template else "missing"),
    ]
    for key, value in rows:
        click.echo(f"{key:<15} {value}")
