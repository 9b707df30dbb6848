"""A project's review failures as the editor shows them: one error diagnostic per distinct
message on `\\documentclass` of the root file (a missing reviewer model fails every section
with one message: one diagnostic naming how many), and the line a finished review's progress
ends with ("all 26 sections failed: ..." rather than "done")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from papercycle.lsp.findings import Finding, finding_key

CATEGORY = "review-failed"
_DOCCLASS = re.compile(r"\\documentclass\b")
_NOT_SECTIONS = ("paper", "project")


def _grouped(failed: dict[str, str]) -> dict[str, list[str]]:
    """message -> the section ids (paper, project) that failed with it."""
    out: dict[str, list[str]] = {}
    for key, message in failed.items():
        out.setdefault(message, []).append(key)
    return out


def _what(keys: list[str], names: dict[str, str]) -> str:
    sections = [names.get(k, k) for k in keys if k not in _NOT_SECTIONS]
    parts = []
    if sections:
        shown = ", ".join(sections[:3]) + (", …" if len(sections) > 3 else "")
        parts.append(f"{len(sections)} section{'s' if len(sections) != 1 else ''} ({shown})")
    if "paper" in keys:
        parts.append("the whole paper")
    if "project" in keys:
        parts.append("the project")
    return " and ".join(parts)


def failure_findings(ls: Any, op: Any) -> list[Finding]:
    """The failures of `op` (an OpenProject) as findings on the root file's \\documentclass
    (its first line when it has none), in the text of the root's open buffer or the disk."""
    if not op.failed:
        return []
    root: Path = op.root
    doc = ls.docs.by_path(root)
    if doc is not None:
        text, version = doc.text, doc.version
    else:
        try:
            text, version = root.read_text(encoding="utf-8", errors="replace"), None
        except OSError:
            text, version = "", None
    match = _DOCCLASS.search(text)
    start, end = (match.start(), match.end()) if match else (0, 0)
    out = []
    for message, keys in _grouped(op.failed).items():
        out.append(
            Finding(
                key=finding_key(CATEGORY, message),
                origin="project",
                category=CATEGORY,
                severity="error",
                message=f"papercycle could not review {_what(keys, op.names)}: {message}",
                path=root,
                start=start,
                end=end,
                base_version=version,
            )
        )
    return out


def outcome(op: Any) -> str:
    """How a finished review ends its progress: "done", or what failed."""
    failed = [k for k in op.failed if k not in _NOT_SECTIONS]
    if not op.failed:
        return "done"
    first = next(iter(op.failed.values()))
    if failed and len(failed) >= op.total:
        return f"all {len(failed)} sections failed: {first}"
    if failed:
        return f"{len(failed)} of {op.total} sections failed: {first}"
    return f"the {'paper' if 'paper' in op.failed else 'project'} review failed: {first}"
