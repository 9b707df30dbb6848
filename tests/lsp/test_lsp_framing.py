"""`papercycle lsp` over stdio with broken framing (lsp/framing.py): a Content-Length shorter
than its body is skipped and the next message answered; a body cut short by the end of input,
or a nonsense Content-Length, ends the process with status 1 so the editor restarts it; random
bytes between messages never wedge it (a bounded, seeded fuzz)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"capabilities": {}, "processId": None, "rootUri": None,
               "initializationOptions": {"autoStartDaemon": False}},
}  # fmt: skip
SHUTDOWN = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
EXIT = {"jsonrpc": "2.0", "method": "exit"}
HOVER = {"textDocument": {"uri": "file:///nowhere/x.tex"}, "position": {"line": 0, "character": 0}}


def frame(message: dict, shorter_by: int = 0) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % (len(body) - shorter_by) + body


def serve(tmp_path, data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "lsp", "--stdio"],
        input=data,
        capture_output=True,
        timeout=60,  # a wedged server fails here instead of hanging the suite
        env={"PAPERCYCLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )


def answered_ids(stdout: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb'"id": (\d+)', stdout)]


def test_a_short_content_length_is_skipped_and_the_next_message_answered(tmp_path):
    done = serve(tmp_path, frame(INITIALIZE, shorter_by=3) + frame(SHUTDOWN) + frame(EXIT))
    assert answered_ids(done.stdout) == [2]  # the cut initialize is lost, shutdown answered
    assert b"Traceback" not in done.stderr


def test_a_body_cut_by_the_end_of_input_exits_with_status_1(tmp_path):
    data = frame(INITIALIZE) + b'Content-Length: 500\r\n\r\n{"jsonrpc": "2.0"'
    done = serve(tmp_path, data)
    assert done.returncode == 1
    assert b"the input ended 17 bytes into a 500-byte body; exiting" in done.stderr
    assert b"Traceback" not in done.stderr and answered_ids(done.stdout) == [1]


def test_a_nonsense_content_length_exits_with_status_1(tmp_path):
    done = serve(tmp_path, b"Content-Length: -4\r\n\r\n{}")
    assert done.returncode == 1
    assert b"Content-Length b'-4' is not a usable size; exiting" in done.stderr


def test_fuzzed_garbage_between_messages_never_wedges_the_server(tmp_path):
    rng = random.Random(17)
    data = b""
    expected = []
    for number in range(100, 160):
        noise = rng.randbytes(rng.randrange(0, 40)).replace(b"\n", b" ")  # no false header
        if rng.random() < 0.3:
            noise += b"\r\n"
        request = {"jsonrpc": "2.0", "id": number, "method": "textDocument/hover", "params": HOVER}
        if rng.random() < 0.2:
            data += noise + frame(request, shorter_by=rng.randrange(1, 5))
        else:
            data += noise + frame(request)
            expected.append(number)
    done = serve(tmp_path, frame(INITIALIZE) + data + frame(EXIT))
    answered = answered_ids(done.stdout)
    assert answered[0] == 1 and set(expected) <= set(answered), (expected, answered)
    assert b"Traceback" not in done.stderr
