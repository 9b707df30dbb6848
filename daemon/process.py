"""Running the daemon as a process: one per user (a lock file), foreground or detached,
stopped cleanly by SIGTERM, found by clients through `daemon.json` in the runtime directory."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import zmq
from papercycle.daemon import protocol
from papercycle.daemon.config import Config
from papercycle.daemon.paths import Paths
from papercycle.private import PROCESS_UMASK, private_file, write_private

log = logging.getLogger("papercycle.daemon")

# ipc:// paths are limited by sockaddr_un (108 bytes on Linux).
MAX_IPC_PATH = 100


class AlreadyRunning(RuntimeError):
    pass


class StartFailed(RuntimeError):
    pass


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (a child we started and nobody reaped yet) is dead for our purposes.
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as handle:
        if handle.read().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def read_info(paths: Paths) -> dict[str, Any] | None:
    """The running daemon's endpoint, pid and token, or None when no live daemon is recorded."""
    try:
        info = json.loads(paths.info_file.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not pid_alive(int(info.get("pid", 0))):
        return None
    if info.get("transport") == "tcp":
        try:
            info["token"] = paths.token_file.read_text().strip()
        except OSError:
            return None
    return info


def acquire_lock(paths: Paths) -> int:
    """Hold the per-user lock for this process's lifetime (released by the kernel on exit,
    kill -9 included); AlreadyRunning names the daemon that holds it."""
    paths.ensure_runtime()
    fd = os.open(paths.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        info = read_info(paths) or {}
        where = f" (pid {info['pid']}, {info['endpoint']})" if "pid" in info else ""
        raise AlreadyRunning(f"a papercycle daemon is already running{where}") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def choose_endpoint(paths: Paths, config: Config) -> tuple[str, str | None]:
    """(endpoint, token): ipc inside the 0700 runtime directory where possible, else loopback
    TCP with a token; another interface only when configured (warned)."""
    listen = config.daemon.listen
    if listen:
        if not listen.startswith(("tcp://127.", "tcp://localhost", "ipc://")):
            log.warning(
                "listening on %s: other machines can reach this daemon; every request must "
                "carry the token in %s",
                listen,
                paths.token_file,
            )
        return listen, None if listen.startswith("ipc://") else secrets.token_hex(32)
    socket = str(paths.socket_file)
    if config.daemon.transport == "ipc" and zmq.has("ipc") and len(socket) <= MAX_IPC_PATH:
        return f"ipc://{socket}", None
    return "tcp://127.0.0.1:*", secrets.token_hex(32)


def _warn_gpu_layers(config: Config) -> None:
    """A model set to offload layers to a GPU this llama.cpp build cannot use: said at start."""
    wanted = [m for m in config.models.values() if m.backend == "llama" and m.n_gpu_layers]
    if not wanted:
        return  # llama_cpp is imported only to answer a question someone asked
    from papercycle.daemon.models.gpu_support import gpu_layers_problem

    for model in wanted:
        problem = gpu_layers_problem(model.n_gpu_layers, model.name)
        if problem:
            log.warning("%s", problem)


def run_foreground(paths: Paths | None = None) -> int:
    """`papercycle daemon run`: serve until SIGTERM/SIGINT or a shutdown request."""
    from papercycle.daemon.models.threads import prefer_passive_wait

    prefer_passive_wait()  # before llama.cpp is loaded: threads that sleep while they wait
    from papercycle.daemon.server import Server

    paths = paths or Paths.for_user()
    os.umask(PROCESS_UMASK)
    paths.ensure_all()
    lock = acquire_lock(paths)
    config = Config.load(paths.config_file)
    from papercycle.daemon.models.catalogue import register_default

    notice = register_default(config)
    if notice:
        log.warning("%s", notice)
    _warn_gpu_layers(config)
    endpoint, token = choose_endpoint(paths, config)
    if endpoint.startswith("ipc://"):
        with contextlib.suppress(FileNotFoundError):
            Path(endpoint[6:]).unlink()  # left by a daemon that was killed
    server = Server(paths, endpoint, token)
    bound = server.bind()
    if token is not None:
        write_private(paths.token_file, token)
    info = {
        "pid": os.getpid(),
        "endpoint": bound,
        "transport": "ipc" if bound.startswith("ipc://") else "tcp",
        "protocol": protocol.VERSION,
        "version": version("papercycle"),
        "started": time.time(),
    }
    write_private(paths.info_file, json.dumps(info))
    log.info("papercycle daemon %s listening on %s (pid %d)", info["version"], bound, os.getpid())

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.request_stop)
        await server.serve()

    try:
        asyncio.run(main())
    finally:
        for path in (paths.info_file, paths.token_file, paths.socket_file):
            with contextlib.suppress(FileNotFoundError):
                if path != paths.info_file or _info_pid(paths) == os.getpid():
                    path.unlink()
        os.close(lock)
    return 0


def _info_pid(paths: Paths) -> int | None:
    try:
        return int(json.loads(paths.info_file.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def start_background(paths: Paths | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Start a detached daemon (logging to the state directory) unless one runs; its info."""
    paths = paths or Paths.for_user()
    info = read_info(paths)
    if info is not None:
        return info
    paths.ensure_all()
    log_handle = private_file(paths.log_file).open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "papercycle.daemon", "--log-file", str(paths.log_file)],
        stdin=subprocess.DEVNULL,
        stdout=log_handle,
        stderr=log_handle,
        start_new_session=True,  # survives the terminal or editor that started it
        env={**os.environ, "PAPERCYCLE_HOME": os.environ.get("PAPERCYCLE_HOME", "")}
        if os.environ.get("PAPERCYCLE_HOME")
        else None,
    )
    log_handle.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = read_info(paths)
        if info is not None:
            return info
        code = process.poll()
        if code is not None:
            info = read_info(paths)  # lost a race to another client's auto-start: fine
            if info is not None:
                return info
            raise StartFailed(f"the daemon exited with status {code}; see {paths.log_file}")
        time.sleep(0.05)
    raise StartFailed(f"the daemon did not start within {timeout:.0f} s; see {paths.log_file}")


def stop(paths: Paths | None = None, timeout: float = 30.0) -> int | None:
    """SIGTERM the running daemon and wait for it; its pid, or None when none was running."""
    paths = paths or Paths.for_user()
    info = read_info(paths)
    if info is None:
        return None
    pid = int(info["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        raise StartFailed(f"the daemon (pid {pid}) did not stop within {timeout:.0f} s")
    return pid


def configure_logging(log_file: str | None) -> None:
    handler = (
        logging.FileHandler(private_file(Path(log_file)))
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("papercycle")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
