"""`papercycle export`: checkpoint → GGUF → quantized GGUF → verified, written atomically.

Everything is produced in a staging directory beside the output and moved under the final
name only when complete (and verified, unless told not to), so a failure never leaves a
half-written file where the user expects a model. Verification that would not fit the RAM
(verify_memory) is skipped with the reason, and the GGUF is written; `verify_existing` runs it
later, on a machine with more memory.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from papercycle.trainer.export import reviewer_metadata, worker_process
from papercycle.trainer.export.checkpoint import Checkpoint, read_checkpoint
from papercycle.trainer.export.convert import convert_adapter, convert_checkpoint
from papercycle.trainer.export.errors import ExportError, VerificationFailed
from papercycle.trainer.export.llama_cpp_source import converter_dir
from papercycle.trainer.export.quant_types import QUANT_TYPES, normalize_quant
from papercycle.trainer.export.verify import VerificationReport, verify_gguf
from papercycle.trainer.export.verify_memory import plan_verification

ADAPTER_OUTTYPES = {"f32": "f32", "f16": "f16", "Q8_0": "q8_0"}


@dataclass
class ExportOptions:
    quant: str = "Q4_K_M"
    pre_tokenizer: str | None = None
    llama_cpp_dir: Path | None = None
    verify: bool = True
    as_adapter: bool = False  # write a LoRA adapter GGUF instead of merging it into the base
    base: Path | None = None  # base checkpoint of an adapter (else from adapter_config.json)
    base_gguf: Path | None = None  # the base GGUF an adapter GGUF is verified with
    verify_dtype: str = "auto"  # the HF model's precision: auto | float32 | bfloat16 | float16
    verify_memory: int | None = None  # bytes verification may use (default: what is available)


@dataclass
class ExportResult:
    output: Path
    quant: str
    seconds: float
    report: VerificationReport | None
    verify_skipped: str | None = None  # why verification was skipped for lack of memory


Step = Callable[[str], None]


def export_model(
    source: Path, output: Path, options: ExportOptions, step: Step = lambda _: None
) -> ExportResult:
    started = time.monotonic()
    quant = normalize_quant(options.quant)
    checkpoint = read_checkpoint(source, options.base)
    if options.as_adapter and not checkpoint.is_adapter:
        raise ExportError(
            f"{source}: --as-adapter needs a LoRA adapter directory (adapter_config.json)"
        )
    if options.as_adapter and quant not in ADAPTER_OUTTYPES:
        raise ExportError(f"an adapter GGUF is written as f32, f16 or Q8_0, not {quant}")
    step("locating llama.cpp's converter")
    llama_cpp = converter_dir(options.llama_cpp_dir)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    try:
        staged, report = _build(checkpoint, staging, quant, options, llama_cpp, step)
        skipped = None
        if isinstance(report, str):
            skipped, report = (
                f"{report}; {output.name} was written unverified. Verify it where there is "
                f"more memory: papercycle export {source} -o {output} --verify-only",
                None,
            )
        if report is not None:
            report.gguf = str(output)
            if not report.passed:
                raise VerificationFailed(report)
        os.replace(staged, output)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise ExportError(
                f"{output.parent}: no space left on device while writing {output.name}"
            ) from None
        raise ExportError(f"{output}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(output, quant, time.monotonic() - started, report, skipped)


def verify_existing(
    source: Path, gguf: Path, quant: str, options: ExportOptions, step: Step = lambda _: None
) -> VerificationReport:
    """Verify a GGUF written earlier (`--verify-only`) against its checkpoint, in the
    precision the memory here allows; ExportError when even that does not fit."""
    checkpoint = read_checkpoint(source, options.base)
    if not gguf.is_file():
        raise ExportError(f"{gguf}: no such file (--verify-only checks a GGUF written before)")
    with tempfile.TemporaryDirectory(prefix="papercycle-verify-") as tmp:
        hf_dir = checkpoint.path
        if checkpoint.is_adapter:
            step("merging the LoRA adapter into its base")
            hf_dir = _merge_adapter(checkpoint, Path(tmp) / "merged")
        report = _verify(hf_dir, gguf, quant, options, step)
    if isinstance(report, str):
        raise ExportError(report)
    report.gguf = str(gguf)
    return report


def _verify(
    hf_dir: Path, gguf: Path, quant: str, options: ExportOptions, step: Step
) -> VerificationReport | str:
    """The report, or the reason verification was skipped (not enough memory)."""
    plan = plan_verification(
        hf_dir,
        gguf.stat().st_size,
        requested=options.verify_dtype,
        limit_bytes=options.verify_memory,
    )
    if plan.dtype is None:
        assert plan.skip_reason is not None
        return plan.skip_reason
    step(f"verifying against the Hugging Face model ({plan.dtype})")
    return verify_gguf(hf_dir, gguf, quant, dtype=plan.dtype)


def _build(
    checkpoint: Checkpoint,
    staging: Path,
    quant: str,
    options: ExportOptions,
    llama_cpp: Path,
    step: Step,
):
    if options.as_adapter:
        return _build_adapter(checkpoint, staging, quant, options, llama_cpp, step)

    hf_dir = checkpoint.path
    if checkpoint.is_adapter:
        step("merging the LoRA adapter into its base")
        hf_dir = _merge_adapter(checkpoint, staging / "merged")

    final = staging / "model.gguf"
    if quant in ("f32", "f16"):
        step(f"converting to GGUF ({quant})")
        convert_checkpoint(llama_cpp, hf_dir, final, quant, options.pre_tokenizer)
    else:
        step("converting to GGUF")
        intermediate = staging / "unquantized.gguf"
        convert_checkpoint(
            llama_cpp, hf_dir, intermediate, _lossless_outtype(hf_dir), options.pre_tokenizer
        )
        step(f"quantizing to {quant}")
        worker_process.call(
            "quantize",
            str(intermediate),
            str(final),
            str(QUANT_TYPES[quant]),
            what=f"quantizing to {quant}",
        )
        intermediate.unlink()

    trained_for = reviewer_metadata.read_sidecar(checkpoint.path)
    if trained_for is not None:
        step(f"writing the review format and modes it was trained for: {trained_for}")
        reviewer_metadata.stamp(final, trained_for)
    report = _verify(hf_dir, final, quant, options, step) if options.verify else None
    return final, report


def _build_adapter(
    checkpoint: Checkpoint,
    staging: Path,
    quant: str,
    options: ExportOptions,
    llama_cpp: Path,
    step: Step,
):
    final = staging / "adapter.gguf"
    step(f"converting the LoRA adapter to GGUF ({quant})")
    convert_adapter(
        llama_cpp, checkpoint.path, checkpoint.adapter_base, final, ADAPTER_OUTTYPES[quant]
    )
    report = None
    if options.verify:
        base_gguf = options.base_gguf
        if base_gguf is None:
            step("converting the base model for verification (pass --base-gguf to reuse one)")
            base_gguf = staging / "base.gguf"
            convert_checkpoint(
                llama_cpp, checkpoint.adapter_base, base_gguf, "f32", options.pre_tokenizer
            )
        step("verifying base + adapter against the Hugging Face model with the adapter")
        report = verify_gguf(
            checkpoint.adapter_base, base_gguf, quant, adapter_dir=checkpoint.path, lora_gguf=final
        )
    return final, report


def _lossless_outtype(hf_dir: Path) -> str:
    """f32 for a float32 checkpoint; otherwise the converter keeps its 16-bit type ("auto")."""
    config = json.loads((hf_dir / "config.json").read_text())
    dtype = config.get("dtype") or config.get("torch_dtype") or "float32"
    return "f32" if dtype == "float32" else "auto"


def _merge_adapter(checkpoint: Checkpoint, out_dir: Path) -> Path:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(checkpoint.adapter_base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, checkpoint.path).merge_and_unload()
    merged.save_pretrained(out_dir)
    tokenizer_dir = (
        checkpoint.path
        if (checkpoint.path / "tokenizer_config.json").exists()
        else checkpoint.adapter_base
    )
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(out_dir)
    _copy_tokenizer_flags(tokenizer_dir, out_dir)
    return out_dir


def _copy_tokenizer_flags(source: Path, target: Path) -> None:
    # transformers 5 drops add_bos_token/add_eos_token on save; the converter reads them.
    flags = {
        k: v
        for k, v in json.loads((source / "tokenizer_config.json").read_text()).items()
        if k in ("add_bos_token", "add_eos_token")
    }
    if flags:
        config_path = target / "tokenizer_config.json"
        config_path.write_text(json.dumps(json.loads(config_path.read_text()) | flags, indent=2))
