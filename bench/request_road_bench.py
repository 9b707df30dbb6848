"""Before/after of a daemon change (issue 15's request road): daemon_bench.py's cached round
trip (a cached `review.section` and a `ping`, each 200 times through a real daemon), run by
two checkouts back to back and alternating, in one run, with the load recorded around each.

    .venv/bin/python bench/request_road_bench.py --base /path/to/old/worktree [--rounds 2]

The base worktree needs its own `.venv` (the package installed from it) and the tiny test
models in `.cache/test-models`. Results: bench/results/request_road.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_RUN = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1] + "/bench")
import daemon_bench
out = asyncio.run(daemon_bench.daemon_behaviour(False))
print(json.dumps({k: out[k] for k in ("cached_review_ms", "ping_ms")}))
"""


def measure(root: Path) -> dict:
    python = root / ".venv" / "bin" / "python"
    load = [round(x, 2) for x in os.getloadavg()]
    done = subprocess.run(
        [str(python), "-c", _RUN, str(root)], cwd=root, capture_output=True, text=True, check=True
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    git = ["git", "-C", str(root), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    return {"commit": commit, "load_average_before": load, **figures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the old checkout")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/request_road.json")
    args = parser.parse_args()
    runs = []
    for _ in range(args.rounds):
        for label, root in (("before", args.base.resolve()), ("after", REPO)):
            runs.append({"which": label, **measure(root)})
            print(json.dumps(runs[-1]))
    results = {
        "what": "cached review.section and ping round trips (ms), bench/daemon_bench.py's",
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
