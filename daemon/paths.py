"""Where the daemon keeps per-user state: config, state (logs), runtime (socket, lock), cache
and data (the models `papercycle models pull` downloads).

`PAPERCYCLE_HOME` puts all five under one directory (tests, and users who want everything in
one place); otherwise platformdirs gives the platform's usual places. The first four are created
0700 (private.py): the runtime directory because the socket inside it is the daemon's only
access control on ipc://, the others because they hold reviews of unpublished papers; the data
directory is created when a model is pulled.
"""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from papercycle.private import private_dir

APP = "papercycle"


class UnsafeDirectoryError(RuntimeError):
    """The runtime directory belongs to someone else: its socket could be impersonated."""


@dataclass(frozen=True)
class Paths:
    config: Path
    state: Path
    runtime: Path
    cache: Path
    data: Path

    @classmethod
    def for_user(cls) -> Paths:
        home = os.environ.get("PAPERCYCLE_HOME")
        if home:
            base = Path(home).expanduser().absolute()
            return cls(base / "config", base / "state", base / "run", base / "cache", base / "data")
        runtime = platformdirs.user_runtime_dir(APP, ensure_exists=False)
        if not runtime or not Path(runtime).parent.is_dir():
            runtime = str(Path(tempfile.gettempdir()) / f"{APP}-{os.getuid()}")
        return cls(
            Path(platformdirs.user_config_dir(APP)),
            Path(platformdirs.user_state_dir(APP)),
            Path(runtime),
            Path(platformdirs.user_cache_dir(APP)),
            Path(platformdirs.user_data_dir(APP)),
        )

    @property
    def config_file(self) -> Path:
        return self.config / "config.toml"

    @property
    def log_file(self) -> Path:
        return self.state / "daemon.log"

    @property
    def lock_file(self) -> Path:
        return self.runtime / "daemon.lock"

    @property
    def info_file(self) -> Path:
        """Endpoint, pid and version of the running daemon (written once it listens)."""
        return self.runtime / "daemon.json"

    @property
    def token_file(self) -> Path:
        return self.runtime / "token"

    @property
    def socket_file(self) -> Path:
        return self.runtime / "daemon.sock"

    @property
    def models_dir(self) -> Path:
        """Where pulled models are kept, one folder each (not the cache: they are not rebuilt)."""
        return self.data / "models"

    @property
    def cache_db(self) -> Path:
        return self.cache / "results.sqlite3"

    def ensure_runtime(self) -> Path:
        """Create the runtime directory 0700 (and tighten it if it exists); refuse one owned by
        another user."""
        private_dir(self.runtime)
        info = self.runtime.stat()
        if info.st_uid != os.getuid():
            raise UnsafeDirectoryError(
                f"{self.runtime} belongs to uid {info.st_uid}, not to you ({os.getuid()})"
            )
        if stat.S_IMODE(info.st_mode) != 0o700:
            self.runtime.chmod(0o700)
        return self.runtime

    def ensure_all(self) -> None:
        self.ensure_runtime()
        for directory in (self.config, self.state, self.cache):
            private_dir(directory)
