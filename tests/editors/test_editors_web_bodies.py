"""`papercycle web` (cli/webapp.py) refuses a bad PUT body with a 400-class answer and one JSON
line, never a dropped connection or a traceback: invalid UTF-8, a Content-Length that is
missing, negative, not a number, too large, or longer than the body that arrives."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from papercycle.cli.webapp import WebApp


@pytest.fixture
def web(tmp_path):
    project = tmp_path / "paper"
    project.mkdir()
    (project / "main.tex").write_text("\\section{Intro}\nText.\n")
    app = WebApp(project)
    app.start()
    threading.Thread(target=app.serve_forever, daemon=True).start()
    yield app
    app.shutdown()


def put(app: WebApp, headers: dict[str, str], body: bytes, half_close=False) -> tuple[int, dict]:
    """A raw PUT of main.tex (http.client would fix the headers); the status and JSON answer."""
    lines = ["PUT /api/file?path=main.tex HTTP/1.1", f"Host: 127.0.0.1:{app.port}",
             f"X-Papercycle-Token: {app.token}", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
    with socket.create_connection(("127.0.0.1", app.port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


@pytest.mark.parametrize(
    ("headers", "body", "half_close", "status", "error"),
    [
        ({"Content-Length": "4"}, b"\xff\xfe\xfd\xfc", False, 400,
         "the body is not UTF-8 text (byte 0)"),
        ({"Content-Length": "-5"}, b"", False, 400, "Content-Length '-5' is not a size"),
        ({"Content-Length": "lots"}, b"", False, 400, "Content-Length 'lots' is not a size"),
        ({}, b"", False, 411, "a Content-Length header is required"),
        ({"Content-Length": str(2**40)}, b"", False, 413, "file too large"),
        ({"Content-Length": "100"}, b"short", True, 400, "the body ended after 5 of 100 bytes"),
    ],
)  # fmt: skip
def test_a_bad_body_is_refused_with_one_line_and_nothing_on_stderr(
    web, capfd, caplog, headers, body, half_close, status, error
):
    before = (web.root / "main.tex").read_text()
    assert put(web, headers, body, half_close) == (status, {"error": error})
    assert (web.root / "main.tex").read_text() == before
    assert f"refused: {error}" in caplog.text
    assert capfd.readouterr().err == ""


def test_a_good_body_is_still_saved(web):
    body = "\\section{Intro}\nCafé.\n".encode()
    assert put(web, {"Content-Length": str(len(body))}, body) == (
        200,
        {"saved": True, "bytes": len(body)},
    )
    assert (web.root / "main.tex").read_bytes() == body
