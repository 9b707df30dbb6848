"""A Hugging Face Hub on 127.0.0.1 for the pull tests: the endpoints huggingface_hub calls
(read from its source, 2.4), serving repositories the test builds from files on disk.

- `GET /api/models/{owner}/{name}[/revision/{rev}]` (`?blobs=true`): id, sha, gated,
  cardData, siblings with size and blobId, `lfs` {size, sha256} for weights.
- `HEAD|GET /{owner}/{name}/resolve/{rev}/{file}`: `X-Repo-Commit`, `ETag` (the sha256 of a
  weights file, the git blob id of a small one), `Content-Length`; `Range: bytes=N-` gives
  206 with `Content-Range`.
- Errors as the Hub sends them: an unknown repository 404 `X-Error-Code: RepoNotFound`; a
  gated one without the right `Authorization: Bearer` 401 `X-Error-Code: GatedRepo` on its
  files (its metadata stays public, as on the Hub).
- `cut_once`: the first GET of those files stops after that many bytes of the body, then the
  connection is closed (a dropped transfer).
Every request is logged as (method, path, Range header).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

WEIGHTS = (".gguf", ".safetensors")


@dataclass
class Repo:
    files: dict[str, bytes]
    gated: bool = False
    licence: str | None = None
    sha: str = ""

    def __post_init__(self) -> None:
        digest = hashlib.sha1(usedforsecurity=False)
        for name in sorted(self.files):
            digest.update(name.encode() + hashlib.sha256(self.files[name]).digest())
        self.sha = digest.hexdigest()

    @classmethod
    def from_folder(cls, folder: Path, **options) -> Repo:
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
        return cls(files, **options)

    def etag(self, name: str) -> str:
        data = self.files[name]
        if name.endswith(WEIGHTS):
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(
            f"blob {len(data)}\0".encode() + data, usedforsecurity=False
        ).hexdigest()

    def siblings(self) -> list[dict]:
        out = []
        for name, data in self.files.items():
            sibling = {"rfilename": name, "size": len(data), "blobId": self.etag(name)}
            if name.endswith(WEIGHTS):
                sibling["lfs"] = {"size": len(data), "sha256": self.etag(name), "pointerSize": 134}
                sibling["blobId"] = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
            out.append(sibling)
        return out


@dataclass
class Hub:
    repos: dict[str, Repo] = field(default_factory=dict)
    token: str = "hf_test_token"  # the token a gated repository accepts
    cut_once: dict[str, int] = field(default_factory=dict)  # file name -> bytes sent, once
    log: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""

    def gets(self, name: str) -> list[str | None]:
        """The Range header of every GET of a file called `name`."""
        return [r for m, p, r in self.log if m == "GET" and p.endswith(f"/{name}")]


def _handler(hub: Hub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the hub's log is `hub.log`
            pass

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def do_GET(self) -> None:
            self._serve(body=True)

        def _serve(self, body: bool) -> None:
            path = unquote(urlparse(self.path).path)
            hub.log.append((self.command, path, self.headers.get("Range")))
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                return self._info("/".join(parts[2:4]), body)
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._file("/".join(parts[:2]), parts[3], "/".join(parts[4:]), body)
            return self._error(404, "RepoNotFound", "not a Hub address", body)

        def _info(self, repo_id: str, body: bool) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found", body)
            data = {
                "id": repo_id,
                "sha": repo.sha,
                "gated": "manual" if repo.gated else False,
                "private": False,
                "siblings": repo.siblings(),
            }
            if repo.licence:
                data["cardData"] = {"license": repo.licence}
            self._send(200, json.dumps(data).encode(), {"Content-Type": "application/json"}, body)

        def _file(self, repo_id: str, revision: str, name: str, body: bool) -> None:
            repo = hub.repos.get(repo_id)
            if repo is None:
                return self._error(404, "RepoNotFound", "Repository not found", body)
            if revision not in ("main", repo.sha):
                return self._error(404, "RevisionNotFound", "Invalid rev id", body)
            if name not in repo.files:
                return self._error(404, "EntryNotFound", "Entry not found", body)
            if repo.gated and self.headers.get("Authorization") != f"Bearer {hub.token}":
                message = f"Access to model {repo_id} is restricted. Please log in."
                return self._error(401, "GatedRepo", message, body)
            data = repo.files[name]
            headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{repo.etag(name)}"'}
            start = 0
            asked = self.headers.get("Range")
            if asked and asked.startswith("bytes=") and asked.endswith("-"):
                start = int(asked[len("bytes=") : -1])
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            status = 206 if start else 200
            if body and name in hub.cut_once:
                stop_after = hub.cut_once.pop(name)
                self._send(status, data[start:], headers, body, stop_after=stop_after)
                return
            self._send(status, data[start:], headers, body)

        def _error(self, status: int, code: str, message: str, body: bool) -> None:
            headers = {"X-Error-Code": code, "X-Error-Message": message}
            payload = json.dumps({"error": message}).encode()
            self._send(status, payload, {**headers, "Content-Type": "application/json"}, body)

        def _send(self, status, payload, headers, body, stop_after: int | None = None) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if body:
                self.wfile.write(payload if stop_after is None else payload[:stop_after])
                self.wfile.flush()
            if stop_after is not None:
                self.close_connection = True

    return Handler


def start(hub: Hub) -> tuple[Hub, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return hub, server
