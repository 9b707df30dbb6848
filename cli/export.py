"""`papercycle export`: a Hugging Face checkpoint or LoRA adapter → verified GGUF."""

from __future__ import annotations

import json
from pathlib import Path

import click
from papercycle.cli.errors import UserError
from papercycle.cli.progress import step_progress


class NotVerified(click.ClickException):
    exit_code = 1

    def show(self, file=None) -> None:
        click.echo(f"papercycle: error: {self.format_message()}", err=True)


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="GGUF file to write."
)
@click.option(
    "--quant", default="Q4_K_M", show_default=True, help="Q4_K_M, Q5_K_M, Q8_0, f16 or f32."
)
@click.option(
    "--pre-tokenizer",
    help="Declare llama.cpp's BPE pre-tokenizer name (self-trained vocabularies).",
)
@click.option(
    "--llama-cpp-dir",
    type=click.Path(path_type=Path),
    help="A llama.cpp checkout (offline machines).",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Compare the GGUF with the HF model.",
)
@click.option(
    "--verify-dtype",
    type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
    default="auto",
    show_default=True,
    help="Precision of the HF model in verification; auto: the checkpoint's own, or 16 bits "
    "when float32 does not fit the RAM.",
)
@click.option(
    "--verify-memory",
    type=click.FloatRange(min=0),
    help="GiB of RAM verification may use [default: what is available]; more is skipped.",
)
@click.option(
    "--verify-only",
    is_flag=True,
    help="Only verify the GGUF at --output (written before) against SOURCE.",
)
@click.option(
    "--as-adapter",
    is_flag=True,
    help="Write a LoRA adapter GGUF for Llama(lora_path=...) instead of merging.",
)
@click.option("--base", type=click.Path(path_type=Path), help="Base checkpoint of a LoRA adapter.")
@click.option(
    "--base-gguf", type=click.Path(path_type=Path), help="Base GGUF to verify an adapter GGUF with."
)
@click.option(
    "--report", type=click.Path(path_type=Path), help="Also write the verification report as JSON."
)
def export(
    source,
    output,
    quant,
    pre_tokenizer,
    llama_cpp_dir,
    verify,
    verify_dtype,
    verify_memory,
    verify_only,
    as_adapter,
    base,
    base_gguf,
    report,
):
    """Convert SOURCE (a Hugging Face checkpoint or LoRA adapter) to a GGUF llama.cpp serves.

    \b
    Examples:
      papercycle export ./checkpoint -o reviewer.gguf --quant Q4_K_M
      papercycle export ./adapter --as-adapter --base ./base -o adapter.gguf
    """
    from papercycle.trainer.export.errors import ExportError, VerificationFailed
    from papercycle.trainer.export.pipeline import ExportOptions, export_model
    from papercycle.trainer.export.quant_types import normalize_quant

    try:
        quant = normalize_quant(quant)
    except ValueError as error:
        raise UserError(str(error)) from None
    if pre_tokenizer is None:
        pre_tokenizer = _recorded_pre_tokenizer(source)
    options = ExportOptions(
        quant,
        pre_tokenizer,
        llama_cpp_dir,
        verify,
        as_adapter,
        base,
        base_gguf,
        verify_dtype=verify_dtype,
        verify_memory=None if verify_memory is None else int(verify_memory * 2**30),
    )
    if verify_only:
        _verify_only(source, output, quant, options, report)
        return
    try:
        with step_progress(5 if verify else 4, f"export {source.name}") as step:
            result = export_model(source, output, options, step)
    except VerificationFailed as failure:
        click.echo(failure.report.render())
        if report is not None:  # the figures of a failed verification are the ones to read
            report.write_text(json.dumps(failure.report.to_json(), indent=2))
        raise NotVerified(
            f"{failure} (nothing was written; --no-verify writes it anyway)"
        ) from None
    except ExportError as error:
        raise UserError(str(error)) from None
    if result.report is not None:
        click.echo(result.report.render())
        if report is not None:
            report.write_text(json.dumps(result.report.to_json(), indent=2))
    if result.verify_skipped:
        click.echo(f"warning: {result.verify_skipped}", err=True)
    size_mb = result.output.stat().st_size / 2**20
    click.echo(
        f"wrote {result.output} ({result.quant}, {size_mb:.1f} MiB) in {result.seconds:.1f} s"
    )


def _verify_only(source: Path, gguf: Path, quant: str, options, report_path: Path | None) -> None:
    """`--verify-only`: the GGUF's own quantization sets the threshold when it is one of ours."""
    from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata
    from papercycle.trainer.export.errors import ExportError
    from papercycle.trainer.export.pipeline import verify_existing
    from papercycle.trainer.export.quant_types import QUANT_TYPES

    try:
        written = read_gguf_metadata(gguf).quantization
    except GGUFError as error:
        raise UserError(str(error)) from None
    names = {"ALL_F32": "f32", "F16": "f16"}
    quant = names.get(written, written) if names.get(written, written) in QUANT_TYPES else quant
    try:
        with step_progress(2, f"verify {gguf.name}") as step:
            result = verify_existing(source, gguf, quant, options, step)
    except ExportError as error:
        raise UserError(str(error)) from None
    click.echo(result.render())
    if report_path is not None:
        report_path.write_text(json.dumps(result.to_json(), indent=2))
    if not result.passed:
        raise NotVerified(f"verification failed for {gguf}: {result.failures[0]}")


def _recorded_pre_tokenizer(source: Path) -> str | None:
    """The pre-tokenizer a `papercycle tiny` checkpoint recorded (papercycle-tiny.json): its
    self-trained vocabulary is unknown to llama.cpp's converter, which would refuse it."""
    try:
        manifest = json.loads((source / "papercycle-tiny.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = manifest.get("pre_tokenizer") if isinstance(manifest, dict) else None
    return name if isinstance(name, str) and name else None
