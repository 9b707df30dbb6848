"""How many threads llama.cpp gets, and how they wait: the physical cores, sleeping (not
spinning) while they wait for each other.

- The default (`n_threads = 0`) is the number of physical cores this process may run on.
  llama-cpp-python's own default (`cpu_count // 2` for decoding) assumes two hardware threads
  per core: on a laptop or VM without them it decodes with half the cores. Cores are counted
  from Linux's CPU topology in /sys (what psutil's `cpu_count(logical=False)` reads too, without
  the dependency), restricted to the CPUs in this process's affinity mask (a container or
  `taskset`); elsewhere, or when /sys cannot be read, the logical CPU count.
- llama.cpp's threads meet at a barrier after every operation, and OpenMP's default is to
  spin there. When another program (an editor, a LaTeX build, a browser) holds a core, the
  spinning threads burn the time slices the descheduled one needs: 2 threads on 2 busy cores
  decoded 0.17 tokens/s where the same 2 threads with OMP_WAIT_POLICY=PASSIVE decoded 27
  (bench/laptop_bench.py, README "Fast on a real laptop"). The daemon process therefore sets
  OMP_WAIT_POLICY=PASSIVE (unless the user set it) before llama.cpp, and so libgomp, is
  loaded. Measured and not kept: 1 thread, GOMP_SPINCOUNT=10000, and a thread count adapted
  to the free cores (/proc/stat): each slower than passive waiting under load.
"""

from __future__ import annotations

import os
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


def prefer_passive_wait() -> str:
    """OMP_WAIT_POLICY=PASSIVE unless set; call before anything imports llama_cpp (libgomp
    reads it once, when it is loaded). Returns the policy in force."""
    return os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
