"""Open projects' requests (sessions/): `project.open`, `project.buffer`, `project.cursor`,
`project.review`, `project.status`, `project.close`, `subscribe`."""

from __future__ import annotations

import time
from typing import Any

from papercycle.daemon import requests
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.sessions import Session


def _session(ctx: Context, request: requests.ProjectRef | Any) -> Session:
    session = ctx.projects.find(request.project, request.path)
    session.used = time.monotonic()
    return session


async def project_open(ctx: Context, request: requests.ProjectOpen) -> dict[str, Any]:
    session = await ctx.projects.open_project(ctx.channel.peer, request)
    return session.status()


async def project_buffer(ctx: Context, request: requests.ProjectBuffer) -> dict[str, Any]:
    session = _session(ctx, requests.ProjectRef(project=request.project, path=request.path))
    return await session.buffer(request.path, request.text, request.version, request.cursor)


async def project_cursor(ctx: Context, request: requests.ProjectCursor) -> dict[str, Any]:
    session = _session(ctx, requests.ProjectRef(project=request.project, path=request.path))
    session.set_cursor(request.position)
    return {"cursor": session.cursor}


async def project_review(ctx: Context, request: requests.ProjectReview) -> dict[str, Any]:
    session = _session(ctx, request)
    session.paper_review.maybe(requested=True)
    return {"queued": True, "revision": session.revision}


async def project_status(ctx: Context, request: requests.ProjectStatus) -> dict[str, Any]:
    return _session(ctx, request).status()


async def project_close(ctx: Context, request: requests.ProjectClose) -> dict[str, Any]:
    session = _session(ctx, request)
    return {"closed": ctx.projects.release(ctx.channel.peer, session, request.force)}


async def subscribe(ctx: Context, request: requests.Subscribe) -> dict[str, Any]:
    return await _session(ctx, request).subscribe(ctx.channel.peer, ctx.channel.request_id)
