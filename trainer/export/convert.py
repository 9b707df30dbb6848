"""Run llama.cpp's converter scripts (HF checkpoint or LoRA adapter → GGUF) in a subprocess."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from papercycle.trainer.export.checkpoint import gguf_model_name
from papercycle.trainer.export.errors import ExportError

_RUNNER = Path(__file__).with_name("run_converter.py")


def convert_checkpoint(
    llama_cpp: Path,
    hf_dir: Path,
    outfile: Path,
    outtype: str,
    pre_tokenizer: str | None,
) -> None:
    model_name = gguf_model_name(hf_dir)
    name = ["--model-name", model_name] if model_name else []
    _run(
        llama_cpp,
        "convert_hf_to_gguf.py",
        [str(hf_dir), "--outfile", str(outfile), "--outtype", outtype, *name],
        pre_tokenizer,
        what=str(hf_dir),
    )


def convert_adapter(
    llama_cpp: Path, adapter_dir: Path, base_dir: Path, outfile: Path, outtype: str
) -> None:
    _run(
        llama_cpp,
        "convert_lora_to_gguf.py",
        [
            str(adapter_dir),
            "--base",
            str(base_dir),
            "--outfile",
            str(outfile),
            "--outtype",
            outtype,
        ],
        None,
        what=str(adapter_dir),
    )


def _run(
    llama_cpp: Path, script: str, args: list[str], pre_tokenizer: str | None, what: str
) -> None:
    own = [str(llama_cpp), script] + (["--pre-tokenizer", pre_tokenizer] if pre_tokenizer else [])
    result = subprocess.run(
        [sys.executable, str(_RUNNER), *own, "--", *args], capture_output=True, text=True
    )
    if result.returncode != 0:
        outfile = Path(args[args.index("--outfile") + 1])
        if _disk_full(result.stderr, outfile.parent):
            raise ExportError(f"{outfile.parent}: no space left on device while writing the GGUF")
        raise ExportError(f"{what}: {_explain(result.stderr)}")


def _disk_full(stderr: str, folder: Path) -> bool:
    # numpy reports a full disk as a short write ("N requested and M written"), not ENOSPC.
    short_write = re.search(r"\d+ requested and \d+ written", stderr)
    return (
        "No space left on device" in stderr
        or bool(short_write)
        or shutil.disk_usage(folder).free == 0
    )


def _explain(stderr: str) -> str:
    """The converter's failure as one line a user can act on."""
    if "BPE pre-tokenizer was not recognized" in stderr:
        return (
            "llama.cpp does not recognize this tokenizer's BPE pre-tokenizer (a self-trained "
            "vocabulary?); declare it with --pre-tokenizer NAME (gpt-2 for plain byte-level BPE, "
            "qwen2, llama-bpe, ...) and let verification check the choice"
        )
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or "error" in line]
    return (errors or lines or ["the converter failed without a message"])[-1]
