"""The language server's untrusted inputs over `papercycle lsp --ws`: a Host that is not this
loopback server, commands with bad arguments (one-line JSON-RPC errors, no traceback), and a
session confined to the project it opened (a `..` URI reaches nothing outside)."""

from __future__ import annotations

import socket

from test_lsp_websocket import ORIGIN, Rpc, ws_server
from websockets.asyncio.client import connect

__all__ = ["ws_server"]


def handshake(port: int, host: str, token: str) -> str:
    """A raw WebSocket upgrade (websockets' client always sends the URL's own Host)."""
    request = (
        f"GET /?token={token} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(request.encode())
        return connection.recv(4096).decode("latin-1")


def test_a_foreign_host_is_refused_even_with_the_token(ws_server):
    _, info = ws_server
    port = int(info["url"].split(":")[2].split("/")[0])
    token = info["url"].split("token=")[1]
    rebound = handshake(port, f"evil.example:{port}", token)
    assert rebound.startswith("HTTP/1.1 403") and "host not allowed" in rebound
    assert handshake(port, f"127.0.0.1:{port + 1}", token).startswith("HTTP/1.1 403")
    assert handshake(port, f"localhost:{port}", token).startswith("HTTP/1.1 101")


async def test_review_section_with_bad_arguments_answers_one_line(ws_server, paper):
    _, info = ws_server
    rpc = Rpc(await connect(info["url"], origin=ORIGIN))
    try:
        await rpc.initialize()
        uri = await rpc.open(paper)
        expected = {
            "file:///nonexistent/doc.tex": (
                ["file:///nonexistent/doc.tex", 0],
                "file:///nonexistent/doc.tex is not an open document",
            ),
            "line": ([uri, {"line": "x"}], "argument 2: line must be a non-negative integer"),
            "uri": ([5, 0], "argument 1 must be a document URI, not 5"),
            "offset": ([uri, "far"], "argument 2 must be an offset or {line, character}, "
                       "not 'far'"),
        }  # fmt: skip
        for what, (arguments, message) in expected.items():
            answer = await rpc.request(
                "workspace/executeCommand",
                {"command": "papercycle.reviewSection", "arguments": arguments},
            )
            error = answer["error"]
            assert error["code"] == -32602, what
            assert error["message"] == f"papercycle.reviewSection: {message}"
            assert "Traceback" not in str(error.get("data"))
    finally:
        await rpc.close()


async def test_a_session_reaches_only_the_project_it_opened(ws_server, paper):
    _, info = ws_server
    outside = paper.parent.parent / "outside"
    outside.mkdir()
    (outside / "x.tex").write_text("\\section{Elsewhere}\nText.\n")
    escaping = paper.parent.as_uri() + "/../outside/x.tex"
    rpc = Rpc(await connect(info["url"], origin=ORIGIN))
    try:
        await rpc.initialize()
        await rpc.open(paper)
        await rpc.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": escaping, "languageId": "latex", "version": 1,
                              "text": "x"}},
        )  # fmt: skip
        answer = await rpc.request(
            "workspace/executeCommand",
            {"command": "papercycle.dismiss", "arguments": [escaping, "some-key"]},
        )
    finally:
        await rpc.close()
    assert answer["error"] == {
        "code": -32602,
        "message": f"papercycle.dismiss: {escaping} is not an open document",
    }
    assert not (outside / ".papercycle").exists()
