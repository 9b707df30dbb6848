"""`papercycle lsp --ws`: token and Origin checks, two browser sessions at once, and a
disconnect that does not stop the server for the others (raw JSON-RPC over websockets, as a
browser editor speaks it)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import subprocess
import sys

import pytest
from home_helpers import stop_process
from lsp_helpers import TIMEOUT
from papercycle.lsp.transport import origin_allowed
from waiting import eventually
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

ORIGIN = "http://localhost:8080"


def test_origin_allowlist():
    local = ("http://localhost", "http://127.0.0.1")
    assert origin_allowed(None, local)
    assert origin_allowed("http://localhost:5173", local)
    assert origin_allowed("http://127.0.0.1", local)
    assert not origin_allowed("https://evil.example", local)
    assert not origin_allowed("http://localhost.evil.example", local)
    assert not origin_allowed("http://localhost:80@evil", local)
    assert origin_allowed("https://www.overleaf.com", ("https://www.overleaf.com",))


@pytest.fixture
def ws_server(home, tmp_path):
    token_file = tmp_path / "lsp-url"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "papercycle.cli",
            "lsp",
            "--ws",
            "--port",
            "0",
            "--token-file",
            str(token_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=home.env,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line, "the server printed no URL"
        info = json.loads(line)
        assert token_file.read_text().strip() == info["url"]
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert info["url"].startswith("ws://127.0.0.1:")
        yield process, info
    finally:
        stop_process(process)


class Rpc:
    """A minimal LSP client over one WebSocket: requests, notifications, diagnostics."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.answers: dict[int, asyncio.Future] = {}
        self.diagnostics: dict[str, list] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if "id" in message and "method" in message:  # a request from the server
                result = [{}] if message["method"] == "workspace/configuration" else None
                await self.ws.send(
                    json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
                )
            elif "id" in message:
                future = self.answers.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif message.get("method") == "textDocument/publishDiagnostics":
                self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]

    async def request(self, method: str, params) -> dict:
        number = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.answers[number] = future
        await self.ws.send(
            json.dumps({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        )
        return await asyncio.wait_for(future, 60)

    async def notify(self, method: str, params) -> None:
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    async def initialize(self) -> None:
        answer = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"models": {"section": "tiny-section"}},
            },
        )
        assert "capabilities" in answer["result"]
        await self.notify("initialized", {})

    async def open(self, paper) -> str:
        uri = paper.as_uri()
        await self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "latex",
                    "version": 1,
                    "text": paper.read_text(),
                }
            },
        )
        return uri

    async def wait_diagnostics(self, uri: str, origin: str = "section") -> list:
        def arrived():
            diagnostics = self.diagnostics.get(uri, [])
            return any((d.get("data") or {}).get("origin") == origin for d in diagnostics)

        await eventually(
            arrived, f"{origin} diagnostics of {uri}", lambda: self.diagnostics, TIMEOUT
        )
        return self.diagnostics[uri]

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(BaseException):
            await self.reader
        await self.ws.close()


async def test_without_token_or_from_a_foreign_origin_is_refused(ws_server):
    _, info = ws_server
    base = info["url"].split("?")[0]
    with pytest.raises(InvalidStatus) as no_token:
        await connect(base, origin=ORIGIN)
    assert no_token.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as wrong:
        await connect(base + "?token=guess", origin=ORIGIN)
    assert wrong.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as foreign:
        await connect(info["url"], origin="https://evil.example")
    assert foreign.value.response.status_code == 403
    async with connect(info["url"], origin=ORIGIN) as ws:
        rpc = Rpc(ws)
        await rpc.initialize()
        await rpc.close()


async def test_two_sessions_and_a_disconnect(ws_server, paper, tmp_path):
    process, info = ws_server
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.tex").write_text(paper.read_text().replace("Table 1", "Our Table 1"))
    first = Rpc(await connect(info["url"], origin=ORIGIN))
    second = Rpc(await connect(info["url"], origin=ORIGIN))
    await first.initialize()
    await second.initialize()
    uri_one = await first.open(paper)
    uri_two = await second.open(other / "main.tex")
    await asyncio.gather(first.wait_diagnostics(uri_one), second.wait_diagnostics(uri_two))
    assert uri_two not in first.diagnostics and uri_one not in second.diagnostics
    # the first browser tab goes away without a word (and another says exit)
    first.reader.cancel()
    first.ws.transport.abort()
    await second.notify("exit", None)
    await asyncio.wait_for(second.ws.wait_closed(), 30)  # `exit` ended that session
    assert process.poll() is None, "the server stopped"
    third = Rpc(await connect(info["url"], origin=ORIGIN))
    await third.initialize()
    hover = await third.request(
        "textDocument/hover",
        {"textDocument": {"uri": uri_one}, "position": {"line": 0, "character": 0}},
    )
    assert "result" in hover  # answered (nothing open in this session: null)
    uri = await third.open(paper)
    await third.wait_diagnostics(uri)
    await third.close()
    await second.close()
