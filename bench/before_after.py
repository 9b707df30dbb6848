"""Before/after of a change, in one run (issue 15's redesign): the same benchmarks run by two
checkouts, alternating, each with its own `.venv` and its own copy of the benchmark script,
with the load recorded before each run:

- `daemon`: bench/daemon_bench.py's cached round trip (a cached `review.section` and a `ping`,
  each 200 times through a real daemon), ms;
- `project`: bench/project_model.py (full build and incremental update of a 60-file project), ms;
- `lsp`: bench/lsp_latency.py (hover / code action / code lens while a review generates, and
  didSave → diagnostics from the cache), ms.

    .venv/bin/python bench/before_after.py --base /path/to/old/worktree [--rounds 2]

The base worktree needs its own `.venv` and the tiny test models in `.cache/test-models`.
Results: bench/results/before_after.json. Not part of `make bench` (it needs --base).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_DAEMON = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1] + "/bench")
import daemon_bench
out = asyncio.run(daemon_bench.daemon_behaviour(False))
print(json.dumps({k: out[k] for k in ("cached_review_ms", "ping_ms")}))
"""


def _project(figures: dict) -> dict:
    return {k: figures[k] for k in ("full_build_ms", "incremental_update_ms")}


def _lsp(figures: dict) -> dict:
    during = figures["during_generation"]
    cached = figures["did_save_to_diagnostics_cached"]["first_publish"]
    return {
        "p99_ms_during_generation": {
            k: during[k]["p99_ms"] for k in ("hover", "code_action", "code_lens")
        },
        "p50_ms_during_generation": {
            k: during[k]["p50_ms"] for k in ("hover", "code_action", "code_lens")
        },
        "did_save_to_diagnostics_cached_p50_ms": cached["p50_ms"],
    }


# benchmark -> (arguments after the checkout's python, or None for the inline daemon run; picker)
BENCHES = {
    "daemon": (None, None),
    "project": (["bench/project_model.py", "--repeat", "11"], _project),
    "lsp": (["bench/lsp_latency.py", "--requests", "200"], _lsp),
}


def _commit(root: Path) -> str:
    git = ["git", "-C", str(root), "rev-parse", "--short", "HEAD"]
    return subprocess.run(git, capture_output=True, text=True).stdout.strip()


def measure(root: Path, bench: str) -> dict:
    python = str(root / ".venv" / "bin" / "python")
    load = [round(x, 2) for x in os.getloadavg()]
    arguments, pick = BENCHES[bench]
    if arguments is None:
        done = subprocess.run(
            [python, "-c", _DAEMON, str(root)], cwd=root, capture_output=True, text=True, check=True
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "out.json"
            command = [python, *arguments, "--out", str(out)]
            subprocess.run(command, cwd=root, capture_output=True, text=True, check=True)
            figures = pick(json.loads(out.read_text()))
    return {"commit": _commit(root), "load_average_before": load, **figures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the old checkout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/before_after.json")
    args = parser.parse_args()
    runs = []
    for _ in range(args.rounds):
        for bench in args.only or list(BENCHES):
            for label, root in (("before", args.base.resolve()), ("after", REPO)):
                runs.append({"bench": bench, "which": label, **measure(root, bench)})
                print(json.dumps(runs[-1]), flush=True)
    results = {
        "what": "the same benchmarks from two checkouts, alternating (bench/before_after.py)",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "runs": runs,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
