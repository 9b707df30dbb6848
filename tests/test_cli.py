"""The `papercycle` command: version, lazy subcommands, quiet progress when piped."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from tiny_models import papercycle


def test_version():
    result = papercycle("--version")
    assert result.stdout.strip() == f"papercycle, version {version('papercycle')}"


def test_help_lists_subcommands():
    out = papercycle("--help").stdout
    for command in ("export", "inspect", "tiny"):
        assert command in out


def test_unknown_command_is_one_line():
    result = papercycle("frobnicate", check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "No such command 'frobnicate'" in result.stderr


def test_tiny_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = papercycle("tiny", str(tmp_path), check=False)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"papercycle: error: {tmp_path}: directory exists and is not empty"
    )
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_tiny_model_shape(tiny_models):
    model = tiny_models.hf("qwen2")
    config = json.loads((model / "config.json").read_text())
    assert config["architectures"] == ["Qwen2ForCausalLM"]
    assert (config["hidden_size"], config["num_hidden_layers"]) == (256, 2)
    template = (model / "chat_template.jinja").read_text()
    assert "{% generation %}" in template and "<|im_start|>" in template
    manifest = json.loads((model / "papercycle-tiny.json").read_text())
    assert manifest["pre_tokenizer"] == "qwen2"


@pytest.mark.slow
def test_export_progress_is_quiet_when_piped(tmp_path, tiny_models):
    result = papercycle(
        "export",
        str(tiny_models.hf("llama")),
        "-o",
        str(tmp_path / "m.gguf"),
        "--quant",
        "f32",
        "--pre-tokenizer",
        "gpt-2",
    )
    assert "\r" not in result.stderr and "step/s" not in result.stderr
    assert "PASSED" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith(f"wrote {tmp_path / 'm.gguf'} (f32")


@pytest.mark.slow
def test_export_reads_the_pre_tokenizer_a_tiny_checkpoint_recorded(tmp_path, tiny_models):
    """`papercycle tiny DIR` then `papercycle export DIR`: no --pre-tokenizer to know."""
    out = tmp_path / "m.gguf"
    result = papercycle("export", str(tiny_models.hf("llama")), "-o", str(out), "--quant", "f16")
    assert "PASSED" in result.stdout
    from gguf import GGUFReader

    field = GGUFReader(out).fields["tokenizer.ggml.pre"]
    assert bytes(field.parts[field.data[0]]).decode() == "gpt-2"


def test_tiny_prints_the_export_command_that_works(tmp_path):
    random = papercycle("tiny", str(tmp_path / "raw"), "--train-steps", "0")
    line = random.stdout.strip().splitlines()[-1]
    assert f"papercycle export {tmp_path / 'raw'} -o {tmp_path / 'raw'}.gguf" in line
    assert "--no-verify" in line and "--pre-tokenizer" not in line
