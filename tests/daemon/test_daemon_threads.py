"""Thread counts (daemon/models/threads.py): physical cores by default for decode and prompt,
OpenMP's threads waiting passively in the daemon, and one copy of a model's weights whatever
its threads."""

from __future__ import annotations

import os
import subprocess
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
    backend = LlamaBackend(str(tiny_gguf), 512, 0, 0, 0)
    try:
        cores = threads.physical_cores()
        assert (backend.n_threads, backend.n_threads_batch) == (cores, cores)
        context = backend.llama.ctx
        assert llama_cpp.llama_n_threads(context) == cores
        assert llama_cpp.llama_n_threads_batch(context) == cores
    finally:
        backend.close()
    configured = LlamaBackend(str(tiny_gguf), 512, 1, 0, 0, n_threads_batch=2)
    try:
        assert llama_cpp.llama_n_threads(configured.llama.ctx) == 1
        assert llama_cpp.llama_n_threads_batch(configured.llama.ctx) == 2
    finally:
        configured.close()


def test_thread_settings_are_validated():
    ModelConfig("m", path="x", n_threads_batch=3).validate()
    with pytest.raises(ConfigError, match=r"model 'm': n_threads_batch = -1 is not a usable"):
        ModelConfig("m", path="x", n_threads_batch=-1).validate()
    saved = ModelConfig("m", path="x").to_toml()
    assert "n_threads_batch" not in saved and "max_parallel" not in saved  # defaults: unsaid


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


async def test_the_daemon_loads_with_physical_cores_and_passive_wait(
    isolated_home, tiny_gguf, tmp_path
):
    """A model with n_threads 0, through a real daemon: status shows the physical cores for
    decode and prompt, and OpenMP's threads waiting passively (set before llama.cpp loads)."""
    from daemon_helpers import make_paper
    from papercycle.daemon.client import Client

    isolated_home.paths.config_file.write_text(
        "[daemon]\nexit_after_idle = 600\n"
        f'[[models]]\nname = "tiny"\npath = "{tiny_gguf}"\n'
        'format = "section"\nn_ctx = 2048\nstructured = true\n'
        "[models.sampling]\nmax_tokens = 64\n"
    )
    paper = make_paper(tmp_path / "p")
    params = {"path": str(paper), "section": "Method", "model": "tiny"}
    async with Client(isolated_home.paths) as client:
        await client.request("review.section", params, timeout=120)
        models = (await client.request("status"))["models"]
    cores = threads.physical_cores()
    expected = {"decode": cores, "prompt": cores, "omp_wait_policy": "PASSIVE"}
    if os.environ.get("OMP_WAIT_POLICY"):
        expected["omp_wait_policy"] = os.environ["OMP_WAIT_POLICY"]  # the user's choice wins
    assert models[0]["threads"] == expected
