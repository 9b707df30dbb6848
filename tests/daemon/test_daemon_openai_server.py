"""The OpenAI-compatible backend against llama-cpp-python's own server (`llama_cpp.server`, the
test extra), started on 127.0.0.1 with `--api_key` like llama-server or vLLM behind a key:
the key is sent, a wrong or missing one is one clear line, and the scheduler sends up to the
model's `max_parallel` requests at once."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import httpx2
import pytest
from papercycle.daemon.config import Config, ModelConfig
from papercycle.daemon.engine.review import GenerationRequest
from papercycle.daemon.models.backend import Cancellation, GenerationError
from papercycle.daemon.models.http_backend import HttpBackend
from papercycle.daemon.models.registry import ModelError, Registry
from papercycle.daemon.scheduler import PRIORITIES, Scheduler

KEY = "test-key-4f1c"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def openai_server(tiny_gguf):
    port = _free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(tiny_gguf)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--api_key", KEY]
    command += ["--n_ctx", "2048", "--n_threads", "1", "--model_alias", "tiny"]
    command += ["--interrupt_requests", "False"]  # else a new request stops the streamed one
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx2.get(f"{url}/models", headers={"Authorization": f"Bearer {KEY}"})
                if answer.status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"llama_cpp.server did not start: {server.stderr.read()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)


def _chat(backend: HttpBackend, max_tokens: int = 8):
    tokens: list[str] = []
    generation = backend.generate(
        "",
        [{"role": "user", "content": "Say something."}],
        {"max_tokens": max_tokens, "seed": 1, "temperature": 0.0},
        None,
        tokens.append,
        Cancellation(),
    )
    return generation, tokens


def test_the_key_is_sent_and_the_answer_streams_back(openai_server):
    generation, tokens = _chat(HttpBackend(openai_server, "tiny", 2048, api_key=KEY))
    assert generation.finish in ("stop", "length") and tokens
    assert generation.text == "".join(tokens)


@pytest.mark.parametrize("key", ["wrong-key", ""])
def test_a_wrong_or_missing_key_is_one_clear_line(openai_server, key):
    with pytest.raises(GenerationError) as refused:
        _chat(HttpBackend(openai_server, "tiny", 2048, api_key=key))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{openai_server}: HTTP 401: the server refused the API key")


def test_the_key_comes_from_the_named_environment_variable(openai_server, monkeypatch):
    model = ModelConfig(
        "remote", backend="http", url=openai_server, api_model="tiny", api_key_env="PC_TEST_KEY"
    )
    config = Config()
    config.models[model.name] = model
    registry = Registry(config)
    monkeypatch.delenv("PC_TEST_KEY", raising=False)
    with pytest.raises(ModelError, match=r"^model 'remote': api_key_env names PC_TEST_KEY, which"):
        registry.acquire(model, lambda kind, data: None)
    monkeypatch.setenv("PC_TEST_KEY", KEY)
    entry = registry.acquire(model, lambda kind, data: None)
    try:
        generation, tokens = _chat(entry.backend)
        assert tokens and generation.text
    finally:
        registry.release(entry)
        registry.unload_all()


@pytest.mark.parametrize("parallel", [1, 4])
async def test_the_scheduler_sends_up_to_max_parallel_requests_at_once(openai_server, parallel):
    model = ModelConfig(
        "remote",
        backend="http",
        url=openai_server,
        api_model="tiny",
        api_key=KEY,
        max_parallel=parallel,
    )
    config = Config()
    config.models[model.name] = model
    registry = Registry(config)
    scheduler = Scheduler(registry, max_queue=16)
    worker = asyncio.create_task(scheduler.run())
    ignore = lambda kind, data: None  # noqa: E731
    seen_running: list[int] = []

    def request(number: int) -> GenerationRequest:
        messages = [{"role": "user", "content": f"Question {number}."}]
        settings = {"max_tokens": 48, "seed": number, "temperature": 0.0}
        key = f"question-{number}"
        return GenerationRequest(
            "section", model, "standard", messages, "", None, settings, "v", key
        )

    try:
        jobs = [
            scheduler.submit(request(n), PRIORITIES["interactive"], n, ignore) for n in range(6)
        ]
        while not all(job.done.done() for job in jobs):
            seen_running.append(len(scheduler.remote))
            await asyncio.sleep(0.005)
        results = [job.done.result() for job in jobs]
        assert all(r.finish in ("stop", "length") for r in results)
        backend = registry.loaded["remote"].backend
        assert backend.most_in_flight == parallel  # requests sent and unanswered at once
        assert max(seen_running) == parallel
    finally:
        scheduler.cancel_all("test over")
        await asyncio.wait_for(worker, 5)
        scheduler.shutdown()
        registry.unload_all()
