"""A project's current errors: the last failure of each review unit, of the whole-paper review
and of reading the project, each kept until that same thing succeeds (or its unit is gone).

An editor subscribes after it opened the project; errors that fired meanwhile (no reviewer
model configured: every unit fails at once) would otherwise reach nobody, and the editor would
wait for ever. The open project records every `error` event it emits here and replays the
current ones to each new subscriber."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

PAPER = "paper"
PROJECT = "project"  # reading the project failed (no section)


class CurrentErrors:
    def __init__(self) -> None:
        self._events: dict[str, dict[str, Any]] = {}  # unit ident | paper | project -> data

    @staticmethod
    def key(data: dict[str, Any]) -> str:
        section = data.get("section")
        return str(section) if section is not None else PROJECT

    def record(self, data: dict[str, Any]) -> None:
        self._events[self.key(data)] = dict(data)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)

    def current(self, pending: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The error events to replay; not those of units being reviewed again (`pending`):
        their new outcome is on the way."""
        skip = set(pending)
        return [data for key, data in self._events.items() if key not in skip]

    def summary(self) -> dict[str, str]:
        """`project.status`'s `errors`: "code: message" per unit, paper or project."""
        return {
            key: f"{data.get('code', 'error')}: {data.get('message', '')}"
            for key, data in self._events.items()
        }

    def __bool__(self) -> bool:
        return bool(self._events)


__all__ = ["PAPER", "PROJECT", "CurrentErrors"]
