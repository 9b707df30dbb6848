"""`papercycle doctor` in real home folders (PAPERCYCLE_HOME and HOME): no model, a broken model
path, a paper longer than the context, a GPU asked of a CPU-only llama.cpp, the editors found;
and the GPU line of `models add` and of the daemon's log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from home_helpers import PAPER, make_home, smollm2_home, stop_daemon
from papercycle.daemon.models.gpu_support import gpu_offload_supported
from papercycle.daemon.models.llama_backend import Tokenizer
from papercycle.daemon.paths import Paths
from papercycle.latex.model import Project

CPU_ONLY = pytest.mark.skipif(
    gpu_offload_supported(), reason="this llama.cpp build has a GPU backend"
)


def papercycle_in(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`papercycle ARGS` with `home` as both papercycle's home and the user's home folder."""
    env = {**os.environ, "PAPERCYCLE_HOME": str(home), "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or home,
    )


def lines_of(result: subprocess.CompletedProcess, topic: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.split()[1:2] == [topic]]


def test_no_model_is_a_problem_with_its_fix(tmp_path):
    result = papercycle_in(tmp_path, "doctor")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (models,) = lines_of(result, "models")
    assert models.startswith("problem ")
    assert "no model configured -> papercycle models add reviewer smollm2-135m-instruct" in models
    (python,) = lines_of(result, "python")
    assert python.startswith("ok ")
    (daemon,) = lines_of(result, "daemon")
    assert daemon.startswith("ok ") and "not running" in daemon
    # no editor integration in a new home folder: notes that say how, not problems
    for editor in ("neovim", "emacs", "vscode"):
        (line,) = lines_of(result, editor)
        assert line.startswith("note ") and " -> " in line
    assert result.stdout.splitlines()[-1] == "1 problem(s)"


def test_a_broken_model_path_is_named(tmp_path, smollm2_gguf):
    home = smollm2_home(smollm2_gguf, 64, "pc-doc-")
    config = home / "config" / "config.toml"
    missing = tmp_path / "moved-away.gguf"
    config.write_text(
        config.read_text() + f'\n[[models]]\nname = "lost"\npath = "{missing}"\nn_ctx = 4096\n'
    )
    result = papercycle_in(home, "doctor")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    good, broken = lines_of(result, "model")
    assert good.startswith("ok ") and "smollm2: reviewer, format deepreviewer" in good
    assert broken.startswith("problem ")
    assert f"model 'lost': {missing}" in broken
    assert broken.endswith("-> papercycle models remove lost, then models add/pull it again")


def test_ready_with_a_model_and_a_paper_that_fits(smollm2_gguf, tmp_path):
    home = smollm2_home(smollm2_gguf, 64, "pc-doc-")
    (tmp_path / "main.tex").write_text(PAPER)
    # run in the paper's folder: the doctor finds the paper by itself
    result = papercycle_in(home, "doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "ready"
    (context,) = lines_of(result, "context")
    assert context.startswith(f"ok      context    {tmp_path}: ")
    tokens = int(context.split(": ")[1].split(" tokens")[0].replace(",", ""))
    # SmolLM2's own count of the paper's text as the reviewer reads it
    expected = Tokenizer(str(smollm2_gguf)).count(Project.build(tmp_path).text)
    assert tokens == expected > 50
    assert "smollm2 holds 8,192 (n_ctx) with 64 for the answer" in context
    assert result.stderr == ""  # llama.cpp's loader notes do not leak into the output


def test_a_paper_longer_than_the_context(tiny_gguf, tmp_path):
    home = make_home(tiny_gguf, prefix="pc-doc-")  # tiny models: n_ctx 2048
    body = "\n".join(
        f"\\section{{Part {n}}}\nWe measure the routing cost of expert {n} on one dataset "
        "and report the mean over three seeds with their spread."
        for n in range(120)
    )
    paper = tmp_path / "long.tex"
    paper.write_text(PAPER.replace("\\end{document}", body + "\n\\end{document}"))
    result = papercycle_in(home, "doctor", str(paper))
    assert result.returncode == 1
    problems = [line for line in lines_of(result, "context") if line.startswith("problem ")]
    assert problems, result.stdout
    assert "tiny holds 2,048 (n_ctx)" in problems[0]
    assert "a whole-paper review does not fit -> papercycle review --mode sections" in problems[0]


@CPU_ONLY
def test_gpu_layers_on_a_cpu_only_build(smollm2_gguf):
    home = smollm2_home(smollm2_gguf, 64, "pc-doc-")
    config = home / "config" / "config.toml"
    config.write_text(
        config.read_text().replace("n_threads = 2", "n_threads = 2\nn_gpu_layers = 99")
    )
    result = papercycle_in(home, "doctor")
    assert result.returncode == 1
    (llama,) = lines_of(result, "llama.cpp")
    assert llama.startswith("problem ")
    assert "is CPU only but n_gpu_layers is set for smollm2" in llama
    assert 'CMAKE_ARGS="-DGGML_CUDA=on"' in llama


@CPU_ONLY
def test_models_add_says_the_gpu_will_not_be_used(tmp_path, smollm2_gguf):
    result = papercycle_in(
        tmp_path, "models", "add", "gpu", str(smollm2_gguf), "--n-gpu-layers", "8"
    )
    assert result.returncode == 0, result.stderr
    assert "added gpu" in result.stdout
    # (the answer budget's warning may come first: SmolLM2's context is short)
    (warning,) = [line for line in result.stderr.splitlines() if "n_gpu_layers" in line]
    assert warning.startswith(
        "warning: model 'gpu': n_gpu_layers = 8 but this llama.cpp build has no GPU backend"
    )
    assert "CMAKE_ARGS=" in warning


@CPU_ONLY
def test_the_daemon_log_says_the_gpu_will_not_be_used_and_doctor_sees_the_daemon(smollm2_gguf):
    home = smollm2_home(smollm2_gguf, 64, "pc-doc-")
    config = home / "config" / "config.toml"
    config.write_text(
        config.read_text().replace("n_threads = 2", "n_threads = 2\nn_gpu_layers = 4")
    )
    try:
        started = papercycle_in(home, "daemon", "start")
        assert started.returncode == 0, started.stderr
        (daemon,) = lines_of(papercycle_in(home, "doctor"), "daemon")
        assert daemon.startswith("ok      daemon     running ")
        assert "no model loaded" in daemon
    finally:
        stop_daemon(Paths(*(home / part for part in ("config", "state", "run", "cache", "data"))))
    log = (home / "state" / "daemon.log").read_text()
    (line,) = [x for x in log.splitlines() if "no GPU backend" in x]
    assert "model 'smollm2': n_gpu_layers = 4 but this llama.cpp build has no GPU backend" in line


def test_editor_integrations_are_found(tmp_path):
    nvim = tmp_path / ".config" / "nvim"
    nvim.mkdir(parents=True)
    (nvim / "init.lua").write_text('require("papercycle").setup({})\n')
    (tmp_path / ".emacs.d").mkdir()
    (tmp_path / ".emacs.d" / "init.el").write_text("(require 'papercycle)\n")
    extension = tmp_path / ".vscode" / "extensions" / "papercycle.papercycle-0.1.0"
    extension.mkdir(parents=True)
    result = papercycle_in(tmp_path, "doctor")
    assert lines_of(result, "neovim") == [f"ok      neovim     plugin found ({nvim / 'init.lua'})"]
    assert lines_of(result, "emacs") == [
        f"ok      emacs      papercycle.el loaded by {tmp_path / '.emacs.d' / 'init.el'}"
    ]
    assert lines_of(result, "vscode") == [f"ok      vscode     extension installed ({extension})"]


def test_an_answer_budget_that_leaves_no_room_for_the_paper(smollm2_gguf):
    home = smollm2_home(smollm2_gguf, 7000, "pc-doc-")  # of its 8,192 tokens
    result = papercycle_in(home, "doctor")
    assert result.returncode == 1
    (budget,) = lines_of(result, "budget")
    assert budget.startswith("problem budget     smollm2: max_tokens 7000 leaves 1192 of its 8192")
    assert "-> lower its [models.sampling] max_tokens or raise n_ctx" in budget
