"""Thread counts (daemon/models/threads.py): physical cores by default, fewer while other
programs keep the CPU busy, and one copy of a model's weights whatever its threads."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import llama_cpp
import pytest
from papercycle.daemon.config import Config, ConfigError, ModelConfig
from papercycle.daemon.models import threads
from papercycle.daemon.models.llama_backend import LlamaBackend
from papercycle.daemon.models.registry import Registry


def _topology(root: Path, cores: list[tuple[int, int]]) -> Path:
    """A /sys/devices/system/cpu tree: CPU i on (package, core) cores[i]."""
    for cpu, (package, core) in enumerate(cores):
        folder = root / f"cpu{cpu}" / "topology"
        folder.mkdir(parents=True)
        (folder / "physical_package_id").write_text(f"{package}\n")
        (folder / "core_id").write_text(f"{core}\n")
    return root


def test_hyperthreads_count_once_and_only_allowed_cpus_count(tmp_path, monkeypatch):
    # 8 logical CPUs: 4 cores with two hardware threads each (Linux numbers siblings apart)
    sys_cpu = _topology(tmp_path, [(0, c) for c in (0, 1, 2, 3, 0, 1, 2, 3)])
    monkeypatch.setattr(threads, "allowed_cpus", lambda: list(range(8)))
    assert threads.physical_cores(sys_cpu) == 4
    monkeypatch.setattr(threads, "allowed_cpus", lambda: [0, 4, 1])  # taskset: 2 cores
    assert threads.physical_cores(sys_cpu) == 2
    monkeypatch.setattr(threads, "allowed_cpus", lambda: [0, 1, 2])
    assert threads.physical_cores(tmp_path / "nothing") == 3  # no topology: logical CPUs


def test_this_machine_physical_cores_match_lscpu():
    out = subprocess.run(["lscpu", "-p=CORE,SOCKET"], capture_output=True, text=True).stdout
    pairs = {line for line in out.splitlines() if line and not line.startswith("#")}
    if len(os.sched_getaffinity(0)) == os.cpu_count():
        assert threads.physical_cores() == len(pairs)


def test_the_default_is_the_physical_cores_for_decode_and_prompt(tiny_gguf):
    backend = LlamaBackend(str(tiny_gguf), 512, 0, 0, 0, adapt_threads=False)
    try:
        cores = threads.physical_cores()
        assert (backend.n_threads, backend.n_threads_batch) == (cores, cores)
        context = backend.llama.ctx
        assert llama_cpp.llama_n_threads(context) == cores
        assert llama_cpp.llama_n_threads_batch(context) == cores
    finally:
        backend.close()
    configured = LlamaBackend(str(tiny_gguf), 512, 1, 0, 0, n_threads_batch=2, adapt_threads=False)
    try:
        assert llama_cpp.llama_n_threads(configured.llama.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(configured.llama.ctx) == 2
    finally:
        configured.close()


def test_busy_cores_elsewhere_leave_one_thread(tiny_gguf):
    """With a busy loop on every CPU, the backend decodes and reads prompts with one thread
    (llama.cpp's threads wait for each other: one descheduled thread stalls them all)."""
    cpus = len(threads.allowed_cpus())
    hogs = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(cpus)]
    backend = LlamaBackend(str(tiny_gguf), 512, 2, 0, 0)
    try:
        time.sleep(0.3)
        assert threads.busy_elsewhere() >= cpus
        assert backend.threads_now() == (1, 1)
        assert llama_cpp.llama_n_threads(backend.llama.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(backend.llama.ctx) == 1
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
        backend.close()


def test_the_governor_gives_cores_back_when_they_free_up(monkeypatch):
    calls = []
    governor = threads.Governor(lambda n, b: calls.append((n, b)), 2, 2, every=0)
    monkeypatch.setattr(threads, "allowed_cpus", lambda: [0, 1])
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 1)
    assert governor.check() == (1, 1)
    monkeypatch.setattr(threads, "busy_elsewhere", lambda: 0)
    assert governor.check() == (2, 2)
    assert governor.check() == (2, 2)
    assert calls == [(1, 1), (2, 2)]  # set only when the count changes


def test_thread_settings_are_validated():
    ModelConfig("m", path="x", n_threads_batch=3).validate()
    with pytest.raises(ConfigError, match=r"model 'm': n_threads_batch = -1 is not a usable"):
        ModelConfig("m", path="x", n_threads_batch=-1).validate()
    saved = ModelConfig("m", path="x").to_toml()
    assert "n_threads_batch" not in saved and "adapt_threads" not in saved  # defaults: unsaid


def test_one_load_per_file_whatever_the_threads(tiny_gguf):
    config = Config()
    config.daemon.memory_budget_mb = 4096
    one = ModelConfig("paper", path=str(tiny_gguf), n_ctx=512, n_threads=1)
    two = ModelConfig("section", path=str(tiny_gguf), n_ctx=512, n_threads=2, role="grader")
    config.models = {m.name: m for m in (one, two)}
    registry = Registry(config)
    ignore = lambda kind, data: None  # noqa: E731
    try:
        first = registry.acquire(one, ignore)
        second = registry.acquire(two, ignore)
        assert second.backend is first.backend  # one llama.cpp object: one copy of the weights
        registry.release(first)
        registry.release(second)
        other_context = ModelConfig("long", path=str(tiny_gguf), n_ctx=1024, role="researcher")
        third = registry.acquire(other_context, ignore)
        assert third.backend is not first.backend  # another context size is another load
        registry.release(third)
    finally:
        registry.unload_all()
