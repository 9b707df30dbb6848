"""Hostile frames on the daemon's socket: every one is answered (or dropped) and logged, the
receive loop never dies, and a normal review succeeds afterwards. Real daemon, real sockets."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
import zmq
import zmq.asyncio
from daemon_helpers import model_entries
from papercycle.daemon import protocol
from papercycle.daemon.client import Client

TIMEOUT = 120
REVIEW = {"section": "Method", "model": "tiny-section"}


class RawSocket:
    """A DEALER socket that sends any bytes and reads the daemon's answers."""

    def __init__(self, endpoint: str) -> None:
        self.context = zmq.asyncio.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.connect(endpoint)

    async def send(self, payload: bytes) -> None:
        await self.socket.send(payload)

    async def answer(self, timeout: float = 30) -> dict:
        return json.loads(await asyncio.wait_for(self.socket.recv(), timeout))

    async def ask(self, message: dict, timeout: float = 30) -> dict:
        await self.send(json.dumps({"v": 1, **message}).encode())
        return await self.answer(timeout)

    def close(self) -> None:
        self.socket.close(0)
        self.context.term()


def configure(home, tiny_gguf, transport: str = "ipc") -> dict:
    daemon = f'[daemon]\ntransport = "{transport}"\nexit_after_idle = 600\n'
    home.paths.config_file.write_text(daemon + model_entries(tiny_gguf))
    return home.start()


async def review_succeeds(home, paper) -> None:
    async with Client(home.paths) as client:
        result = await client.request("review.section", {"path": str(paper), **REVIEW}, TIMEOUT)
    assert "comments" in result


async def test_ten_thousand_nested_brackets_are_refused_and_the_daemon_still_reviews(
    isolated_home, tiny_gguf, paper
):
    info = configure(isolated_home, tiny_gguf)
    raw = RawSocket(info["endpoint"])
    try:
        await raw.send(b"[" * 10_000)  # 10 KB: Python's JSON decoder recurses per bracket
        answer = await raw.answer()
        deep_id = {"v": 1, "id": "deep", "type": "status", "params": {"x": [[[]]] * 1}}
        nested = json.dumps(deep_id).replace("[[[]]]", "[" * 10_000 + "]" * 10_000)
        await raw.send(nested.encode())
        second = await raw.answer()
    finally:
        raw.close()
    assert answer["error"] == {
        "code": "bad-request",
        "message": "not a JSON message (nested too deeply)",
    }
    assert second["error"]["code"] == "bad-request" and answer["id"] is None
    assert "bad message (bad-request): not a JSON message (nested too deeply)" in (
        isolated_home.log()
    )
    await review_succeeds(isolated_home, paper)


@pytest.mark.parametrize("token", ["é-not-ascii", "\ud800", 42, ["a"], None])
async def test_a_token_that_is_not_an_ascii_string_is_refused_as_auth(
    isolated_home, tiny_gguf, token
):
    info = configure(isolated_home, tiny_gguf, transport="tcp")
    raw = RawSocket(info["endpoint"])
    try:
        answer = await raw.ask({"id": "t", "type": "status", "token": token})
    finally:
        raw.close()
    assert answer["id"] == "t" and answer["error"]["code"] == "auth"
    assert "request without a valid token refused" in isolated_home.log()
    async with Client(isolated_home.paths) as client:  # the real token still works
        assert (await client.request("status"))["endpoint"] == info["endpoint"]


BAD_PARAMS = [
    ("review.paper", {"path": "p.tex", "priority": ["x"]}, "params.priority: expected one of "
     "interactive, save, background; got ['x']"),  # was: unhashable type: 'list'
    ("project.open", {"path": "p", "debounce": "fast"},
     "params.debounce: expected a number; got 'fast'"),  # was: could not convert string to float
    ("project.cursor", {"path": "p.tex", "line": "x"},
     "params.line: expected an integer; got 'x'"),  # was: invalid literal for int()
    ("plan", {"goal": 7}, "params.goal: expected a string; got 7"),  # was: no attribute 'strip'
    ("review.section", {"path": "p.tex", "buffers": {"a.tex": 1}, "section": 1},
     "params.buffers: expected file paths mapped to their text; 'a.tex' maps to 1"),
    ("project.buffer", {"path": "a.tex", "text": "", "cursor": {"offset": -1}},
     "params.cursor.offset: expected at least 0; got -1"),
    ("project.open", {"path": "p", "debounce": 1e308 * 10},
     "params.debounce: expected a finite number; got inf"),
    ("cancel", {}, "params.target: required by cancel"),
    ("project.close", {"path": "p", "force": "yes"},
     "params.force: expected true or false; got 'yes'"),
    ("review.paper", {"path": True}, "params.path: expected a string; got True"),
]  # fmt: skip


async def test_wrong_parameter_types_answer_bad_request_naming_the_field(isolated_home, tiny_gguf):
    info = configure(isolated_home, tiny_gguf)
    raw = RawSocket(info["endpoint"])
    try:
        for index, (kind, params, expected) in enumerate(BAD_PARAMS):
            answer = await raw.ask({"id": f"r{index}", "type": kind, "params": params})
            assert answer["id"] == f"r{index}"
            assert answer["error"] == {"code": "bad-request", "message": expected}, kind
    finally:
        raw.close()


def test_every_request_type_declares_its_fields():
    from papercycle.daemon.request_fields import FIELDS

    assert set(FIELDS) == set(protocol.REQUEST_TYPES)


# -- fuzz ---------------------------------------------------------------------------------------

VALUES = [None, True, 0, -1, 2**70, 1.5, float("nan"), "", "fast", "é", "\ud800", "x" * 300,
          [], ["a"], {}, {"path": 3}, {"line": "x"}, "/nonexistent/p.tex"]  # fmt: skip
SAFE_TYPES = [kind for kind in protocol.REQUEST_TYPES if kind not in ("shutdown", "cache.clear")]
FIELD_NAMES = ["path", "priority", "buffers", "section", "cursor", "debounce", "text", "line",
               "offset", "goal", "plan", "bib", "results", "target", "force", "model", "mode",
               "paper", "version", "rubric", "project", "token"]  # fmt: skip


def hostile_frame(rng: random.Random, index: int) -> bytes:
    """One of: random bytes, cut JSON, deep nesting, wrong envelope, random typed params."""
    shape = rng.randrange(6)
    if shape == 0:
        return rng.randbytes(rng.randrange(1, 200))
    if shape == 1:
        return (rng.choice("[{") * rng.randrange(500, 20_000)).encode()
    message = {"v": 1, "id": f"f{index}", "type": rng.choice(SAFE_TYPES)}
    if shape == 2:
        message[rng.choice(["v", "id", "type", "params"])] = rng.choice(VALUES)
    names = rng.sample(FIELD_NAMES, rng.randrange(1, 5))
    message["params"] = {name: rng.choice(VALUES) for name in names}
    encoded = json.dumps(message, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    if shape == 3:
        return encoded[: rng.randrange(1, len(encoded))]
    if shape == 4:  # bytes that are not UTF-8 inside an otherwise valid message
        return encoded.replace(b'"f', b'"\xff\xfe', 1)
    return encoded


async def test_fuzzed_frames_never_stop_the_daemon_and_a_review_succeeds_after(
    isolated_home, tiny_gguf, paper
):
    info = configure(isolated_home, tiny_gguf)
    rng = random.Random(17)
    raw = RawSocket(info["endpoint"])
    answers = []
    try:
        for index in range(300):
            await raw.send(hostile_frame(rng, index))
        await raw.send(json.dumps({"v": 1, "id": "last", "type": "status"}).encode())
        while not answers or answers[-1].get("id") != "last":
            answers.append(await raw.answer(TIMEOUT))
    finally:
        raw.close()
    errors = [answer["error"] for answer in answers if answer.get("type") == "error"]
    assert errors, "hostile frames were answered with errors"
    assert not [error for error in errors if error["code"] == "internal"], errors
    assert all("\n" not in error["message"] for error in errors)
    assert "Traceback" not in isolated_home.log()
    await review_succeeds(isolated_home, paper)
