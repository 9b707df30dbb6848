"""Language server test helpers (a unique module name: every test folder has a conftest): an isolated per-user home (PAPERCYCLE_HOME: config, state, runtime
and cache of the daemon under a temporary directory) with the tiny models configured, a small
paper, and a pytest-lsp client that runs the real server (`papercycle lsp --stdio`) replaying
the capabilities of a real editor. The server auto-starts the real daemon in that home. The home
and the paper are tests/home_helpers.py's, shared with the daemon tests."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from home_helpers import PAPER, make_home, stop_daemon, user_home
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client
from waiting import eventually, wait_until

__all__ = ["PAPER", "PROFILES", "TIMEOUT", "Home", "Session", "start_session", "stop_session"]

PROFILES = {
    "vscode": "visual-studio-code",
    "neovim": "neovim@v0.7.0",
    "emacs": "emacs",
}
TIMEOUT = 180.0
_servers = itertools.count(1)
# initialize's clientInfo.name of each editor (the server words its hints for the client)
CLIENT_NAMES = {"vscode": "Visual Studio Code", "neovim": "Neovim", "emacs": "Eglot"}


class Home:
    """One isolated user: PAPERCYCLE_HOME and the daemon the servers auto-start there."""

    def __init__(self, gguf: Path) -> None:
        self.root = make_home(gguf, prefix="pcl-", researcher=True)
        self.env = {**os.environ, "PAPERCYCLE_HOME": str(self.root)}

    @property
    def paths(self):
        from papercycle.daemon.paths import Paths

        with user_home(self.root):
            return Paths.for_user()

    def daemon_pid(self) -> int | None:
        from papercycle.daemon.process import read_info

        info = read_info(self.paths)
        return int(info["pid"]) if info else None

    def kill_daemon(self) -> int | None:
        pid = self.daemon_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
            from papercycle.daemon.process import pid_alive

            wait_until(
                lambda: not pid_alive(pid), f"the killed daemon (pid {pid}) gone", timeout=10
            )
        return pid

    def stop(self) -> None:
        stop_daemon(self.paths)
        shutil.rmtree(self.root, ignore_errors=True)


# Fixtures shared by the language server and editor tests (their conftests import them).
@pytest.fixture(scope="module")
def home(tiny_gguf):
    """An isolated PAPERCYCLE_HOME with the tiny models, per test module."""
    h = Home(tiny_gguf)
    yield h
    h.stop()


@pytest.fixture
def paper(tmp_path) -> Path:
    """A one-file paper with a hidden instruction and three sections."""
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "main.tex").write_text(PAPER)
    return folder / "main.tex"


def _patch_converter(client: LanguageClient) -> None:
    """lsprotocol's client converter reads a CodeAction that carries a command as a garbled
    Command: a CodeAction's `command` is an object, a Command's is a string."""
    converter = client.protocol._converter

    def code_action_hook(obj: Any, _: type):
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)
        return converter.structure(obj, types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, code_action_hook)
    from typing import Union

    converter.register_structure_hook(Union[types.Command, types.CodeAction], code_action_hook)  # noqa: UP007


class Session:
    """A running server and its test client, with helpers that wait (bounded) for results."""

    def __init__(self, client: LanguageClient, profile: str) -> None:
        self.client = client
        self.profile = profile
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.drafts: list[dict] = []
        self.lens_refreshes = 0
        self.draft_hooks: list = []  # called with each papercycle/draft notification
        self.initialized: types.InitializeResult | None = None
        self.versions: dict[str, list[int | None]] = {}
        self.daemon_log: Path | None = None  # their last lines join what a failed wait saw
        self.server_log: Path | None = None

    async def wait_for(self, condition, timeout: float = TIMEOUT, what: str = "condition"):
        """Until `condition()` (or an awaitable it returns) is truthy; on time-out, fails with
        what the client saw instead."""
        return await eventually(condition, what, self.seen, timeout)

    def seen(self) -> str:
        """What the client has received: diagnostics by origin, progress, messages."""
        parts = []
        for uri, diags in self.client.diagnostics.items():
            origins = Counter((d.data or {}).get("origin") or d.code for d in diags)
            parts.append(
                f"{uri.rsplit('/', 1)[-1]} v{self.versions.get(uri, [None])[-1]}: {dict(origins)}"
            )
            # the project's own diagnostics say why a review did not come (errors, warnings)
            parts += [
                f"project diagnostic {d.message.splitlines()[0][:160]!r}"
                for d in diags
                if (d.data or {}).get("origin") == "project"
            ]
        for token, reports in self.client.progress_reports.items():
            last = reports[-1]
            parts.append(
                f"progress {token}: {type(last).__name__} {getattr(last, 'message', '')!r}"
            )
        parts += [f"message {m.message!r}" for m in self.client.messages[-3:]]
        for name, log in (("server", self.server_log), ("daemon", self.daemon_log)):
            if log is not None and log.exists():
                tail = log.read_text(errors="replace").splitlines()[-15:]
                parts.append(f"{name} log:\n  " + "\n  ".join(tail))
        return "; ".join(parts) or "nothing"

    async def server_jobs(self) -> list[str]:
        """The server's running work, by name: its answer comes after every notification sent
        before it was handled, so it is the event that says "the server did (not) start X"."""
        status = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams("papercycle.showStatus", [])
        )
        return status["jobs"]

    async def review_settled(self) -> bool:
        """No `review:ROOT` job: the daemon said every changed section and the paper are done
        (call it after the notification that started the review)."""
        return not any(job.startswith("review:") for job in await self.server_jobs())

    def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        return list(self.client.diagnostics.get(uri, []))

    def review_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        return [
            d
            for d in self.diagnostics(uri)
            if d.data and d.data.get("origin") in ("section", "paper")
        ]

    def open(self, path: Path, text: str | None = None, version: int = 1) -> str:
        uri = path.as_uri()
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "latex", version, text or path.read_text())
            )
        )
        return uri


async def start_session(
    home: Home,
    profile: str = "vscode",
    options: dict | None = None,
    cwd: Path | None = None,
    capabilities: dict | None = None,
    debug_log: bool = True,
) -> Session:
    """Start `papercycle lsp --stdio` in `home` and initialize it with an editor's
    capabilities; `capabilities` tweaks them: {"apply_edit": False, "position_encodings":
    ["utf-8"]}. `debug_log`: the server logs every message (`--verbose`) to a file that a
    failing test prints; benchmarks turn it off, as a user's editor runs the server."""
    client = make_test_lsp_client()
    _patch_converter(client)
    session = Session(client, profile)
    # a real daemon's log (a FakeDaemon home has none)
    session.daemon_log = home.paths.log_file if isinstance(home, Home) else None
    session.server_log = home.root / f"lsp-{next(_servers)}.log"

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams):
        session.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def lens_refresh(params):
        session.lens_refreshes += 1

    @client.feature("papercycle/draft")
    def draft_chunk(params):
        # pygls gives unknown notifications' params as a namedtuple
        chunk = params._asdict() if hasattr(params, "_asdict") else dict(params)
        session.drafts.append(chunk)
        for hook in list(session.draft_hooks):
            hook(chunk)

    client.protocol.fm._features.pop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, None)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: types.PublishDiagnosticsParams):
        client.diagnostics[params.uri] = params.diagnostics
        session.versions.setdefault(params.uri, []).append(params.version)

    await client.start_io(
        sys.executable,
        "-m",
        "papercycle.cli",
        "lsp",
        "--stdio",
        *(["--verbose", "--log-file", str(session.server_log)] if debug_log else []),
        env=home.env,
        cwd=cwd,
    )
    caps = client_capabilities(PROFILES[profile])
    tweaks = capabilities or {}
    if "apply_edit" in tweaks and caps.workspace is not None:
        caps.workspace.apply_edit = tweaks["apply_edit"]
    if tweaks.get("code_action_literals") is False and caps.text_document is not None:
        caps.text_document.code_action.code_action_literal_support = None
    if "position_encodings" in tweaks:
        caps.general = caps.general or types.GeneralClientCapabilities()
        caps.general.position_encodings = tweaks["position_encodings"]
    session.initialized = await asyncio.wait_for(
        client.initialize_session(
            types.InitializeParams(
                capabilities=caps,
                client_info=types.ClientInfo(CLIENT_NAMES.get(profile, profile)),
                initialization_options={"models": {"section": "tiny-section", "reviewer": "tiny"}}
                | (options or {}),
            )
        ),
        60,
    )
    return session


async def stop_session(session: Session) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(session.client.shutdown_session(), 30)
    with contextlib.suppress(Exception):
        await session.client.stop()
