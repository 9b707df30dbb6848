"""How many threads llama.cpp gets: the physical cores by default, fewer while the CPU is busy.

- The default (`n_threads = 0`) is the number of physical cores this process may run on.
  llama-cpp-python's own default (`cpu_count // 2` for decoding) assumes two hardware threads
  per core: on a laptop or VM without them it decodes with half the cores. Cores are counted
  from Linux's CPU topology in /sys (what psutil's `cpu_count(logical=False)` reads too, without
  the dependency), restricted to the CPUs in this process's affinity mask (a container or
  `taskset`); elsewhere, or when /sys cannot be read, the logical CPU count.
- llama.cpp's threads meet at a barrier after every operation: when another program (an editor,
  a LaTeX build, a browser) holds a core, the thread that waits for it holds all the others,
  and 2 threads on 2 busy cores decode 7-13 times slower than 1 (bench/laptop_bench.py). So
  before each of the prompt's batches and every quarter second of decoding, the backend's
  `Governor` asks how many cores other programs leave free right now (runnable tasks from /proc/stat, sampled) and uses no more than those,
  never fewer than one.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

SYS_CPU = Path("/sys/devices/system/cpu")


def allowed_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def physical_cores(sys_cpu: Path = SYS_CPU) -> int:
    """Distinct (package, core) pairs among the CPUs this process may use."""
    cpus = allowed_cpus()
    cores = set()
    for cpu in cpus:
        topology = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return len(cpus)  # no topology (not Linux, or hidden): every CPU counts
        cores.add((package, core))
    return max(1, len(cores))


def default_threads(configured: int) -> int:
    """`n_threads` / `n_threads_batch` as configured, 0 meaning the physical cores."""
    return configured if configured > 0 else physical_cores()


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
