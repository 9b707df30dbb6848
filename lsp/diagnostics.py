"""Findings -> LSP diagnostics for one file at its current version.

Every review comment at its anchored range, `source: "papercycle"`, `code` = category,
severity per settings, related information pointing at the reviewer it came from. Ranges are
shifted from the version the review saw to the current text; a finding whose text was edited
since is withheld (it is for a text that no longer exists). Dismissed findings, disabled
categories and suppression comments are filtered here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from papercycle.daemon.paths import Paths
from papercycle.daemon.severity import configured, level_of
from papercycle.lsp.findings import Finding
from papercycle.lsp.positions import UTF16, Lines
from papercycle.lsp.settings import LEVELS, Settings
from papercycle.lsp.suppression import Suppression

SOURCE = "papercycle"
log = logging.getLogger(__name__)


def severity_of(finding: Finding, settings: Settings) -> types.DiagnosticSeverity:
    """daemon/severity.py's mapping, the CLI's: the editor's `severities` setting on top of
    `[severities]` in config.toml."""
    overrides = {**_configured_severities(), **settings.severities}
    own = finding.severity if finding.origin == "project" else None
    return LEVELS[level_of(finding.category, finding.severity, overrides, own)]


_configured: tuple[tuple[Path, float] | None, dict[str, str]] = (None, {})


def _configured_severities() -> dict[str, str]:
    """`[severities]` of the user's config.toml, read again when the file changes."""
    global _configured
    config_file = Paths.for_user().config_file
    try:
        stamp = (config_file, config_file.stat().st_mtime)
    except OSError:
        return {}
    if _configured[0] != stamp:
        problems: list[str] = []
        _configured = (stamp, configured(config_file, problems))
        for problem in problems:
            log.warning("%s", problem)
    return _configured[1]


@dataclass
class Located:
    """A finding placed in the current text of its file."""

    finding: Finding
    start: int
    end: int


def locate(
    findings: Iterable[Finding],
    text: str,
    version: int | None,
    map_range: Callable[[int | None, int, int], tuple[int, int] | None],
    base_text: Callable[[Finding], str | None] = lambda f: None,
) -> list[Located]:
    """Each finding's range in the current text, or nothing when it is stale."""
    out = []
    for finding in findings:
        placed = map_range(finding.base_version, finding.start, finding.end)
        if placed is None:
            continue
        start, end = placed
        if end > len(text):
            continue
        before = base_text(finding)
        if before is not None and text[start:end] != before:
            continue
        out.append(Located(finding, start, end))
    return out


def to_diagnostics(
    located: Iterable[Located],
    text: str,
    settings: Settings,
    dismissed: set[str],
    disabled: set[str],
    encoding: str = UTF16,
    uri_of: Callable[[Path], str] = str,
    lines_of: Callable[[Path], Lines | None] = lambda p: None,
) -> list[types.Diagnostic]:
    lines = Lines(text, encoding)
    silence = Suppression(text)
    out = []
    seen: set[tuple[str, int, int]] = set()
    for item in located:
        f = item.finding
        if (
            f.key in dismissed
            or f.category in disabled
            or not settings.category_enabled(f.category)
        ):
            continue
        rng = lines.range(item.start, item.end)
        if silence.silenced(rng.start.line):
            continue
        ident = (f.key, item.start, item.end)
        if ident in seen:
            continue
        seen.add(ident)
        message = f.message
        if f.rewrite:
            message += f"\nSuggested rewrite: {f.rewrite}"
        related = []
        for path, a, b, what in f.related:
            other = lines if path == f.path else lines_of(path)
            if other is None:
                continue
            related.append(
                types.DiagnosticRelatedInformation(
                    types.Location(uri_of(path), other.range(a, b)), what
                )
            )
        out.append(
            types.Diagnostic(
                range=rng,
                message=message,
                severity=severity_of(f, settings),
                code=f.category,
                source=SOURCE,
                related_information=related or None,
                data={"key": f.key, "category": f.category, "origin": f.origin},
            )
        )
    return out
