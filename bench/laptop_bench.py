"""Fast on a real laptop (issue 21), written to bench/results/laptop.json:

- threads: prompt and decode tokens/s of SmolLM2-135M through llama-cpp-python, quiet and under
  two busy-loop CPU hogs (`yes > /dev/null` ×2), for each thread mechanism: all cores with
  OpenMP's default (active) wait, all cores with OMP_WAIT_POLICY=PASSIVE (the daemon's choice,
  daemon/models/threads.py), a short spin, 1 thread, and a count adapted to the free cores
  (bench/adaptive_threads.py). Quiet and loaded run back to back per mechanism, so each ratio
  compares neighbours;
- long: reading a 1k-token and a 12k-token prompt (tokens/s), with llama.cpp's defaults and with
  flash attention, a q8_0 KV cache and larger batches, each measured (12k is past SmolLM2's
  trained 8,192-token context: llama.cpp reads it all the same, and speed does not depend on
  what the synthetic tokens say);
- memory: peak RSS of a loaded Q4_K_M model (the 1B bench shape, bench/daemon_model.py) with
  mmap (weights repacked beside the mapped file) and without (read once, then repacked), against
  the file size plus the KV cache, and decode speed against the bandwidth ceiling, for Q4_K_M
  and f16 (f16 also with 1 thread: whether a second core still helps says compute- or
  bandwidth-bound);
- http: 8 clients through the daemon's OpenAI-compatible backend against llama-cpp-python's own
  server on 127.0.0.1: one request at a time vs up to 4 at once;
- attention: decode speed after a 1,167-token prompt with flash attention off and on;
- real: SmolLM2 reviewing examples/paper through the daemon vs raw llama-cpp-python vs
  transformers (bench/smollm2_daemon_vs_raw.py, its own results file; medians copied here).

    .venv/bin/python bench/laptop_bench.py [--part threads|long|memory|http|real|attention]
        [--quick]
        [--out FILE]   # --quick: small sizes, a smoke test (best with --out elsewhere)

All parts, on a quiet 2-core machine: about 15 minutes (the 1B models are built once before,
`bench/daemon_model.py` and `bench/daemon_model.py f16`, ~10 minutes).

Every measurement runs in its own process; each figure carries the load average (`uptime`) at
its time, and each part `uptime` at its start and end: other jobs share this machine, so
compare the ratios of neighbouring runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "results" / "laptop.json"
DAEMON_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}  # as the daemon runs llama.cpp (models/threads.py)

_WORKER = r"""
import json, os, resource, sys, time
import llama_cpp
from llama_cpp import Llama
args = json.loads(sys.argv[1])
t = time.perf_counter()
llm = Llama(model_path=args["path"], n_ctx=args["n_ctx"], n_batch=args.get("n_batch", 512),
            n_ubatch=args.get("n_ubatch", 512), n_threads=args["threads"],
            n_threads_batch=args["threads"], flash_attn=args.get("flash", False),
            type_k=args.get("type_k"), type_v=args.get("type_v"),
            use_mmap=args.get("use_mmap", True), verbose=False)
load = time.perf_counter() - t
governor = None
if args.get("adaptive"):
    sys.path.insert(0, args["bench_dir"])
    from adaptive_threads import Governor
    governor = Governor(lambda n, b: llama_cpp.llama_set_n_threads(llm.ctx, n, b),
                        args["threads"], args["threads"])
vocab = llm.n_vocab()
tokens = [(i * 7919) % (vocab - 20) + 10 for i in range(args["prompt_n"] + args["decode_n"])]
llm.eval(tokens[:8]); llm.reset()  # warm up
prompt = tokens[: args["prompt_n"]]
batch = args.get("n_batch", 512)
t = time.perf_counter()
for start in range(0, len(prompt), batch):
    if governor: governor.check()
    llm.eval(prompt[start : start + batch])
prompt_s = time.perf_counter() - t
print(json.dumps({"prompt_tok_s": round(len(prompt) / prompt_s, 2)}), flush=True)
t = time.perf_counter()
decoded = 0
# a collapsed decode (threads waiting on each other) is measured for `decode_budget_s` at most
while decoded < args["decode_n"] and time.perf_counter() - t < args.get("decode_budget_s", 1e9):
    if governor: governor.check()
    llm.eval([tokens[args["prompt_n"] + decoded]])
    decoded += 1
decode_s = time.perf_counter() - t
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({
    "load_s": round(load, 3), "prompt_tok_s": round(len(prompt) / prompt_s, 2),
    "decode_tok_s": round(decoded / decode_s, 2) if args["decode_n"] else None,
    "decoded": decoded,
    "peak_rss_mib": round(int(status["VmHWM"].split()[0]) / 1024, 1),
    "rss_mib": round(int(status["VmRSS"].split()[0]) / 1024, 1),
    "thread_changes": governor.changes if governor else None,
}))
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def worker(args: dict, env: dict | None = None, timeout: float = 300) -> dict:
    from adaptive_threads import busy_elsewhere

    started = load_average()
    others = busy_elsewhere(samples=10, interval=0.01)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _WORKER, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired as expired:
        # collapsed: what it measured before the limit (the prompt's line, if it got there)
        output = expired.stdout or ""
        lines = (output if isinstance(output, str) else output.decode()).strip().splitlines()
        result = json.loads(lines[-1]) if lines else {"prompt_tok_s": None}
        result.update(timed_out_after_s=timeout, decode_tok_s=None)
    else:
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-2000:])
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        **result,
        "load_before": started,
        "load_after": load_average(),
        "cores_busy_elsewhere": others,  # runnable tasks outside the bench, fewest of 10 samples
    }


class Hogs:
    """Two busy loops (`yes > /dev/null`), ended by their own PIDs."""

    def __init__(self, count: int = 2) -> None:
        self.count = count
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> Hogs:
        self.procs = [
            subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(self.count)
        ]
        time.sleep(1.0)
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()


def smollm2() -> str:
    from papercycle.daemon.models.catalogue import find

    return str(find("smollm2-135m-instruct").path())


def part_threads(quick: bool) -> dict:
    from papercycle.daemon.models.threads import physical_cores

    path, cores = smollm2(), physical_cores()
    base = {
        "path": path,
        "n_ctx": 1024,
        "prompt_n": 256,
        "decode_n": 32 if quick else 64,
        "decode_budget_s": 20,
    }
    mechanisms = {
        f"{cores} threads, OpenMP active wait (llama.cpp default)": ({"threads": cores}, {}),
        f"{cores} threads, OMP_WAIT_POLICY=PASSIVE (the daemon's default)": (
            {"threads": cores},
            {"OMP_WAIT_POLICY": "PASSIVE"},
        ),
        f"{cores} threads, GOMP_SPINCOUNT=10000 (spin briefly, then sleep)": (
            {"threads": cores},
            {"GOMP_SPINCOUNT": "10000"},
        ),
        "1 thread": ({"threads": 1}, {}),
        f"adaptive (up to {cores}: the cores others leave free, bench/adaptive_threads.py)": (
            {"threads": cores, "adaptive": True, "bench_dir": str(REPO / "bench")},
            {},
        ),
    }
    out = {}
    for name, (args, env) in mechanisms.items():
        quiet = worker({**base, **args}, env, timeout=60)
        with Hogs():
            loaded = worker({**base, **args}, env, timeout=60)
        out[name] = {"quiet": quiet, "two_hogs": loaded}
        for what in ("prompt", "decode"):
            before, after = quiet[f"{what}_tok_s"], loaded[f"{what}_tok_s"]
            # None: it did not finish within the limit (collapsed)
            out[name][f"{what}_kept"] = round(after / before, 2) if before and after else None
        print(name, out[name]["prompt_kept"], out[name]["decode_kept"], flush=True)
    return {"model": path, "physical_cores": cores, "goal_kept": 0.4, "mechanisms": out}


def _long_variants(variants: dict, both: str, both_args: dict, out: dict):
    """The variants in order, then `both` if each of its parts beat flash attention alone in
    `out` (filled as they run): a 12k read costs minutes."""
    yield from variants.items()
    ratio = {name: run["long_over_1k"] or 0 for name, run in out.items()}
    flash = ratio.get("flash attention", 0)
    if (
        ratio.get("flash attention + q8_0 KV cache", 0)
        > flash
        < ratio.get("flash attention, n_batch/n_ubatch 2048", 0)
    ):
        yield both, both_args


def part_long(quick: bool) -> dict:
    from papercycle.daemon.models.gguf_metadata import read_gguf_metadata
    from papercycle.daemon.models.threads import physical_cores

    path, cores = smollm2(), physical_cores()
    long_n = 2048 if quick else 12288
    n_ctx_train = read_gguf_metadata(Path(path)).context_length
    big = {"n_batch": 2048, "n_ubatch": 2048}
    variants = {
        "llama.cpp defaults (n_batch 512, f16 KV, no flash attention)": {},
        "flash attention": {"flash": True},
        "flash attention + q8_0 KV cache": {"flash": True, "type_k": 8, "type_v": 8},
        "flash attention, n_batch/n_ubatch 2048": {"flash": True, **big},
    }
    # measured only when q8_0 and 2048 batches each beat flash attention alone
    both = "flash attention + q8_0 KV, n_batch/n_ubatch 2048"
    out = {}
    for name, extra in _long_variants(
        variants, both, {"flash": True, "type_k": 8, "type_v": 8, **big}, out
    ):
        runs = {}
        for n in (1024, long_n):
            args = {"path": path, "n_ctx": long_n + 64, "threads": cores, "prompt_n": n}
            runs[n] = worker({**args, "decode_n": 0, **extra}, DAEMON_ENV, timeout=300)
        out[name] = {
            "1k": runs[1024],
            "long": runs[long_n],
            # None: the long read did not finish within the limit
            "long_over_1k": round(runs[long_n]["prompt_tok_s"] / runs[1024]["prompt_tok_s"], 2)
            if runs[long_n].get("prompt_tok_s") and runs[1024].get("prompt_tok_s")
            else None,
        }
        print(name, json.dumps(out[name]), flush=True)  # kept in the log if the run is cut
    return {
        "model": path,
        "threads": cores,
        "long_tokens": long_n,
        "n_ctx_train": n_ctx_train,
        "goal": 0.8,
        "variants": out,
    }


def bandwidth() -> dict:
    sys.path.insert(0, str(REPO / "bench"))
    from daemon_bench import bandwidth as measure

    return measure()


def part_memory(quick: bool) -> dict:
    """Peak RSS with and without mmap (Q4_K_M), and decode against the bandwidth ceiling for
    Q4_K_M and f16 (read, as the daemon loads; f16 with all cores and with 1)."""
    sys.path.insert(0, str(REPO / "bench"))
    from daemon_model import gguf
    from papercycle.daemon.models.gguf_metadata import read_gguf_metadata
    from papercycle.daemon.models.threads import physical_cores

    n_ctx, cores = 1024, physical_cores()
    decode = {"prompt_n": 64, "decode_n": 16 if quick else 32, "decode_budget_s": 30}
    measured = bandwidth()
    out: dict = {"n_ctx": n_ctx, "goal_rss_over_file_plus_kv": 1.15, "bandwidth": measured}
    out["goal_share_of_ceiling"] = {"Q4_K_M": 0.6, "f16": 0.8}
    for quant in ("Q4_K_M", "f16"):
        path = gguf(quant)
        kv_bytes = read_gguf_metadata(path).kv_cache_bytes(n_ctx) or 0
        file_bytes = path.stat().st_size
        base = {"path": str(path), "n_ctx": n_ctx, "threads": cores, **decode}
        if quant == "Q4_K_M":
            runs = {"mmap": {}, "no mmap (the daemon's choice)": {"use_mmap": False}}
        else:
            runs = {f"{cores} threads, no mmap": {"use_mmap": False}}
            runs["1 thread, no mmap"] = {"use_mmap": False, "threads": 1}
        ceiling = measured["copy_gb_s"] * 1e9 / file_bytes  # every weight read once per token
        model = {
            "path": str(path),
            "file_mib": round(file_bytes / 2**20, 1),
            "kv_cache_mib": round(kv_bytes / 2**20, 1),
            "decode_ceiling_tok_s": round(ceiling, 1),
            "runs": {},
        }
        for name, extra in runs.items():
            run = worker({**base, **extra}, DAEMON_ENV, timeout=300)
            run["peak_rss_over_file_plus_kv"] = round(
                run["peak_rss_mib"] * 2**20 / (file_bytes + kv_bytes), 3
            )
            run["share_of_ceiling"] = round((run["decode_tok_s"] or 0) / ceiling, 2)
            model["runs"][name] = run
            print(quant, name, run["peak_rss_mib"], run["share_of_ceiling"], flush=True)
        out[quant] = model
    return out


def part_http(quick: bool) -> dict:
    """8 clients through the scheduler and the http backend to llama_cpp.server on loopback:
    max_parallel 1 (one at a time) against 4."""
    import asyncio
    import socket

    import httpx2

    path = smollm2()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "llama_cpp.server", "--model", path, "--host", "127.0.0.1"]
    # interrupt_requests off: by default a new request stops the one being streamed
    command += ["--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]
    command += ["--interrupt_requests", "False"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            try:
                if httpx2.get(f"{url}/models").status_code == 200:
                    break
            except httpx2.TransportError:
                time.sleep(0.2)
        out = {}
        for parallel in (1, 4, 1, 4):  # alternating: neighbours compare
            seconds, tokens = asyncio.run(_eight_clients(url, parallel, 16 if quick else 32))
            out.setdefault(f"max_parallel {parallel}", []).append(
                {"seconds": round(seconds, 2), "tokens": tokens, "load": load_average()}
            )
            print("http", parallel, round(seconds, 2), tokens, flush=True)
    finally:
        server.terminate()
        server.wait(30)
    best = {name: min(r["seconds"] for r in runs) for name, runs in out.items()}
    return {
        "server": "llama_cpp.server (llama-cpp-python 0.3.36), SmolLM2-135M",
        "clients": 8,
        "runs": out,
        "speedup_4_over_1": round(best["max_parallel 1"] / best["max_parallel 4"], 2),
    }


async def _eight_clients(url: str, parallel: int, max_tokens: int) -> tuple[float, int]:
    import asyncio

    from papercycle.daemon.config import Config, ModelConfig
    from papercycle.daemon.engine.review import GenerationRequest
    from papercycle.daemon.models.registry import Registry
    from papercycle.daemon.scheduler import PRIORITIES, Scheduler

    model = ModelConfig(
        "remote", backend="http", url=url, api_model="smollm2", max_parallel=parallel
    )
    config = Config()
    config.models[model.name] = model
    registry = Registry(config)
    scheduler = Scheduler(registry, max_queue=16)
    worker = asyncio.create_task(scheduler.run())
    started = time.perf_counter()
    jobs = []
    for n in range(8):
        messages = [{"role": "user", "content": f"Review point {n}: is the method sound?"}]
        settings = {"max_tokens": max_tokens, "seed": n, "temperature": 0.0}
        request = GenerationRequest(
            "section", model, "standard", messages, "", None, settings, "v", f"q{n}-{parallel}"
        )
        jobs.append(scheduler.submit(request, PRIORITIES["interactive"], n, lambda k, d: None))
    results = await asyncio.gather(*(job.done for job in jobs))
    seconds = time.perf_counter() - started
    scheduler.cancel_all("bench over")
    await worker
    scheduler.shutdown()
    registry.unload_all()
    return seconds, sum(r.tokens for r in results)


def part_attention(quick: bool) -> dict:
    """Decoding after a review-sized prompt (1,167 tokens, as examples/paper's) with flash
    attention off and on, alternating: the long part measures reading only."""
    from papercycle.daemon.models.threads import physical_cores

    base = {"path": smollm2(), "n_ctx": 2048, "threads": physical_cores(), "prompt_n": 1167}
    base["decode_n"] = 16 if quick else 64
    runs: dict = {"flash attention off": [], "flash attention on": []}
    for _ in range(1 if quick else 2):
        for name, flash in (("flash attention off", False), ("flash attention on", True)):
            runs[name].append(worker({**base, "flash": flash}, DAEMON_ENV, timeout=120))
            print(name, runs[name][-1]["prompt_tok_s"], runs[name][-1]["decode_tok_s"], flush=True)
    best = {
        name: {what: max(r[f"{what}_tok_s"] or 0 for r in done) for what in ("prompt", "decode")}
        for name, done in runs.items()
    }
    return {"model": base["path"], "runs": runs, "best": best}


def part_real(quick: bool) -> dict:
    """SmolLM2 through the daemon vs raw llama-cpp-python vs transformers (its own bench and
    results file; the medians here)."""
    result = REPO / "bench" / "results" / "smollm2_daemon_vs_raw.json"
    command = [sys.executable, str(REPO / "bench" / "smollm2_daemon_vs_raw.py")]
    command += ["--reps", "1" if quick else "3", "--max-tokens", "16" if quick else "128"]
    if quick:  # a smoke run leaves the measured file alone
        result = Path("/tmp") / f"smollm2_quick_{os.getpid()}.json"
        command += ["--out", str(result)]
    subprocess.run(command, check=True)
    measured = json.loads(result.read_text())
    return {"results": str(result.relative_to(REPO)) if not quick else str(result)} | {
        key: measured[key] for key in ("median", "load_average_before", "load_average_after")
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--part",
        action="append",
        choices=["threads", "long", "memory", "http", "real", "attention"],
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    # a kill ends the run through the hogs' __exit__ (they must not outlive it)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # by priority: a run stopped early has written the parts before (HTTP was measured before)
    parts = args.part or ["threads", "memory", "real", "long", "http", "attention"]
    out = args.out
    results = json.loads(out.read_text()) if out.is_file() else {}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    for part in parts:
        started, uptime_start = time.time(), uptime()
        print(part, uptime_start, flush=True)
        results[part] = globals()[f"part_{part}"](args.quick)
        results[part]["seconds"] = round(time.time() - started, 1)
        results[part]["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        results[part]["uptime_start"], results[part]["uptime_end"] = uptime_start, uptime()
        print(part, results[part]["uptime_end"], flush=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
