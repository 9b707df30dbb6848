"""The request handlers: one small function per protocol request, given the request's
Context (context.py) and its typed request (requests.py), returning its typed result
(results.py), which the server puts on the wire (`results.wire`).
A handler raises RequestFailed for what it refuses itself; the libraries' own errors rise
unchanged and become protocol errors in one place (failures.py, used by the server).

- review.py: review.paper, review.section, review.sections
- coauthor.py: draft.section, draft.paper, plan, rubric.extract, rubric.grade
- projects.py: project.* and subscribe (the open projects: sessions/)
- service.py: hello, status, shutdown, cache.stats, cache.clear, models.list

`ping` and `cancel` never get here: the server answers them inline (server.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from papercycle.daemon.handlers import coauthor, projects, review, service
from papercycle.daemon.handlers.context import Context

Handler = Callable[[Context, Any], Awaitable[Any]]  # a requests.* to a results.*

HANDLERS: dict[str, Handler] = {
    "hello": service.hello,
    "status": service.status,
    "shutdown": service.shutdown,
    "cache.stats": service.cache_stats,
    "cache.clear": service.cache_clear,
    "models.list": service.models_list,
    "review.paper": review.review_paper,
    "review.section": review.review_section,
    "review.sections": review.review_sections,
    "draft.section": coauthor.draft_section,
    "draft.paper": coauthor.draft_paper,
    "plan": coauthor.plan_request,
    "rubric.extract": coauthor.rubric_extract,
    "rubric.grade": coauthor.rubric_grade,
    "project.open": projects.project_open,
    "project.buffer": projects.project_buffer,
    "project.cursor": projects.project_cursor,
    "project.review": projects.project_review,
    "project.status": projects.project_status,
    "project.close": projects.project_close,
    "subscribe": projects.subscribe,
}

__all__ = ["HANDLERS", "Context", "Handler"]
