"""How the server is reached: stdio (one editor, one process), or WebSocket for browser editors.

WebSocket: bound to 127.0.0.1 only; a random token is required in the URL
(`ws://127.0.0.1:PORT/?token=...`); the `Origin` header, when present (browsers always send it),
must be in the allowlist (http://localhost and http://127.0.0.1 on any port, plus
`--allow-origin` values), so a web page you visit cannot read your paper through a localhost
socket. Each connection gets its own server session (pygls' `start_ws` serves only one); one
session disconnecting, or sending `exit`, never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import json
import logging
import secrets
import sys
import threading
from collections.abc import Iterable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from lsprotocol import types
from papercycle.lsp.server import create_server
from pygls.io_ import run_websocket
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

log = logging.getLogger("papercycle.lsp")

HOST = "127.0.0.1"
LOCAL_ORIGINS = ("http://localhost", "http://127.0.0.1", "https://localhost", "https://127.0.0.1")


def start_stdio() -> None:
    from papercycle.lsp.framing import start_stdio as serve_stdio

    serve_stdio(create_server())


_closing: set = set()


class SessionProtocol(LanguageServerProtocol):
    """`exit` ends this session (closes its socket), never the process serving the others."""

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args):
        if (user_handler := self.fm.features.get(types.EXIT)) is not None:
            yield user_handler, args, None
        if self.writer is not None:
            result = self.writer.close()
            if inspect.isawaitable(result):
                _closing.add(asyncio.ensure_future(result))


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    if origin is None:
        return True  # not a browser: the token is the access control
    origin = origin.rstrip("/").lower()
    for entry in allowed:
        entry = entry.rstrip("/").lower()
        if origin == entry:
            return True
        # an entry without a port allows any port of that scheme and host
        if origin.startswith(entry + ":") and origin[len(entry) + 1 :].isdigit():
            return True
    return False


class WsServer:
    def __init__(
        self, port: int = 0, token: str | None = None, allow_origins: Iterable[str] = ()
    ) -> None:
        self.port = port
        self.token = token or secrets.token_urlsafe(24)
        self.allowed = (*LOCAL_ORIGINS, *allow_origins)
        self.sessions: set[asyncio.Task] = set()
        self.refused = 0
        self._server = None

    @property
    def url(self) -> str:
        return f"ws://{HOST}:{self.port}/?token={self.token}"

    def check(self, connection, request):
        """websockets' process_request hook: None lets the handshake go on."""
        query = parse_qs(urlsplit(request.path).query)
        token = (query.get("token") or [""])[0]
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            self.refused += 1
            log.warning("websocket connection without the right token refused")
            return connection.respond(HTTPStatus.UNAUTHORIZED, "a valid token is required\n")
        host = (request.headers.get("Host") or "").lower()
        if host not in (f"{HOST}:{self.port}", f"localhost:{self.port}"):
            # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name
            self.refused += 1
            log.warning("websocket connection for host %r refused", host[:80])
            return connection.respond(HTTPStatus.FORBIDDEN, "host not allowed\n")
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, self.allowed):
            self.refused += 1
            log.warning("websocket connection from origin %s refused", origin)
            return connection.respond(HTTPStatus.FORBIDDEN, "origin not allowed\n")
        return None

    async def session(self, websocket) -> None:
        ls = create_server(SessionProtocol)
        ls.confined = True  # one project per connection (session.py's PapercycleServer.allows)
        stop = threading.Event()
        task = asyncio.current_task()
        if task is not None:
            self.sessions.add(task)
        try:
            await run_websocket(
                websocket=websocket,
                stop_event=stop,
                protocol=ls.protocol,
                logger=log,
                error_handler=ls.report_server_error,
            )
        finally:
            for job in list(ls.jobs.values()):
                job.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ls.projects.close_all(), 10)
            if ls.link is not None:
                with contextlib.suppress(Exception):
                    await ls.link.close()
            ls.outlines.close()
            if task is not None:
                self.sessions.discard(task)

    async def serve(self, ready=None) -> None:
        from websockets.asyncio.server import serve

        async with serve(
            self.session, HOST, self.port, process_request=self.check, max_size=64 * 2**20
        ) as server:
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            if ready is not None:
                ready(self)
            await server.serve_forever()


def start_ws(
    port: int = 0, allow_origins: Iterable[str] = (), token_file: str | None = None
) -> None:
    server = WsServer(port, allow_origins=allow_origins)

    def announce(s: WsServer) -> None:
        if token_file:
            import os

            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(s.url + "\n")
        sys.stdout.write(json.dumps({"url": s.url, "port": s.port}) + "\n")
        sys.stdout.flush()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve(announce))
