"""Dismissed comments and disabled categories, persisted in the project folder
(`.papercycle/dismissed.json`): papercycle's own file, written only when the user dismisses a
comment or disables a category, keyed by the comment's text (not its position) so a dismissal
survives edits, restarts and re-reviews that produce the same comment."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from papercycle.private import write_private

FILE = Path(".papercycle") / "dismissed.json"


class Dismissals:
    def __init__(self, project_dir: Path) -> None:
        self.file = project_dir / FILE
        self.comments: dict[str, dict[str, Any]] = {}
        self.categories: set[str] = set()
        self._mtime: float | None = None
        self.reload()

    def reload(self) -> None:
        """Read the file again when it changed on disk (another window dismissed something)."""
        try:
            mtime = self.file.stat().st_mtime
        except OSError:
            self.comments, self.categories, self._mtime = {}, set(), None
            return
        if mtime == self._mtime:
            return
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # a broken file is left as it is, never overwritten by a read
        comments = data.get("comments", []) if isinstance(data, dict) else []
        self.comments = {
            c["key"]: c for c in comments if isinstance(c, dict) and isinstance(c.get("key"), str)
        }
        cats = data.get("disabledCategories", []) if isinstance(data, dict) else []
        self.categories = {str(c) for c in cats if isinstance(c, str)}
        self._mtime = mtime

    @property
    def keys(self) -> set[str]:
        return set(self.comments)

    def dismiss(self, key: str, **about: Any) -> None:
        self.reload()
        self.comments[key] = {"key": key, **about, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._save()

    def disable(self, category: str) -> None:
        self.reload()
        self.categories.add(category)
        self._save()

    def _save(self) -> None:
        data = {
            "version": 1,
            "comments": sorted(self.comments.values(), key=lambda c: c.get("at", "")),
            "disabledCategories": sorted(self.categories),
        }
        # owner-only like everything papercycle keeps for a user (what was dismissed says what
        # a reviewer found in an unpublished paper)
        write_private(self.file, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        with contextlib.suppress(OSError):
            self._mtime = self.file.stat().st_mtime
