"""Run `llama_worker` in a separate Python process and read its one-line JSON answer."""

from __future__ import annotations

import json
import subprocess
import sys

from papercycle.trainer.export.errors import ExportError


def call(command: str, *args: str, what: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "papercycle.trainer.export.llama_worker", command, *args],
        capture_output=True,
        text=True,
    )
    lines = result.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        answer = {}
    if result.returncode != 0 or "error" in answer or not answer:
        detail = (
            answer.get("error") or _last_line(result.stderr) or f"exit status {result.returncode}"
        )
        raise ExportError(f"{what}: {detail}")
    return answer


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
