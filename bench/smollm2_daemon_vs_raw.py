"""SmolLM2-135M-Instruct reviewing examples/paper through the daemon, against the same prompt
through raw llama-cpp-python and through transformers (the same GGUF file, dequantized to fp32
by `from_pretrained(..., gguf_file=...)`, in a subprocess: torch's OpenMP never shares a
process with llama.cpp's), alternating in one run; written to
bench/results/smollm2_daemon_vs_raw.json.

Same prompt (the daemon's own rendered review prompt for examples/paper, in the catalogue's
format and standard mode, as token ids from `models/bos.py`), same n_ctx, threads, batch,
sampling and max_tokens. What is timed, on both sides, from the client's view:
- prompt: from the start of the job (the daemon's `started`, or its `loaded` when it loaded
  the model for this run) to the first token; tokens/s = prompt tokens / that;
- decode: from the first token to the last; tokens/s = (tokens - 1) / that.
The daemon unloads the model between its runs (keep_alive 0.5 s, no saved KV states), so its
prompt is read whole each time, as the raw one is (`reset()` before each run): the
`prompt_reused` of every daemon run is recorded to show it.

transformers is timed the same way (a streamer's timestamps: the prompt until its first token,
then token to token), with the same sampling settings and `torch.set_num_threads(threads)`.

    .venv/bin/python bench/smollm2_daemon_vs_raw.py [--reps 3] [--max-tokens 128] [--threads 2]
        [--no-transformers]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PAPER = REPO / "examples" / "paper" / "main.tex"
sys.path.insert(0, str(REPO / "tests"))

N_CTX = 8192


def write_home(root: Path, gguf: Path, fmt: str, threads: int, max_tokens: int) -> None:
    (root / "config").mkdir(parents=True)
    (root / "config" / "config.toml").write_text(
        f"""[daemon]
exit_after_idle = 600
keep_alive = 0.5
kv_state_budget_mb = 0

[[models]]
name = "smollm2"
path = "{gguf}"
format = "{fmt}"
n_ctx = {N_CTX}
n_threads = {threads}
[models.sampling]
max_tokens = {max_tokens}
"""
    )


async def daemon_run(paths) -> dict:
    from papercycle.daemon.client import Client

    async with Client(paths) as client:
        await client.request("cache.clear", {})
        while (await client.request("status", {}))["models"]:  # unloaded: a fresh KV cache
            await asyncio.sleep(0.2)
        stream = client.stream(
            "review.paper", {"path": str(PAPER), "model": "smollm2", "priority": "interactive"}
        )
        start = first = last = None
        async for event in stream:
            now = time.perf_counter()
            if event["event"] in ("started", "loaded"):
                start = now
            elif event["event"] == "token":
                first = first or now
                last = now
        generation = stream.result["generation"]
    tokens = generation["tokens"]
    return {
        "prompt_tokens": generation["prompt_tokens"],
        "prompt_reused": generation["prompt_reused"],
        "tokens": tokens,
        "finish": generation["finish"],
        "prompt_tok_s": generation["prompt_tokens"] / (first - start),
        "decode_tok_s": (tokens - 1) / (last - first),
    }


def raw_run(llama, tokens: list[int], settings: dict) -> dict:
    llama.reset()  # nothing of the last run is reused
    sampling = {
        k: settings[k]
        for k in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")
        if k in settings
    }
    start = time.perf_counter()
    first = last = None
    count = 0
    finish = None
    for chunk in llama.create_completion(
        tokens, max_tokens=settings["max_tokens"], stream=True, **sampling
    ):
        now = time.perf_counter()
        first = first or now
        last = now
        count += 1
        finish = chunk["choices"][0].get("finish_reason") or finish
    return {
        "prompt_tokens": len(tokens),
        "tokens": count,
        "finish": finish,
        "prompt_tok_s": len(tokens) / (first - start),
        "decode_tok_s": (count - 1) / (last - first),
    }


_TRANSFORMERS = r"""
import json, sys, time
import torch
from transformers import AutoModelForCausalLM
from transformers.generation.streamers import BaseStreamer
args = json.loads(sys.argv[1])
torch.set_num_threads(args["threads"])
t = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained(args["folder"], gguf_file=args["file"],
                                             dtype=torch.float32)
load_s = time.perf_counter() - t

class Stamps(BaseStreamer):
    def __init__(self):
        self.times = []
    def put(self, value):  # the prompt first, then each new token
        self.times.append(time.perf_counter())
    def end(self):
        pass

settings = args["settings"]
ids = torch.tensor([args["tokens"]])
for rep in range(args["reps"]):
    torch.manual_seed(settings.get("seed", 0))
    stamps = Stamps()
    start = time.perf_counter()
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True,
                             temperature=settings["temperature"], top_p=settings["top_p"],
                             repetition_penalty=settings.get("repeat_penalty", 1.0),
                             max_new_tokens=settings["max_tokens"],
                             min_new_tokens=settings["max_tokens"], streamer=stamps)
    tokens = out.shape[1] - ids.shape[1]
    first, last = stamps.times[1], stamps.times[-1]
    print(json.dumps({"side": "transformers", "rep": rep + 1, "load_s": round(load_s, 2),
                      "prompt_tokens": ids.shape[1], "tokens": tokens,
                      "prompt_tok_s": ids.shape[1] / (first - start),
                      "decode_tok_s": (tokens - 1) / (last - first)}), flush=True)
"""


def transformers_runs(gguf: Path, tokens: list[int], settings: dict, threads: int, reps: int):
    """The same prompt ids through transformers, `reps` times in one subprocess (one load)."""
    import subprocess

    args = {
        "folder": str(gguf.parent),
        "file": gguf.name,
        "tokens": tokens,
        "settings": settings,
        "threads": threads,
        "reps": reps,
    }
    proc = subprocess.run(
        [sys.executable, "-c", _TRANSFORMERS, json.dumps(args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"transformers run failed: {proc.stderr[-2000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def summary(runs: list[dict]) -> dict:
    return {
        "prompt_tok_s": round(statistics.median(r["prompt_tok_s"] for r in runs), 1),
        "decode_tok_s": round(statistics.median(r["decode_tok_s"] for r in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-transformers", action="store_true")
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results" / "smollm2_daemon_vs_raw.json"
    )
    args = parser.parse_args()
    from home_helpers import stop_daemon
    from papercycle.daemon.config import Config
    from papercycle.daemon.engine.review import prepare_paper
    from papercycle.daemon.models.bos import prompt_tokens
    from papercycle.daemon.models.catalogue import find
    from papercycle.daemon.paths import Paths
    from papercycle.latex import Project

    entry = find("smollm2-135m-instruct")
    gguf = entry.path()
    root = Path(tempfile.mkdtemp(prefix="pcb-"))
    write_home(root, gguf, entry.format, args.threads, args.max_tokens)
    os.environ["PAPERCYCLE_HOME"] = str(root)
    paths = Paths.for_user()
    model = Config.load(paths.config_file).models["smollm2"]
    request = prepare_paper(Project.build(PAPER), model, "standard")

    from llama_cpp import Llama

    llama = Llama(
        model_path=str(gguf),
        n_ctx=N_CTX,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        n_batch=512,
        flash_attn=False,  # as the daemon loads it (its defaults: no flash attention, read)
        use_mmap=False,
        verbose=False,
    )
    tokens = prompt_tokens(llama, request.prompt)
    results: dict = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "model": entry.name,
        "format": entry.format,
        "mode": "standard",
        "threads": args.threads,
        "n_ctx": N_CTX,
        "n_batch": 512,
        "flash_attn": False,
        "max_tokens": args.max_tokens,
        "settings": request.settings,
        "prompt_tokens": len(tokens),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "runs": [],
    }
    try:
        for rep in range(args.reps):  # alternating, so that a change of load hits both
            for side in ("daemon", "raw"):
                run = (
                    asyncio.run(daemon_run(paths))
                    if side == "daemon"
                    else raw_run(llama, tokens, request.settings)
                )
                results["runs"].append({"side": side, "rep": rep + 1, **run})
                print(json.dumps(results["runs"][-1]))
    finally:
        stop_daemon(paths)
        shutil.rmtree(root, ignore_errors=True)
    llama.close()  # its memory and threads free before torch's run
    if not args.no_transformers:
        for run in transformers_runs(gguf, tokens, request.settings, args.threads, args.reps):
            results["runs"].append(run)
            print(json.dumps(run))
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    daemon = summary([r for r in results["runs"] if r["side"] == "daemon"])
    raw = summary([r for r in results["runs"] if r["side"] == "raw"])
    results["median"] = {
        "daemon": daemon,
        "raw": raw,
        "daemon_over_raw": {
            "prompt": round(daemon["prompt_tok_s"] / raw["prompt_tok_s"], 3),
            "decode": round(daemon["decode_tok_s"] / raw["decode_tok_s"], 3),
        },
    }
    hf_runs = [r for r in results["runs"] if r["side"] == "transformers"]
    if hf_runs:
        hf = summary(hf_runs)
        results["median"]["transformers"] = hf
        results["median"]["daemon_over_transformers"] = {
            "prompt": round(daemon["prompt_tok_s"] / hf["prompt_tok_s"], 3),
            "decode": round(daemon["decode_tok_s"] / hf["decode_tok_s"], 3),
        }
    print(json.dumps(results["median"], indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
