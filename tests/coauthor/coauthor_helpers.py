"""`papercycle draft --paper` run as a user runs it, against a test home's daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TIMEOUT = 180
MEASURED = [{"name": "Routing", "result": {"table": [["Method", "Acc"], ["Ours", 71.5]]}}]


def draft_paper(
    home, bib: Path, out: Path, *options: str, measured: list | None = None
) -> subprocess.CompletedProcess:
    """The CLI with the test config's `writer` model; `measured` goes in as `--results`."""
    command = [sys.executable, "-m", "papercycle.cli", "draft", "--paper", "--bib", str(bib)]
    command += ["-o", str(out), "--model", "writer", *options]
    if measured is not None:
        results = out.parent / f"{out.name}-results.json"
        results.write_text(json.dumps(measured))
        command += ["--results", str(results)]
    env = {**os.environ, "PAPERCYCLE_HOME": str(home.root)}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT)
