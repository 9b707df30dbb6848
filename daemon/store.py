"""The result cache: raw model outputs in SQLite (WAL), keyed by everything that decides them.

Outputs are cached rather than anchored results: anchoring depends on where the text sits in
the source files, which can change (markup, file split) while the model's input stays the
same, and re-anchoring a cached output takes milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from papercycle.private import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    kind TEXT NOT NULL,
    output TEXT NOT NULL,
    info TEXT NOT NULL,
    created REAL NOT NULL,
    used REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
)
"""


def cache_key(
    model_identity: dict[str, Any], prompt_version: str, settings: dict[str, Any], prompt: str
) -> str:
    """Model file identity, prompt-format version, generation settings (grammar included) and
    the exact input text: any change to one of them is a different output."""
    material = json.dumps(
        {"model": model_identity, "prompt_version": prompt_version, "settings": settings},
        sort_keys=True,
    )
    digest = hashlib.sha256(material.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(prompt.encode("utf-8"))
    return digest.hexdigest()


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        # 0600 before SQLite opens it: its -wal and -shm files take the database's mode
        private_file(path)
        # One connection shared by threads, guarded by a lock: writes are rare and small.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(SCHEMA)

    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT output, info FROM outputs WHERE key=?", (key,)
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE outputs SET hits = hits + 1, used = ? WHERE key = ?", (time.time(), key)
            )
        return row[0], json.loads(row[1])

    def put(self, key: str, model: str, kind: str, output: str, info: dict[str, Any]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO outputs (key, model, kind, output, info, created, used)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, model, kind, output, json.dumps(info), now, now),
            )

    def stats(self) -> dict[str, Any]:
        with self._lock:
            entries, hits, size = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(hits), 0),"
                " COALESCE(SUM(LENGTH(output) + LENGTH(info)), 0) FROM outputs"
            ).fetchone()
            by_model = dict(
                self._db.execute("SELECT model, COUNT(*) FROM outputs GROUP BY model").fetchall()
            )
        files = [self.path, Path(f"{self.path}-wal")]
        disk = sum(p.stat().st_size for p in files if p.exists())
        return {
            "path": str(self.path),
            "entries": entries,
            "hits": hits,
            "data_bytes": size,
            "disk_bytes": disk,
            "by_model": by_model,
        }

    def clear(self) -> int:
        with self._lock:
            count = self._db.execute("DELETE FROM outputs").rowcount
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with self._lock:
            self._db.execute("VACUUM")
        return count

    def close(self) -> None:
        """Flush the WAL into the database file and close."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
