"""Review section (the command and the code lens): one `review.section` request at
`interactive` priority, with progress; its result replaces that section's findings until the
open project sends a newer review of it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from lsprotocol import types
from papercycle.daemon.client import DaemonError
from papercycle.lsp.findings import from_result
from papercycle.lsp.progress import Progress
from papercycle.lsp.publish import publish_project
from papercycle.lsp.results import ReviewResult
from papercycle.lsp.reviews import SectionResult, notices
from papercycle.lsp.session import PapercycleServer


async def review_section(ls: PapercycleServer, path: Path, anchor: int) -> dict[str, Any] | None:
    """The review of the section at `anchor` in `path`: {section, comments} (None: no
    project, no daemon, or the review failed, which the user is told)."""
    outline = await ls.refresh_outline(path)
    if outline is None or ls.link is None:
        return None
    heading = outline.section_of(path, anchor)
    task = asyncio.current_task()
    name = heading.name if heading else "section"
    progress = Progress(ls, f"papercycle: {name}", on_cancel=task.cancel if task else None)
    await progress.begin("waiting for the daemon")
    versions = ls.versions()
    params = ls.request_params(path, "interactive")
    params["section"] = {"path": str(path), "offset": heading.anchor if heading else anchor}
    model = ls.settings.model_for("section")
    if model:
        params["model"] = model
    try:
        answer = await ls.link.stream(
            "review.section", params, lambda e: progress.report(str(e.get("event")))
        )
    except asyncio.CancelledError:
        progress.end("cancelled")
        raise
    except (DaemonError, TimeoutError) as error:
        why = getattr(error, "message", None) or "the daemon is not reachable"
        progress.end(why)
        ls.message(f"papercycle: {why}", types.MessageType.Warning)
        return None
    result = ReviewResult.from_wire(answer)
    key = result.section_name or name
    reviews = ls.reviews_for(path)
    found = reviews.section_named(key)  # the open project's entry of the section
    reviews.sections[found[0] if found else f"name:{key}"] = SectionResult(
        result, from_result(result, versions, ls.title_of(path)), from_project=False
    )
    publish_project(ls, path)
    for text in notices(result, f"the review of {key}"):
        ls.message(text, types.MessageType.Warning)
    progress.end("done")
    return {"section": key, "comments": len(result.comments)}
