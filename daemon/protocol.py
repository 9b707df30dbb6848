"""The wire protocol between clients and the daemon (see PROTOCOL.md): one JSON object per
ZeroMQ message, a version on every message, request ids chosen by the client."""

from __future__ import annotations

import json
from typing import Any

VERSION = 1

# Request types and what they answer; the server rejects anything else.
REQUEST_TYPES = (
    "hello",
    "ping",
    "status",
    "review.paper",
    "review.section",
    "review.sections",
    "draft.section",  # the co-author (handlers/coauthor.py)
    "draft.paper",
    "plan",
    "rubric.extract",
    "rubric.grade",
    "cancel",
    "models.list",
    "cache.stats",
    "cache.clear",
    "shutdown",
)
# open projects: watching, incremental reviews (handlers/projects.py, sessions/)
SESSION_REQUEST_TYPES = (
    "project.open",
    "project.buffer",
    "project.cursor",
    "project.review",
    "project.status",
    "project.close",
    "subscribe",
)
REQUEST_TYPES += SESSION_REQUEST_TYPES
EVENT_KINDS = (
    "queued",
    "started",
    "loading",
    "loaded",
    "progress",
    "token",
    "partial",
    "sections.changed",  # subscribe (sessions/)
    "comments",
    "paper",
    "anchored",
    "error",
)
ERROR_CODES = (
    "bad-request",  # malformed JSON, missing fields, unknown type
    "too-large",  # over the daemon's message size limit
    "version",  # the client speaks another protocol version
    "auth",  # tcp transport: missing or wrong token
    "busy",  # queue full
    "cancelled",
    "model",  # unknown, missing, corrupt model; context too small; load failure
    "project",  # no LaTeX project at the path, unknown section
    "shutdown",  # the daemon is stopping
    "internal",
)


class RequestFailed(Exception):
    """A request answered with a protocol error: `code` (one of ERROR_CODES), the message, and
    any extra fields of the error object (a busy queue's status, a cancel's token counts)."""

    def __init__(self, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class ProtocolError(ValueError):
    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps({"v": VERSION, **message}, ensure_ascii=False).encode("utf-8")


def decode_request(frame: bytes, max_bytes: int) -> dict[str, Any]:
    """A validated request, or ProtocolError saying what is wrong with it."""
    if len(frame) > max_bytes:
        raise ProtocolError("too-large", f"message of {len(frame)} bytes; the limit is {max_bytes}")
    try:
        message = json.loads(frame.decode("utf-8"))
    except RecursionError:  # thousands of nested brackets: Python's decoder recurses
        raise ProtocolError("bad-request", "not a JSON message (nested too deeply)") from None
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError among them
        raise ProtocolError("bad-request", f"not a JSON message ({error})") from None
    if not isinstance(message, dict):
        raise ProtocolError("bad-request", "a message must be a JSON object")
    request_id = message.get("id")
    if not isinstance(request_id, str) or not request_id or len(request_id) > 128:
        raise ProtocolError("bad-request", "a request needs an 'id' string (1-128 characters)")
    version = message.get("v")
    if version != VERSION:
        raise ProtocolError(
            "version",
            f"protocol version {version!r} is not supported: this daemon speaks version "
            f"{VERSION}; update the client or restart the daemon from the same installation",
            request_id,
        )
    kind = message.get("type")
    if kind not in REQUEST_TYPES:
        raise ProtocolError("bad-request", f"unknown request type {kind!r}", request_id)
    params = message.get("params", {})
    if not isinstance(params, dict):
        raise ProtocolError("bad-request", "'params' must be an object", request_id)
    message["params"] = params
    return message


def event(request_id: str, kind: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": request_id, "type": "event", "event": kind, "data": data or {}}


def result(request_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": request_id, "type": "result", "data": data}


def error(request_id: str | None, code: str, message: str, **data: Any) -> dict[str, Any]:
    return {"id": request_id, "type": "error", "error": {"code": code, "message": message, **data}}
