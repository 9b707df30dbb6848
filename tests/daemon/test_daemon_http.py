"""The OpenAI-compatible HTTP backend against a minimal local server on loopback.

llama-cpp-python's own server (`llama_cpp.server`) needs fastapi, uvicorn, sse-starlette and
pydantic-settings, which are not dependencies of this project; so the server here is a small
stdlib HTTP server that answers `POST /v1/chat/completions` (stream and grammar, as llama-server
does) with a real llama.cpp model (the tiny GGUF) behind it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from daemon_helpers import make_paper
from papercycle.daemon.config import Config, ModelConfig
from papercycle.daemon.engine import review as engine
from papercycle.daemon.models.backend import Cancellation, GenerationError
from papercycle.daemon.models.http_backend import HttpBackend
from papercycle.daemon.models.registry import Registry
from papercycle.latex import Project


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, llama) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.llama = llama
        self.lock = threading.Lock()
        self.requests: list[dict] = []
        self.disconnects = 0
        self.chunks_sent = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        from llama_cpp import LlamaGrammar

        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        if body.get("max_tokens", 0) > 100_000:
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error": "max_tokens too large"}')
            return
        grammar = (
            LlamaGrammar.from_string(body["grammar"], verbose=False)
            if body.get("grammar")
            else None
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        with self.server.lock:  # one generation at a time, like a single-slot llama-server
            stream = self.server.llama.create_chat_completion(
                body["messages"],
                stream=True,
                grammar=grammar,
                max_tokens=body.get("max_tokens", 64),
                temperature=body.get("temperature", 0.8),
                seed=body.get("seed"),
            )
            try:
                for chunk in stream:
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    self.server.chunks_sent += 1
                self.wfile.write(b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                self.server.disconnects += 1  # the client went away: stop generating


@pytest.fixture(scope="module")
def server(tiny_gguf):
    from llama_cpp import Llama

    llama = Llama(model_path=str(tiny_gguf), n_ctx=2048, n_threads=1, verbose=False)
    srv = _Server(llama)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    llama.close()


def _model(server, **sampling) -> ModelConfig:
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return ModelConfig(
        name="remote",
        backend="http",
        url=url,
        api_model="tiny",
        format="section",
        n_ctx=2048,
        structured=True,
        sampling={"max_tokens": 700, **sampling},
    )


def test_section_review_through_an_http_endpoint(server, tmp_path):
    project = Project.build(make_paper(tmp_path / "p"))
    model = _model(server)
    config = Config()
    config.models[model.name] = model
    result = engine.review_section(project, "Method", model, Registry(config))
    assert result["comments"] and set(result["scores"]) == {"soundness", "clarity", "evidence"}
    source = (tmp_path / "p" / "main.tex").read_text()
    for comment in result["comments"]:
        r = comment["anchor"]["range"]
        assert comment["anchor"]["method"] == "quote"
        assert source[r["start"] : r["end"]] == comment["quote"]
    sent = server.requests[-1]
    assert sent["model"] == "tiny" and sent["stream"] is True and "grammar" in sent
    assert sent["messages"][0]["role"] == "system"


def test_cancel_closes_the_stream(server):
    backend = HttpBackend(_model(server).url, "tiny", 2048)
    cancel = Cancellation()
    seen = []

    def on_token(text: str) -> None:
        seen.append(text)
        cancel.cancel()

    before = server.disconnects
    generation = backend.generate(
        "",
        [{"role": "user", "content": "hello"}],
        {"max_tokens": 1500, "seed": 1},
        "root ::= [a-z ]{1000,1400}",
        on_token,
        cancel,
    )
    assert generation.finish == "cancelled" and len(seen) == 1
    assert cancel.tokens_after_cancel <= 1  # the stream is closed at the token that saw it
    for _ in range(200):
        if server.disconnects > before:
            break
        threading.Event().wait(0.05)
    assert server.disconnects == before + 1


def test_http_errors_are_named(server):
    backend = HttpBackend(_model(server).url, "tiny", 2048)
    with pytest.raises(GenerationError, match=r"HTTP 400: .*max_tokens too large"):
        backend.generate("", [], {"max_tokens": 10**6}, None, lambda _t: None, Cancellation())
    closed = HttpBackend("http://127.0.0.1:9/v1", "x", 2048, timeout=5)
    with pytest.raises(GenerationError, match=r"http://127.0.0.1:9/v1: cannot connect"):
        closed.generate("", [], {}, None, lambda _t: None, Cancellation())


async def test_the_daemon_serves_an_http_model(server, isolated_home, tmp_path):
    from papercycle.daemon.client import Client

    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    isolated_home.paths.config_file.write_text(
        "[daemon]\nexit_after_idle = 600\n"
        f'[[models]]\nname = "remote"\nbackend = "http"\nurl = "{url}"\napi_model = "tiny"\n'
        'format = "section"\nn_ctx = 2048\nstructured = true\n[models.sampling]\nmax_tokens = 700\n'
    )
    paper = make_paper(tmp_path / "p")
    params = {"path": str(paper), "section": "Experiments", "model": "remote"}
    async with Client(isolated_home.paths) as client:
        stream = client.stream("review.section", params)
        events = [e["event"] async for e in stream]
        assert "token" in events and stream.result["comments"]
        assert stream.result["cached"] is False
        again = await client.request("review.section", params, timeout=60)
        assert again["cached"] is True  # keyed by the endpoint and model name
        models = (await client.request("status"))["models"]
    assert models[0]["name"] == "remote" and models[0]["backend"] == "http"
