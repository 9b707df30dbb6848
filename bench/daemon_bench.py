"""Benchmarks of the daemon (issue 5), written to bench/results/daemon.json:

1. round-trip latency of a cached review through a real daemon (target <= 20 ms) and of a ping;
2. queue behaviour under 8 concurrent clients (distinct jobs with mixed priorities, then 8
   identical requests, which must coalesce into one generation);
3. prompt and decode tokens/s of a ~1B Llama-shape model at Q4_K_M through llama.cpp (the
   daemon's backend), next to the machine's memory bandwidth measured in the same run (decode
   reads every weight once per token: bandwidth / weight bytes is its ceiling), and the same
   model through transformers on CPU (fp32 and bf16), as ratios.

    .venv/bin/python bench/daemon_bench.py [--quick] [--out bench/results/daemon.json]

Each measurement runs in its own process (llama.cpp and torch never share one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "daemon"))


def bandwidth() -> dict:
    import numpy as np

    size = 1 << 30  # 1 GiB: far beyond any cache
    a = np.ones(size // 8, dtype=np.float64)
    b = np.empty_like(a)
    copies, reads = [], []
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        copies.append(time.perf_counter() - t)
        t = time.perf_counter()
        a.sum()
        reads.append(time.perf_counter() - t)
    return {
        "copy_gb_s": round(2 * size / min(copies) / 1e9, 1),  # read + write
        "read_gb_s": round(size / min(reads) / 1e9, 1),  # one thread summing
        "bytes": size,
    }


_LLAMA = r"""
import json, sys, time
from llama_cpp import Llama
path, threads, prompt_n, decode_n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
llm = Llama(model_path=path, n_ctx=prompt_n + decode_n + 8, n_batch=prompt_n, n_threads=threads, verbose=False)
load = time.perf_counter() - t
tokens = [(i * 7919) % (llm.n_vocab() - 20) + 10 for i in range(prompt_n)]
llm.eval(tokens[:8]); llm.reset()  # warm up
t = time.perf_counter(); llm.eval(tokens); prompt = time.perf_counter() - t
t = time.perf_counter()
for i in range(decode_n):
    llm.eval([tokens[i]])  # one decode step per call; the token's value does not matter
decode = time.perf_counter() - t
print(json.dumps({"load_s": load, "prompt_tok_s": prompt_n / prompt, "decode_tok_s": decode_n / decode}))
"""

_TORCH = r"""
import json, sys, time, torch
from transformers import LlamaForCausalLM
path, threads, prompt_n, decode_n, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
t = time.perf_counter()
model = LlamaForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).eval()
load = time.perf_counter() - t
ids = torch.tensor([[(i * 7919) % (model.config.vocab_size - 20) + 10 for i in range(prompt_n)]])
with torch.inference_mode():
    model(ids[:, :8])
    t = time.perf_counter(); out = model(ids, use_cache=True); prompt = time.perf_counter() - t
    past = out.past_key_values
    token = ids[:, -1:]
    t = time.perf_counter()
    for _ in range(decode_n):  # the same loop as generate(), without its sampling overhead
        out = model(token, past_key_values=past, use_cache=True)
        past = out.past_key_values
    decode = time.perf_counter() - t
print(json.dumps({"load_s": load, "prompt_tok_s": prompt_n / prompt, "decode_tok_s": decode_n / decode}))
"""


def _subprocess_json(code: str, *args: str) -> dict:
    # llama.cpp's OpenMP threads wait passively, as in the daemon (daemon/models/threads.py)
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")},
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def weight_bytes_per_token(path: Path) -> int:
    """Bytes a decode step reads: every weight tensor, except that the input embedding is a
    lookup of one row (unless tied: then the output projection reads all of it)."""
    import gguf

    reader = gguf.GGUFReader(str(path))
    names = {t.name: int(t.n_bytes) for t in reader.tensors}
    total = sum(names.values())
    if "output.weight" in names:
        total -= names.get("token_embd.weight", 0)
    return total


def model_speed(quick: bool) -> dict:
    import daemon_model

    gguf_path = daemon_model.gguf()
    hf_path = daemon_model.hf_checkpoint()
    threads = os.cpu_count() or 1
    prompt_n, decode_n = (64, 16) if quick else (256, 64)
    llama = _subprocess_json(_LLAMA, str(gguf_path), str(threads), str(prompt_n), str(decode_n))
    per_token = weight_bytes_per_token(gguf_path)
    bw = bandwidth()
    out = {
        "model": "Llama-3.2-1B shape (hidden 2048, 16 layers, 32/8 heads, MLP 8192), random weights, tiny BPE vocabulary",
        "gguf": str(gguf_path.relative_to(REPO)),
        "gguf_bytes": gguf_path.stat().st_size,
        "weight_bytes_per_token": per_token,
        "threads": threads,
        "prompt_tokens": prompt_n,
        "decode_tokens": decode_n,
        "memory_bandwidth": bw,
        "llama_cpp_Q4_K_M": {k: round(v, 2) for k, v in llama.items()},
        "decode_ceiling_tok_s": round(bw["copy_gb_s"] * 1e9 / per_token, 1),
    }
    out["decode_fraction_of_ceiling"] = round(
        llama["decode_tok_s"] / out["decode_ceiling_tok_s"], 2
    )
    for dtype in ("float32", "bfloat16"):
        torch_run = _subprocess_json(
            _TORCH, str(hf_path), str(threads), str(prompt_n), str(max(4, decode_n // 4)), dtype
        )
        out[f"transformers_cpu_{dtype}"] = {k: round(v, 2) for k, v in torch_run.items()}
        out[f"ratio_llama_cpp_vs_transformers_{dtype}"] = {
            "prompt": round(llama["prompt_tok_s"] / torch_run["prompt_tok_s"], 2),
            "decode": round(llama["decode_tok_s"] / torch_run["decode_tok_s"], 2),
        }
    return out


async def daemon_behaviour(quick: bool) -> dict:
    from daemon_helpers import Home, make_home, make_paper
    from papercycle.daemon.client import Client
    from tiny_models import default_store

    gguf_path, _ = default_store().gguf("llama", "f16")
    root = make_home(gguf_path)
    home = Home(root)
    paper = make_paper(root / "paper")
    out: dict = {"model": "tiny Llama f16 (hidden 256, 2 layers), grammar-constrained"}
    try:
        home.start()
        async with Client(home.paths) as client:
            params = {"path": str(paper), "section": "Method", "model": "tiny-section"}
            await client.request("review.section", params, timeout=300)  # generate once
            for kind, p in (("ping", {}), ("review.section", params)):
                times = []
                for _ in range(20 if quick else 200):
                    t = time.perf_counter()
                    answer = await client.request(kind, p)
                    times.append((time.perf_counter() - t) * 1000)
                    assert kind == "ping" or answer["cached"]
                times.sort()
                out["cached_review_ms" if kind != "ping" else "ping_ms"] = {
                    "median": round(statistics.median(times), 2),
                    "p95": round(times[int(0.95 * len(times)) - 1], 2),
                    "n": len(times),
                }
        out["queue_8_clients_distinct"] = await _eight_clients(home, paper, distinct=True)
        out["queue_8_clients_identical"] = await _eight_clients(home, paper, distinct=False)
    finally:
        home.stop()
        shutil.rmtree(root, ignore_errors=True)
    return out


async def _eight_clients(home, paper, distinct: bool) -> dict:
    from papercycle.daemon.client import Client

    priorities = [
        "background",
        "save",
        "interactive",
        "save",
        "background",
        "interactive",
        "save",
        "background",
    ]
    text = paper.read_text()
    tag = time.time_ns()
    clients = [Client(home.paths) for _ in range(8)]
    for c in clients:
        await c.connect()
    t0 = time.perf_counter()

    async def one(i: int, client: Client) -> dict:
        variant = text.replace(
            "Each token", f"In run {tag} case {i if distinct else 0}, each token"
        )
        stream = client.stream(
            "review.section",
            {
                "path": str(paper),
                "section": "Method",
                "model": "tiny-section",
                "priority": priorities[i],
                "buffers": {str(paper): variant},
            },
        )
        record = {"client": i, "priority": priorities[i]}
        async for event in stream:
            if event["event"] == "queued":
                record.update(
                    position=event["position"], coalesced=event["coalesced"], job=event["job"]
                )
            elif event["event"] == "started":
                record["started_s"] = round(time.perf_counter() - t0, 3)
        record["done_s"] = round(time.perf_counter() - t0, 3)
        record["tokens"] = stream.result["generation"]["tokens"]
        return record

    records = await asyncio.gather(*(one(i, c) for i, c in enumerate(clients)))
    for c in clients:
        await c.close()
    return {
        "wall_s": round(time.perf_counter() - t0, 3),
        "generations": len({r["job"] for r in records}),
        "start_order": [
            r["priority"] for r in sorted(records, key=lambda r: r.get("started_s", 1e9))
        ],
        "clients": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--skip-model", action="store_true", help="skip the 1B model speeds")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "daemon.json")
    args = parser.parse_args()
    results = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        # The machine is shared: other processes competing for the cores lower every figure
        # (llama.cpp's OpenMP threads suffer most), so the load is recorded with them.
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    results["daemon"] = asyncio.run(daemon_behaviour(args.quick))
    print(json.dumps(results["daemon"], indent=2))
    if not args.skip_model:
        results["model_speed"] = model_speed(args.quick)
        print(json.dumps(results["model_speed"], indent=2))
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
