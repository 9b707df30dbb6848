"""Open projects' requests (sessions/): `project.open`, `project.buffer`, `project.cursor`,
`project.review`, `project.status`, `project.close`, `subscribe`."""

from __future__ import annotations

import time
from typing import Any

from papercycle.daemon import requests, results
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.sessions import Session


def _session(ctx: Context, request: requests.ProjectRef | Any) -> Session:
    session = ctx.projects.find(request.project, request.path)
    session.used = time.monotonic()
    return session


async def project_open(ctx: Context, request: requests.ProjectOpen) -> results.ProjectStatus:
    session = await ctx.projects.open_project(ctx.channel.peer, request)
    return session.status()


async def project_buffer(ctx: Context, request: requests.ProjectBuffer) -> results.BufferApplied:
    session = _session(ctx, requests.ProjectRef(project=request.project, path=request.path))
    change = await session.buffer(request.path, request.text, request.version, request.cursor)
    return results.BufferApplied(**change)


async def project_cursor(ctx: Context, request: requests.ProjectCursor) -> results.CursorMoved:
    session = _session(ctx, requests.ProjectRef(project=request.project, path=request.path))
    session.set_cursor(request.position)
    return results.CursorMoved(cursor=session.cursor)


async def project_review(ctx: Context, request: requests.ProjectReview) -> results.ReviewQueued:
    session = _session(ctx, request)
    session.paper_review.maybe(requested=True)
    return results.ReviewQueued(revision=session.revision)


async def project_status(ctx: Context, request: requests.ProjectStatus) -> results.ProjectStatus:
    return _session(ctx, request).status()


async def project_close(ctx: Context, request: requests.ProjectClose) -> results.Closed:
    session = _session(ctx, request)
    return results.Closed(closed=ctx.projects.release(ctx.channel.peer, session, request.force))


async def subscribe(ctx: Context, request: requests.Subscribe) -> results.Closed:
    await _session(ctx, request).subscribe(ctx.channel.peer, ctx.channel.request_id)
    return results.Closed(closed=True)  # a subscription ends when its project closes
