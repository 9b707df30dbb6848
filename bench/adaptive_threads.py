"""Measured and not kept (bench/laptop_bench.py, README "Fast on a real laptop"): llama.cpp's
thread count adapted to the cores other programs leave free, from the runnable tasks in
/proc/stat minus this process's own, checked before each prompt batch and every quarter
second of decoding. Under load it drops to 1 thread, which decoded slower than 2 threads
waiting passively (OMP_WAIT_POLICY=PASSIVE, what the daemon does)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def allowed_cpus() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def runnable_tasks(stat: Path = Path("/proc/stat")) -> int | None:
    """Tasks running or ready to run on the whole machine now."""
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("procs_running "):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def own_runnable(tasks: Path = Path("/proc/self/task")) -> int:
    """This process's threads running or ready to run (the sampling one, llama.cpp's workers
    still spinning after their last operation)."""
    count = 0
    for task in tasks.iterdir():
        try:
            # "pid (name) S ...": the state follows the last parenthesis (names may hold spaces)
            state = (task / "stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return count


def busy_elsewhere(samples: int = 4, interval: float = 0.002) -> int | None:
    """Cores other programs keep busy: the fewest runnable tasks outside this process over a
    few samples (a program that computes is runnable in every one; a blip is not)."""
    counts = []
    for index in range(samples):
        machine = runnable_tasks()
        if machine is None:
            return None
        counts.append(max(0, machine - own_runnable()))
        if index + 1 < samples:
            time.sleep(interval)
    return min(counts)


class Governor:
    """Sets a llama.cpp context's thread counts to what the cores other programs leave free allow (between 1 and the limit), at most every
    `every` seconds (a check costs ~0.1 ms: a few reads of /proc)."""

    def __init__(self, set_threads, limit: int, limit_batch: int, every: float = 0.25) -> None:
        self.set_threads = set_threads  # (n_threads, n_threads_batch) -> None
        self.limit, self.limit_batch, self.every = limit, limit_batch, every
        self.current = (limit, limit_batch)
        self.checked = float("-inf")
        self.changes = 0

    def check(self) -> tuple[int, int]:
        now = time.monotonic()
        if now - self.checked < self.every:
            return self.current
        self.checked = now
        busy = busy_elsewhere()
        cpus = len(allowed_cpus())
        if busy is None:
            wanted = (self.limit, self.limit_batch)
        else:
            wanted = (
                max(1, min(self.limit, cpus - busy)),
                max(1, min(self.limit_batch, cpus - busy)),
            )
        if wanted != self.current:
            self.set_threads(*wanted)
            self.current = wanted
            self.changes += 1
        return self.current
