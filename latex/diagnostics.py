"""Diagnostics: every problem the project model finds, with a location when it has one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from papercycle.latex.positions import Range


class Severity(IntEnum):
    """Same numbers as LSP DiagnosticSeverity."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem. `code` is a stable identifier (e.g. "include-missing", "hidden-text")."""

    severity: Severity
    code: str
    message: str
    range: Range | None = None
    source: str = "papercycle.project"

    def to_dict(self) -> dict:
        return {
            "severity": self.severity.name.lower(),
            "code": self.code,
            "message": self.message,
            "range": None if self.range is None else self.range.to_dict(),
        }
