"""`papercycle lsp` as editors start it: `--stdio` (VS Code appends it) and
`--clientProcessId=N` are accepted; the server speaks LSP on stdio and exits on `exit`."""

from __future__ import annotations

import json
import subprocess
import sys


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_stdio_accepts_editor_flags_and_answers_initialize(tmp_path):
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "capabilities": {},
                "processId": None,
                "rootUri": None,
                "initializationOptions": {"autoStartDaemon": False},
            },
        },
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    done = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "lsp", "--stdio", "--clientProcessId=1"],
        input=b"".join(frame(m) for m in messages),
        capture_output=True,
        timeout=60,
        env={"PAPERCYCLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    out = done.stdout.decode()
    assert '"id": 1' in out and '"capabilities"' in out
    caps = json.loads(out[out.index("{") : out.index("Content-Length", 1)])["result"][
        "capabilities"
    ]
    assert caps["hoverProvider"] and caps["codeLensProvider"] and caps["codeActionProvider"]
    commands = caps["executeCommandProvider"]["commands"]
    assert {"papercycle.reviewDocument", "papercycle.draftSection", "papercycle.cancel"} <= set(
        commands
    )
