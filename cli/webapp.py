"""The browser editor's local server (`papercycle web`): the built page (editors/web, `npm run
build`), a small file API for ONE project folder, and the language server over WebSocket
(`papercycle.lsp.transport.WsServer`, in this process).

Access control, all on 127.0.0.1:
- the page URL carries a random token; every /api call must send it (`X-Papercycle-Token`),
  a custom header, so a cross-site page cannot even send the request without a preflight,
  which is never answered;
- the Host header must be 127.0.0.1 or localhost (DNS rebinding), and an Origin, when sent,
  must be this server's own;
- the language server's WebSocket checks its own token and the Origin allowlist (the local
  origins only);
- files are read and written only inside the project folder, with LaTeX-project extensions,
  and written only by PUT (the user's save).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import mimetypes
import os
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from papercycle.latex.file_edit import replace_atomically

HOST = "127.0.0.1"
TEXT_SUFFIXES = {".tex", ".bib", ".sty", ".cls", ".bst", ".txt", ".md", ".ltx", ".bbx", ".cbx"}
SKIP_DIRS = {".git", ".papercycle", "node_modules", "__pycache__", ".cache"}
MAX_FILE = 8 * 2**20
log = logging.getLogger(__name__)


def assets_dir() -> Path:
    """Where the built page is: $PAPERCYCLE_WEB_ASSETS, else the package's own `web_page`
    folder (package data written by editors/web's build; an installed wheel carries it, a
    checkout has it once built)."""
    override = os.environ.get("PAPERCYCLE_WEB_ASSETS")
    if override:
        return Path(override)
    # wheels are installed unzipped, so the package's folder is a real directory
    return Path(str(resources.files("papercycle.cli") / "web_page"))


def project_files(root: Path) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix.lower() in TEXT_SUFFIXES:
                out.append(path.relative_to(root).as_posix())
    return out


def main_file(root: Path, files: list[str]) -> str | None:
    tex = [f for f in files if f.endswith(".tex")]
    for name in sorted(tex, key=lambda f: (f.count("/"), f != "main.tex", f)):
        with contextlib.suppress(OSError):
            if "\\documentclass" in (root / name).read_text(errors="replace")[:20000]:
                return name
    return tex[0] if tex else None


class WebApp:
    def __init__(self, project: Path, port: int = 0, lsp_port: int = 0) -> None:
        self.root = project.resolve()
        self.token = secrets.token_urlsafe(24)
        self.port = port
        self.lsp_port = lsp_port
        self.lsp = None  # WsServer
        self.httpd: ThreadingHTTPServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the pieces --------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?token={self.token}"

    def resolve(self, relative: str) -> Path | None:
        """A project file named by the page, or None (outside the folder, or not a text file)."""
        if not relative or relative.startswith("/") or "\\" in relative or "\0" in relative:
            return None
        path = (self.root / relative).resolve()
        if path != self.root and self.root not in path.parents:
            return None
        if path.suffix.lower() not in TEXT_SUFFIXES:
            return None
        return path

    def config(self) -> dict:
        files = project_files(self.root)
        return {
            "project": self.root.name,
            "root": self.root.as_uri(),
            "files": files,
            "main": main_file(self.root, files),
            "lspUrl": self.lsp.url if self.lsp is not None else None,
        }

    def write(self, path: Path, text: str) -> None:
        """Atomically, keeping the file's mode: a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
        replace_atomically(path, text.encode("utf-8"), mode)

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the language server (its own thread and event loop) and the HTTP server."""
        from papercycle.lsp.transport import WsServer

        ready = threading.Event()
        self.lsp = WsServer(self.lsp_port)

        def run_lsp() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self.lsp.serve(lambda _: ready.set()))

        threading.Thread(target=run_lsp, name="papercycle-lsp-ws", daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError("the language server did not start")
        app = self

        class Handler(_Handler):
            webapp = app

        self.httpd = ThreadingHTTPServer((HOST, self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]

    def serve_forever(self) -> None:
        assert self.httpd is not None
        try:
            self.httpd.serve_forever(poll_interval=0.5)
        finally:
            self.httpd.server_close()

    def shutdown(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()


class _Handler(BaseHTTPRequestHandler):
    webapp: WebApp
    server_version = "papercycle-web"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args) -> None:  # quiet: the terminal shows the URL only
        pass

    # -- checks ------------------------------------------------------------------------

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        return host in (f"127.0.0.1:{self.webapp.port}", f"localhost:{self.webapp.port}")

    def _origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        if origin is None:
            return True
        return origin.rstrip("/").lower() in (
            f"http://127.0.0.1:{self.webapp.port}",
            f"http://localhost:{self.webapp.port}",
        )

    def _token_ok(self) -> bool:
        sent = self.headers.get("X-Papercycle-Token") or ""
        return hmac.compare_digest(sent.encode(), self.webapp.token.encode())

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data) -> None:
        self._send(status, json.dumps(data).encode())

    def _refuse(self, status: HTTPStatus, why: str) -> None:
        self._json(status, {"error": why})

    def _guard(self, api: bool) -> bool:
        if not self._host_ok():
            self._refuse(HTTPStatus.FORBIDDEN, "host not allowed")
            return False
        if not self._origin_ok():
            self._refuse(HTTPStatus.FORBIDDEN, "origin not allowed")
            return False
        if api and not self._token_ok():
            self._refuse(HTTPStatus.UNAUTHORIZED, "a valid token is required")
            return False
        return True

    # -- methods -------------------------------------------------------------------------

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path.startswith("/api/"):
            if not self._guard(api=True):
                return
            if parts.path == "/api/config":
                self._json(HTTPStatus.OK, self.webapp.config())
            elif parts.path == "/api/file":
                path = self.webapp.resolve((parse_qs(parts.query).get("path") or [""])[0])
                if path is None or not path.is_file():
                    self._refuse(HTTPStatus.NOT_FOUND, "no such project file")
                    return
                self._send(
                    HTTPStatus.OK,
                    path.read_bytes(),
                    "text/plain; charset=utf-8",
                )
            else:
                self._refuse(HTTPStatus.NOT_FOUND, "unknown api")
            return
        if not self._guard(api=False):
            return
        self._static(parts.path)

    def do_PUT(self) -> None:
        parts = urlsplit(self.path)
        if not self._guard(api=True):
            return
        if parts.path != "/api/file":
            self._refuse(HTTPStatus.NOT_FOUND, "unknown api")
            return
        path = self.webapp.resolve((parse_qs(parts.query).get("path") or [""])[0])
        if path is None:
            self._bad_body(HTTPStatus.FORBIDDEN, "not a project file")
            return
        text = self._text_body()
        if text is None:
            return
        self.webapp.write(path, text)
        self._json(HTTPStatus.OK, {"saved": True, "bytes": len(text.encode())})

    def _text_body(self) -> str | None:
        """The request's body as text, or None once a 400/413/411 has answered why not."""
        declared = self.headers.get("Content-Length")
        if declared is None:
            self._bad_body(HTTPStatus.LENGTH_REQUIRED, "a Content-Length header is required")
            return None
        if not declared.strip().isdigit():  # rejects negative, signed and non-numeric values
            self._bad_body(
                HTTPStatus.BAD_REQUEST, f"Content-Length {declared[:40]!r} is not a size"
            )
            return None
        length = int(declared)
        if length > MAX_FILE:
            self._bad_body(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "file too large")
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self._bad_body(
                HTTPStatus.BAD_REQUEST, f"the body ended after {len(body)} of {length} bytes"
            )
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as error:
            self._bad_body(
                HTTPStatus.BAD_REQUEST, f"the body is not UTF-8 text (byte {error.start})"
            )
            return None

    def _bad_body(self, status: HTTPStatus, why: str) -> None:
        """Refused with one line; the connection closes, as an unread body would be read as the
        next request."""
        log.warning("web: %s %s refused: %s", self.command, urlsplit(self.path).path, why)
        self.close_connection = True
        self._refuse(status, why)

    def _static(self, path: str) -> None:
        assets = assets_dir()
        name = "index.html" if path in ("/", "/index.html") else path.lstrip("/")
        target = (assets / name).resolve()
        if assets.resolve() not in target.parents or not target.is_file():
            if not (assets / "index.html").is_file():
                self._send(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    b"papercycle web: the page is not built. Run: npm --prefix editors/web ci "
                    b"&& npm --prefix editors/web run build\n",
                    "text/plain; charset=utf-8",
                )
                return
            self._refuse(HTTPStatus.NOT_FOUND, "not found")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/javascript":
            kind += "; charset=utf-8"
        self._send(HTTPStatus.OK, target.read_bytes(), kind)
