"""Shared helpers for the trainer tests: the CLI in a subprocess, small synthetic datasets.

Recipes run through `papercycle train` in child processes, which keeps torch out of the
test process (llama.cpp runs in other tests' processes; the two must never share one).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml


def papercycle(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(
        yaml.safe_dump({k: str(v) if isinstance(v, Path) else v for k, v in data.items()})
    )
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


RATINGS = [3, 5, 6, 8, 1, 10]


def openreview_rows(n: int = 6) -> list[dict]:
    """DeepReview-13K-style records (the authors' sample.json layout), with short papers."""
    rows = []
    for i in range(n):
        reviews = [
            {
                "id": f"r{i}{j}",
                "content": {
                    "summary": f"The paper {i} studies graphs, reviewer {j}.",
                    "soundness": f"{1 + (i + j) % 4} fair",
                    "presentation": "3 good",
                    "contribution": "2 fair",
                    "strengths": "Clear writing.",
                    "weaknesses": "Few baselines.",
                    "questions": "Why this dataset?",
                    "rating": str(RATINGS[(i + j) % len(RATINGS)]),
                    "confidence": "3",
                },
            }
            for j in range(3)
        ]
        rows.append(
            {
                "id": f"paper-{i}",
                "title": f"Paper {i}",
                "paper_context": f"# Paper {i}\n\nWe propose method {i} for graph learning. " * 3,
                "decision": "Accept (poster)" if i % 2 else "Reject",
                "review": reviews,
            }
        )
    return rows


def reference_rows(n: int = 2) -> list[dict]:
    """Research-14K-style records: references only (prompts for the researcher)."""
    return [
        {
            "id": f"refs-{i}",
            "references": [
                {"title": f"Graph paper {i}", "abstract": "We study message passing."},
                {"title": "Attention is all you need", "abstract": "Transformers."},
            ],
        }
        for i in range(n)
    ]
