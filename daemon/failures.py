"""The one place where the errors of the daemon's libraries become protocol errors.

A handler, the generation pipeline (jobs.py) and an open project's reviews (sessions/) let
`ReviewError`, `ModelError`, `ConfigError`, `ProjectError` and `GenerationError` rise as they
are; the server answers the request with `failure(error)`, and an open project reports a
failed section review with it. Anything else is a defect: the server logs it and answers
`internal`.
"""

from __future__ import annotations

from papercycle.daemon.config import ConfigError
from papercycle.daemon.engine.prompting import ReviewError
from papercycle.daemon.models.backend import GenerationError
from papercycle.daemon.models.registry import ModelError
from papercycle.daemon.protocol import RequestFailed
from papercycle.latex import ProjectError


def failure(error: BaseException) -> RequestFailed | None:
    """The protocol error `error` answers as, or None when it is not one we expect."""
    if isinstance(error, RequestFailed):
        return error
    if isinstance(error, ReviewError):  # its code says which: bad-request, model, project
        return RequestFailed(error.code, str(error), **error.data)
    if isinstance(error, ModelError | ConfigError | GenerationError):
        return RequestFailed("model", str(error))
    if isinstance(error, ProjectError):
        return RequestFailed("project", str(error))
    return None
