"""Suppression comments in the paper's source.

- `% papercycle: ignore` silences diagnostics on its line; alone on a line, on the next line.
- `% papercycle: off` ... `% papercycle: on` silences a region (to the end without `on`).

A `\\%` is an escaped percent sign, not a comment.
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"(?<!\\)(?:\\\\)*%\s*papercycle\s*:\s*(ignore|off|on)\b", re.IGNORECASE)


class Suppression:
    """Which lines of one text are silenced."""

    def __init__(self, text: str) -> None:
        self.lines: set[int] = set()
        self.regions: list[tuple[int, int]] = []
        if "papercycle" not in text:
            return
        off_from: int | None = None
        for number, line in enumerate(text.split("\n")):
            for match in _COMMENT.finditer(line):
                word = match.group(1).lower()
                if word == "ignore":
                    self.lines.add(number)
                    if not line[: match.start()].strip():
                        self.lines.add(number + 1)
                elif word == "off" and off_from is None:
                    off_from = number
                elif word == "on" and off_from is not None:
                    self.regions.append((off_from, number))
                    off_from = None
        if off_from is not None:
            self.regions.append((off_from, 1 << 30))

    def silenced(self, start_line: int, end_line: int | None = None) -> bool:
        """True when a diagnostic starting on `start_line` is silenced."""
        if start_line in self.lines:
            return True
        return any(a <= start_line <= b for a, b in self.regions)
