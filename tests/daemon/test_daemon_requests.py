"""The typed requests (daemon/requests.py) and the one place errors become protocol errors
(daemon/failures.py)."""

from __future__ import annotations

from dataclasses import fields

import pytest
from papercycle.daemon import protocol, request_fields, requests
from papercycle.daemon.config import ConfigError
from papercycle.daemon.engine.prompting import ReviewError
from papercycle.daemon.failures import failure
from papercycle.daemon.models.backend import GenerationError
from papercycle.daemon.models.registry import ModelError
from papercycle.daemon.scheduler import PRIORITIES
from papercycle.latex import ProjectError


def test_every_request_type_has_one_dataclass_with_every_checked_field():
    assert set(requests.REQUESTS) == set(protocol.REQUEST_TYPES)
    for kind, checked in request_fields.FIELDS.items():
        declared = {f.name for f in fields(requests.REQUESTS[kind])}
        assert set(checked) <= declared, kind


def test_defaults_are_the_requests_defaults():
    section = requests.parse("review.section", {"path": "p.tex", "section": 2})
    assert (section.section, section.priority, section.mode) == (2, "save", "standard")
    paper = requests.parse("review.paper", {"path": "p.tex", "unknown": 1})  # ignored
    assert paper.priority == "background" and paper.model is None
    assert requests.parse("plan", {"goal": "g", "priority": "save"}).priority == "save"
    for cls in requests.REQUESTS.values():
        priority = next((f.default for f in fields(cls) if f.name == "priority"), None)
        assert priority is None or priority in PRIORITIES, cls


def test_a_cursor_may_be_the_params_themselves():
    inline = requests.parse("project.cursor", {"path": "a.tex", "line": 3})
    assert inline.position == {"path": "a.tex", "line": 3}
    nested = requests.parse("project.cursor", {"cursor": {"path": "b.tex", "offset": 9}})
    assert nested.position == {"path": "b.tex", "offset": 9}


@pytest.mark.parametrize(
    "error, code",
    [
        (ReviewError("project", "no section 'X'"), "project"),
        (ReviewError("bad-request", "mode 'y'"), "bad-request"),
        (ModelError("no such file"), "model"),
        (ConfigError("no reviewer model configured"), "model"),
        (GenerationError("llama.cpp failed"), "model"),
        (ProjectError("no .tex file"), "project"),
        (protocol.RequestFailed("busy", "full", queue={}), "busy"),
    ],
)
def test_library_errors_become_protocol_errors(error, code):
    failed = failure(error)
    assert failed is not None and failed.code == code and str(failed) == str(error)


def test_an_unexpected_error_is_no_protocol_error():
    assert failure(KeyError("x")) is None  # the server logs it and answers `internal`
