"""`papercycle models add` as a newcomer runs it (subprocesses, real files): a Hugging Face
checkpoint folder gets one line saying what to run instead, never a traceback; the prompt
format is detected from the GGUF's name (catalogue entry, else family) and said with the
reason; an answer budget that takes most of the context is warned about."""

from __future__ import annotations

import pytest
from test_daemon_cli import papercycle


@pytest.fixture(scope="module")
def home(shared_home):
    return shared_home


def test_a_checkpoint_folder_is_one_line(home, tmp_path):
    checkpoint = tmp_path / "DeepReviewer-7B"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"architectures": ["Qwen2ForCausalLM"]}')
    (checkpoint / "model.safetensors").write_bytes(b"\0" * 64)
    added = papercycle(home, "models", "add", "x", str(checkpoint))
    assert added.returncode == 2
    (line,) = added.stderr.strip().splitlines()
    assert "Traceback" not in added.stderr
    assert "a Hugging Face checkpoint" in line
    assert f"papercycle export {checkpoint}" in line and "papercycle models pull" in line
    listed = papercycle(home, "models", "list")
    assert not any(row.startswith("x ") for row in listed.stdout.splitlines())


@pytest.mark.parametrize(
    ("file_name", "fmt", "reason"),
    [
        ("Llama-OpenReviewer-8B-Q4_K_M.gguf", "openreviewer", "catalogue's openreviewer-8b"),
        ("CycleResearcher-ML-12B.Q4_K_M.gguf", "section", "catalogue's cycleresearcher-12b"),
        ("whizreviewer-tiny.gguf", "cyclereviewer", "the whizreviewer family"),
        ("mine.gguf", "deepreviewer", "no reviewer family in its name"),
    ],
)
def test_the_format_is_detected_from_the_name(home, tmp_path, tiny_gguf, file_name, fmt, reason):
    path = tmp_path / file_name
    path.symlink_to(tiny_gguf)
    name = f"detect-{fmt}"
    added = papercycle(home, "models", "add", name, str(path), "--force")
    assert added.returncode == 0, added.stderr
    said = [line for line in added.stdout.splitlines() if line.startswith(f"format {fmt}: ")]
    assert len(said) == 1 and reason in said[0], added.stdout
    listed = papercycle(home, "models", "list").stdout
    assert any(row.split()[:1] == [name] and fmt in row.split() for row in listed.splitlines())
    assert papercycle(home, "models", "remove", name).returncode == 0


def test_an_answer_budget_taking_most_of_the_context_is_warned(home, tiny_gguf):
    tight = papercycle(
        home, "models", "add", "tight", str(tiny_gguf), "--format", "cyclereviewer", "--force"
    )
    assert tight.returncode == 0, tight.stderr
    # a CycleReviewer answer is typically 4096 tokens; the file's context is 2048
    assert "warning: a cyclereviewer answer (4096 tokens) takes 100% of n_ctx 2048" in (
        tight.stderr
    )
    roomy = papercycle(
        home,
        "models",
        "add",
        "roomy",
        str(tiny_gguf),
        "--format",
        "cyclereviewer",
        "--max-tokens",
        "256",
        "--force",
    )
    assert roomy.returncode == 0 and "warning" not in roomy.stderr
    for name in ("tight", "roomy"):
        assert papercycle(home, "models", "remove", name).returncode == 0
