"""The whole cycle on the real SmolLM2-135M-Instruct, a few steps: its installed GGUF as the
base (`model: gguf:<catalogue name>`) -> SFT on real ICLR reviews -> export with verification
-> registered in a daemon, which reviews a paper with it.

What the 2-step model writes is not asserted (it has barely moved): the export passes its
verification against the trained checkpoint and the daemon answers with the new model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import write_yaml

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_dir: Path, smollm2_gguf: Path) -> dict:
    out = tmp_path_factory.mktemp("gguf-base")
    config = write_yaml(
        out / "sft.yaml",
        {
            "model": "gguf:smollm2-135m-instruct",
            "output_dir": out / "run",
            "data": shared_dir / "data" / "reviews" / "iclr2022_papers_scores.jsonl.gz",
            "data_adapter": "iclr2022",
            "reviewer_format": "cyclereviewer",
            "max_examples": 2,
            "max_paper_tokens": 64,
            "max_length": 512,
            "max_steps": 2,
            "logging_steps": 1,
            "learning_rate": 1.0e-4,
            "export_quant": "f16",  # Q8_0 of a lightly tuned 135M model verified at 93.5-95.8% top-1: borderline
            "served_name": "smol-reviewer",
        },
    )
    # a longer limit than the helpers' 900 s: dequantizing, 2 steps, converting and verifying a
    # 135M model take ~7 minutes on 2 busy cores, several times that when they are shared
    done = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "train", "sft-reviewer", "--config", str(config)],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    return {"out": out, "done": done}


def test_a_gguf_base_trains_and_exports_a_verified_gguf(trained: dict) -> None:
    done, out = trained["done"], trained["out"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dequantizing SmolLM2-135M-Instruct" in done.stdout
    assert (out / "run" / "base-from-gguf" / "config.json").is_file()
    assert "trained 2 steps" in done.stdout
    assert "PASSED" in done.stdout
    assert (out / "run" / "smol-reviewer-f16.gguf").is_file()
    # the ChatML template kept in the export is the one the model was trained with
    from papercycle.formats.chat import ChatTemplate

    template = ChatTemplate.from_gguf(str(out / "run" / "smol-reviewer-f16.gguf"))
    rendered = template.render([{"role": "user", "content": "hi"}], add_generation_prompt=True)
    assert rendered.endswith("<|im_start|>assistant\n")


def test_the_daemon_reviews_a_paper_with_the_trained_model(trained: dict, tmp_path: Path):
    from daemon_helpers import Home, serve_home

    gguf = trained["out"] / "run" / "smol-reviewer-f16.gguf"
    if not gguf.is_file():
        pytest.fail("the export failed (see the first test)")
    root = Path(tempfile.mkdtemp(prefix="pct-"))  # short: an ipc:// path fits in 108 bytes
    (root / "config").mkdir()
    (root / "config" / "config.toml").write_text(
        f'[daemon]\nexit_after_idle = 600\n\n[[models]]\nname = "smol-reviewer"\n'
        f'path = "{gguf}"\nformat = "cyclereviewer"\nrole = "reviewer"\nn_ctx = 2048\n'
        "n_threads = 2\n[models.sampling]\nmax_tokens = 48\n"
    )
    paper = tmp_path / "main.tex"
    paper.write_text(
        "\\documentclass{article}\\begin{document}\\title{Caching messages in GNNs}\n"
        "\\begin{abstract}We cache messages between layers of a graph network.\\end{abstract}\n"
        "\\section{Introduction}Message passing is slow; we reuse messages.\\end{document}\n"
    )
    for home in serve_home(root):
        assert isinstance(home, Home)
        answer = subprocess.run(
            [sys.executable, "-m", "papercycle.cli", "review", str(paper), "--format", "json"],
            capture_output=True, text=True, env={**home.env, "PAPERCYCLE_HOME": str(root)},
            timeout=600, cwd=os.getcwd(),
        )  # fmt: skip
        assert "Traceback" not in answer.stderr, answer.stderr
        result = json.loads(answer.stdout)
        assert result["model"] == "smol-reviewer"
        assert result["format"] == "cyclereviewer"
        assert result["generation"]["tokens"] > 0
