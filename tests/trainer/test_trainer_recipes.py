"""Each recipe end to end on the tiny models, a few steps each, through `papercycle train`.

Random weights write noise, so the tests assert structure and behaviour: steps taken,
checkpoints resumed, rewards that vary (a constant reward teaches nothing), GGUFs that pass
verification and that llama.cpp serves with their chat template.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import openreview_rows, papercycle, reference_rows, write_jsonl, write_yaml
from papercycle.trainer.reward.rubric_reward import RubricReward
from waiting import wait_until

pytestmark = pytest.mark.slow

PAPER = r"""\documentclass{article}
\begin{document}
\section{Introduction}
We route tokens through sparse experts. We claim a twofold speedup.
\section{Method}
Each token picks one expert by a learned gate.
\end{document}
"""
FAST = {"logging_steps": 1, "learning_rate": 1e-4, "export_quant": "f16", "seed": 0}


def _sft_config(tmp_path, tiny_models, **changes):
    data = write_jsonl(tmp_path / "reviews.jsonl", openreview_rows(6))
    config = {
        "model": str(tiny_models.hf("llama")),
        "output_dir": str(tmp_path / "run"),
        "data": str(data),
        "data_adapter": "deepreview-13k",
        "reviewer_format": "deepreviewer",
        "split": "all",
        "max_paper_tokens": 48,
        "max_length": 1024,
        "batch_size": 2,
        "max_steps": 2,
        **FAST,
    }
    return write_yaml(tmp_path / "sft.yaml", config | changes)


def _serve_line(stdout: str) -> str:
    match = re.search(r"^  (papercycle models add .*)$", stdout, re.MULTILINE)
    assert match, stdout
    return match.group(1)


def test_sft_reviewer_lora_trains_exports_and_serves(tmp_path, tiny_models):
    config = _sft_config(tmp_path, tiny_models, lora=True, lora_r=8, lora_alpha=16)
    result = papercycle("train", "sft-reviewer", "--config", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "6 papers" in result.stdout and "6 papers truncated" in result.stdout
    assert "trained 2 steps" in result.stdout
    assert (tmp_path / "run" / "model" / "adapter_config.json").exists()  # LoRA adapter
    assert "PASSED" in result.stdout  # the merged GGUF passed verification
    line = _serve_line(result.stdout)
    assert "--role reviewer --review-format deepreviewer" in line
    assert (tmp_path / "run" / "run-f16.gguf").exists()


def test_sft_assistant_only_loss_masks_the_prompt(tiny_models):
    code = (
        "import sys; from transformers import AutoTokenizer\n"
        "t = AutoTokenizer.from_pretrained(sys.argv[1])\n"
        "m = [{'role':'user','content':'hello'},{'role':'assistant','content':'a review'}]\n"
        "out = t.apply_chat_template(m, return_assistant_tokens_mask=True, return_dict=True)\n"
        "mask = out['assistant_masks']; ids = out['input_ids']\n"
        "print(t.decode([i for i, k in zip(ids, mask) if k]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tiny_models.hf("llama"))], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "a review<|im_end|>"


def test_sft_resumes_after_an_interruption(tmp_path, tiny_models):
    config = _sft_config(tmp_path, tiny_models, max_steps=6, save_steps=2, export=False)
    command = [
        sys.executable,
        "-m",
        "papercycle.cli",
        "train",
        "sft-reviewer",
        "--config",
        str(config),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = tmp_path / "run" / "checkpoints"
    # trainer_state.json is the last file of a checkpoint: from then on it is complete.
    wait_until(
        lambda: (
            process.poll() is not None
            or (checkpoints / "checkpoint-2" / "trainer_state.json").exists()
        ),
        "the run's second checkpoint complete",
        lambda: f"exit status {process.poll()}; {sorted(p.name for p in checkpoints.glob('*'))}",
        timeout=600,
        interval=0.2,
    )
    process.kill()  # a crash, not a clean stop
    process.wait()
    # A crash in the middle of saving leaves a checkpoint without its state: skipped.
    (checkpoints / "checkpoint-9").mkdir()
    result = papercycle("train", "sft-reviewer", "--config", str(config))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "skipping checkpoint-9: incomplete" in result.stdout
    assert re.search(r"resuming from .*checkpoint-[246]\n", result.stdout)
    assert "trained 6 steps" in result.stdout


def test_sft_researcher_full_finetune(tmp_path, tiny_models):
    data = write_jsonl(tmp_path / "research.jsonl", reference_rows(2))
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    for row in rows:
        row.update(title="T", abstract="A", train_data={"motivation": "M", "main_idea": "I"})
    write_jsonl(data, rows)
    config = {
        "model": str(tiny_models.hf("qwen2")),
        "output_dir": str(tmp_path / "run"),
        "data": str(data),
        "split": "all",
        "max_length": 1024,
        "max_steps": 1,
        "export": False,
        **FAST,
    }
    result = papercycle(
        "train", "sft-researcher", "--config", str(write_yaml(tmp_path / "c.yaml", config))
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "trained 1 steps" in result.stdout
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()


def test_simpo_iteration_end_to_end(tmp_path, tiny_models):
    reviewer, _ = tiny_models.gguf("llama", "f16")
    prompts = write_jsonl(tmp_path / "prompts.jsonl", reference_rows(2))
    config = {
        "model": str(tiny_models.hf("llama")),
        "output_dir": str(tmp_path / "run"),
        "prompts": str(prompts),
        "reviewer": str(reviewer),
        "reviewer_samples": 2,
        # A random reviewer's logits are peaked: at 0.4 it writes the same scores every time.
        "reviewer_temperature": 1.0,
        "reviewer_grammar": True,
        "reviewer_grammar_reviewers": 2,
        "reviewer_max_tokens": 400,
        "reviewer_n_ctx": 2048,
        "policy_n_ctx": 2048,
        "drafts": 3,
        "max_new_tokens": 24,
        "min_margin": 0.1,
        "max_length": 1024,
        "max_steps": 1,
        **FAST,
    }
    result = papercycle("train", "simpo", "--config", str(write_yaml(tmp_path / "c.yaml", config)))
    assert result.returncode == 0, result.stderr[-3000:]
    (summary,) = json.loads((tmp_path / "run" / "iterations.json").read_text())
    assert summary["drafts"] == 6 and summary["scored"] == 6
    assert summary["reward_std"] > 0, "the reward must vary across drafts"
    assert summary["pairs"] >= 1
    pairs = [
        json.loads(x)
        for x in (tmp_path / "run" / "iteration-0" / "pairs.jsonl").read_text().splitlines()
    ]
    assert len(pairs) == summary["pairs"]
    assert all(p["margin"] >= 0.1 and p["chosen"] != p["rejected"] for p in pairs)
    assert re.search(r"iteration 0: mean reward \d", result.stdout)
    assert "SimPO+NLL steps" in result.stdout and "PASSED" in result.stdout
    gguf = tmp_path / "run" / "run-f16.gguf"
    assert f"papercycle models add run {gguf} --role researcher" in _serve_line(result.stdout)

    # Served by the daemon: register the GGUF with the printed command (plus what a tiny
    # random model needs: the format's grammar, a short context and budget), then review a
    # paper with it through a real daemon in an isolated home.
    home = Path(tempfile.mkdtemp(prefix="pc-"))  # short: an ipc:// path must fit 108 bytes
    env = {**os.environ, "PAPERCYCLE_HOME": str(home)}
    extra = [
        "--review-format",
        "cyclereviewer",
        "--structured",
        "--n-ctx",
        "2048",
        "--n-threads",
        "1",
        "--max-tokens",
        "300",
    ]
    try:
        added = papercycle(*_serve_line(result.stdout).split()[1:], *extra, env=env)
        assert added.returncode == 0, added.stderr
        assert "added run (llama, F16" in added.stdout
        paper = tmp_path / "paper" / "main.tex"
        paper.parent.mkdir()
        paper.write_text(PAPER)
        review = papercycle("review", "main.tex", "--model", "run", env=env, cwd=paper.parent)
        assert review.returncode == 0, review.stderr
        assert review.stdout.startswith("model run (cyclereviewer)")
        assert "scores:" in review.stdout
    finally:
        papercycle("daemon", "stop", env=env)
        shutil.rmtree(home, ignore_errors=True)

    # A second run finds the iteration done and does not sample again.
    again = papercycle("train", "simpo", "--config", str(tmp_path / "c.yaml"), "--no-export")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "iteration 0: already done" in again.stdout


def test_rubric_grpo_step_with_a_varying_reward(tmp_path, tiny_models):
    data = write_jsonl(
        tmp_path / "goals.jsonl",
        [
            {"id": "g", "goal": "Train deeper graph networks", "rubric": ["residual connections", "a GCN baseline", "accuracy on Cora"]},
            {"id": "p", "title": "Adaptive optimizers", "abstract": "We propose an optimizer that adapts its learning rate."},
        ],
    )  # fmt: skip
    config = {
        "model": str(tiny_models.hf("llama")),
        "output_dir": str(tmp_path / "run"),
        "data": str(data),
        "grader_n_ctx": 2048,
        "grader_temperature": 1.5,  # see the SimPO test: a random grader needs entropy
        "max_rubric_items": 3,
        "max_goal_chars": 60,
        "max_item_chars": 40,
        "extract_max_tokens": 400,
        "num_generations": 4,
        "batch_size": 4,
        "max_completion_length": 16,
        "max_steps": 1,
        "export": False,
        **FAST,
    }
    result = papercycle(
        "train", "rubric-grpo", "--config", str(write_yaml(tmp_path / "c.yaml", config))
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rubrics = [json.loads(x) for x in (tmp_path / "run" / "rubrics.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rubrics] == ["g", "p"]  # the second was extracted by the grader
    assert 1 <= len(rubrics[1]["rubric"]) <= 3
    history = json.loads((tmp_path / "run" / "rewards.json").read_text())
    rewards = [r for batch in history for r in batch["rewards"]]
    # the share of rubric items satisfied, less the guideline and length terms
    lowest = -(RubricReward.guideline_weight + RubricReward.length_weight)
    assert len(rewards) == 4 and all(lowest <= r <= 1 for r in rewards)
    assert len(set(rewards)) > 1, "a reward with zero variance teaches GRPO nothing"
    assert re.search(r"rubric reward mean [\d.]+ \(std [\d.]+\), coverage [\d.]+", result.stdout)
    assert (tmp_path / "run" / "model" / "model.safetensors").exists()


def test_eval_reviewer_and_researcher_on_tiny_ggufs(tmp_path, tiny_models):
    gguf, _ = tiny_models.gguf("llama", "f16")
    data = write_jsonl(tmp_path / "reviews.jsonl", openreview_rows(5))
    result = papercycle(
        "eval", "reviewer", "--data", str(data), "--adapter", "deepreview-13k", "--split", "all",
        "--model", str(gguf), "--grammar", "--grammar-reviewers", "2", "--n-ctx", "2048",
        "--max-tokens", "800", "--temperature", "1.0", "--samples", "2", "-o", str(tmp_path / "ev"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "ev" / "reviewer.json").read_text())
    assert report["parsed"] == 5 and report["scores"]["rating"]["n"] == 5
    assert report["decision"]["n"] == 5
    assert {"mse", "mae", "spearman", "pairwise_accuracy", "human_loo", "constant_mae"} <= set(
        report["scores"]["rating"]
    )
    assert (tmp_path / "ev" / "calibration.png").stat().st_size > 0
    assert "| rating | 5 |" in (tmp_path / "ev" / "reviewer.md").read_text()

    prompts = write_jsonl(tmp_path / "prompts.jsonl", reference_rows(3))
    result = papercycle(
        "eval", "researcher", "--prompts", str(prompts), "--model", str(gguf), "--reviewer", str(gguf),
        "--grammar", "--max-tokens", "24", "--reviewer-max-tokens", "600", "--n-ctx", "2048",
        "--reviewer-samples", "2", "-o", str(tmp_path / "er"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "er" / "researcher.json").read_text())
    assert report["papers"] == 3 and report["rated"] == 3
    low, high = report["average_score_ci95"]
    assert low <= report["average_score"] <= high
    assert 0 <= report["acceptance_rate"] <= 1


def test_eval_reviewer_on_an_hf_checkpoint(tmp_path, tiny_models):
    data = write_jsonl(tmp_path / "reviews.jsonl", openreview_rows(2))
    result = papercycle(
        "eval", "reviewer", "--data", str(data), "--adapter", "review-5k", "--split", "all",
        "--model", str(tiny_models.hf("llama")), "--max-tokens", "8", "-o", str(tmp_path / "ev"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "ev" / "reviewer.json").read_text())
    assert report["papers"] == 2  # 8 tokens of noise: nothing parsable, and the report says so
    assert "no parsable score" in (tmp_path / "ev" / "reviewer.md").read_text()
