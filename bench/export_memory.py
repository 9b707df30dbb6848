"""Peak RAM of `papercycle export --quant Q4_K_M` with verification (issue 18), written to
bench/results/export_memory.json.

The model is Llama-3.2-1B's shape (bench/daemon_model.py's, 16 layers, hidden 2048) with its
full 128,256-entry vocabulary (the tiny BPE tokenizer, padded: the converter names the unused
ids), random bfloat16 weights: 1.24B parameters, 2.5 GB on disk, built once under
.cache/bench/. Memory does not depend on the weights' values; top-1 agreement on random
weights does (near-flat logits), so whether verification passes says nothing here.

Peak RSS is sampled every 0.1 s over the export process and all its children (converter,
quantizer, llama.cpp worker) and summed: pages both map (a file in the page cache) count twice,
so the figure errs high. Each run names the phase (child process) that set its peak.

    .venv/bin/python bench/export_memory.py [--before CHECKOUT] [--out ...]

`--before CHECKOUT` also runs the export from another checkout of papercycle (e.g. a worktree
at main: the code before this change) with the same interpreter and model.

The 8B projection is linear in the parameter count over what a Python process with torch
and transformers imported holds anyway (R, measured):
    peak_8B = R + (peak_1B - R) * P_8B / P_1B,   P_8B = 8.03e9 (Llama-3.1-8B)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from daemon_model import SHAPE  # noqa: E402

CACHE = REPO / ".cache" / "bench"
VOCAB = 128_256  # Llama 3's
PARAMS_8B = 8_030_261_248  # Llama-3.1-8B
GIB = 2**30

_BUILD = r"""
import json, sys, torch
from pathlib import Path
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from papercycle.trainer.tiny.corpus import corpus_lines
from papercycle.trainer.tiny.tokenizer import save_hf_tokenizer, train_bpe
out, shape, vocab = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
save_hf_tokenizer(train_bpe(list(corpus_lines(0)), 2048, "gpt2"), out)
tok = AutoTokenizer.from_pretrained(out)
config = LlamaConfig(vocab_size=vocab, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                     rope_theta=500000.0, torch_dtype="bfloat16", **shape)
torch.manual_seed(0)
with torch.no_grad():
    model = LlamaForCausalLM(config).to(torch.bfloat16)
model.save_pretrained(out, safe_serialization=True)
print(sum(p.numel() for p in model.parameters()))
"""

_RUNTIME = (
    "import os, psutil, torch, transformers, numpy; "
    "print(psutil.Process(os.getpid()).memory_info().rss)"
)


def checkpoint() -> tuple[Path, int]:
    out = CACHE / "llama-1b-shape-vocab128k-hf"
    params_file = out / "parameters.txt"
    if not params_file.exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        result = subprocess.run(
            [sys.executable, "-c", _BUILD, str(out), json.dumps(SHAPE), str(VOCAB)],
            check=True,
            capture_output=True,
            text=True,
        )
        params_file.write_text(result.stdout.strip().splitlines()[-1])
    return out, int(params_file.read_text())


def _shim(checkout: Path) -> Path:
    """A folder that makes `papercycle.*` import from `checkout` (PYTHONPATH comes before the
    editable install's finder)."""
    root = Path(tempfile.mkdtemp(prefix="papercycle-before-"))
    (root / "papercycle").mkdir()
    for package in ("cli", "daemon", "lsp", "trainer"):
        (root / "papercycle" / package).symlink_to(checkout.resolve() / package)
    return root


def _phase(process: psutil.Process) -> str:
    try:
        line = " ".join(process.cmdline())
    except psutil.Error:
        return "?"
    for marker, name in (
        ("convert_hf_to_gguf", "convert"),
        ("run_converter", "convert"),
        ("llama_worker quantize", "quantize"),
        ("llama_worker compare", "verify: GGUF in llama.cpp"),
    ):
        if marker in line:
            return name
    return "export process (HF model during verification)"


def measure(source: Path, env: dict[str, str], label: str, extra: list[str]) -> dict:
    """Run one export and sample the RSS of its process tree."""
    out_dir = Path(tempfile.mkdtemp(prefix="papercycle-export-bench-", dir=CACHE))
    command = [
        sys.executable, "-m", "papercycle.cli", "export", str(source),
        "-o", str(out_dir / "model.gguf"), "--quant", "Q4_K_M", "--pre-tokenizer", "gpt-2",
        *extra,
    ]  # fmt: skip
    started = time.monotonic()
    process = psutil.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = {"total": 0, "phase": None, "by_phase": {}}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                members = [process, *process.children(recursive=True)]
            except psutil.Error:
                members = []
            total = 0
            for member in members:
                try:
                    rss = member.memory_info().rss
                except psutil.Error:
                    continue
                total += rss
                phase = _phase(member) if member is not process else _phase(process)
                peak["by_phase"][phase] = max(peak["by_phase"].get(phase, 0), rss)
            if total > peak["total"]:
                biggest = max(members, key=lambda m: _rss(m), default=process)
                peak["total"], peak["phase"] = total, _phase(biggest)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    seconds = time.monotonic() - started
    shutil.rmtree(out_dir, ignore_errors=True)
    text = stdout.decode() + stderr.decode()
    return {
        "label": label,
        "command": " ".join(command[1:]),
        "exit_status": process.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_gib": round(peak["total"] / GIB, 2),
        "peak_set_by": peak["phase"],
        "peak_rss_gib_by_phase": {k: round(v / GIB, 2) for k, v in peak["by_phase"].items()},
        "output_tail": [line for line in text.splitlines() if line.strip()][-6:],
    }


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout of papercycle before the change")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "export_memory.json"
    )
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    source, parameters = checkpoint()
    env = dict(os.environ)
    runtime = int(
        subprocess.run(
            [sys.executable, "-c", _RUNTIME], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    runs = []
    if args.before is not None:
        before_env = dict(env, PYTHONPATH=str(_shim(args.before)))
        where = subprocess.run(
            [sys.executable, "-c", "import papercycle.trainer.export.verify as v; print(v.__file__)"],
            env=before_env, check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        if not str(Path(where).resolve()).startswith(str(args.before.resolve())):
            raise SystemExit(f"--before: papercycle imports from {where}, not {args.before}")
        commit = subprocess.run(
            ["git", "-C", str(args.before), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        runs.append(measure(source, before_env, f"before ({commit}): HF model in float32", []))
    runs.append(measure(source, env, "after: --verify-dtype auto (bfloat16 here)", []))
    ratio = PARAMS_8B / parameters
    for run in runs:
        peak = run["peak_rss_gib"] * GIB
        run["projected_8b_peak_gib"] = round((runtime + (peak - runtime) * ratio) / GIB, 1)
    load = os.getloadavg()
    result = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "ram_gib": round(psutil.virtual_memory().total / GIB, 1),
        },
        "model": {
            "shape": SHAPE | {"vocab_size": VOCAB},
            "parameters": parameters,
            "dtype": "bfloat16",
            "weights": "random (torch.manual_seed(0))",
        },
        "runtime_rss_gib": round(runtime / GIB, 2),
        "projection": "peak_8B = R + (peak_1B - R) * P_8B / P_1B; R = runtime_rss_gib (torch + "
        f"transformers imported), P_8B = {PARAMS_8B}, P_1B = {parameters}",
        "runs": runs,
        "load_average": [round(x, 2) for x in load],
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
