"""Bad input to `export` and `inspect`: one clear line, non-zero exit, no traceback, nothing left."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from tiny_models import papercycle


def _one_line_error(result, *fragments: str, code: int = 2) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("papercycle: error:")]
    assert len(errors) == 1, result.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_not_a_directory(tmp_path):
    result = papercycle(
        "export", str(tmp_path / "nope"), "-o", str(tmp_path / "x.gguf"), check=False
    )
    _one_line_error(result, "nope", "not a directory")


def test_directory_without_checkpoint(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "notes.txt").write_text("hello")
    result = papercycle(
        "export", str(tmp_path / "model"), "-o", str(tmp_path / "x.gguf"), check=False
    )
    _one_line_error(result, "not a Hugging Face checkpoint")
    assert _leftovers(tmp_path) == ["model"]


def test_unsupported_architecture(tmp_path):
    model = tmp_path / "gpt2"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"]}))
    (model / "model.safetensors").write_bytes(b"")
    result = papercycle("export", str(model), "-o", str(tmp_path / "x.gguf"), check=False)
    _one_line_error(result, "unsupported architecture GPT2LMHeadModel", "LlamaForCausalLM")


def test_unknown_quantization(tmp_path):
    result = papercycle(
        "export", str(tmp_path), "-o", str(tmp_path / "x.gguf"), "--quant", "Q3_XYZ", check=False
    )
    _one_line_error(result, "unknown quantization 'Q3_XYZ'")


def test_adapter_without_local_base(tmp_path):
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "org/remote-model"})
    )
    result = papercycle("export", str(adapter), "-o", str(tmp_path / "x.gguf"), check=False)
    _one_line_error(result, "org/remote-model", "--base")


def test_llama_cpp_dir_that_is_not_a_checkout(tmp_path, tiny_models):
    result = papercycle(
        "export", str(tiny_models.hf("llama")), "-o", str(tmp_path / "x.gguf"),
        "--llama-cpp-dir", str(tmp_path), check=False,
    )  # fmt: skip
    _one_line_error(result, "--llama-cpp-dir", "convert_hf_to_gguf.py")


@pytest.mark.slow
def test_undeclared_pre_tokenizer_says_what_to_do(tmp_path, tiny_models):
    # a checkpoint that does not record its pre-tokenizer (only `papercycle tiny` writes it)
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(tiny_models.hf("llama"), checkpoint)
    (checkpoint / "papercycle-tiny.json").unlink(missing_ok=True)
    out = tmp_path / "out"
    out.mkdir()
    result = papercycle("export", str(checkpoint), "-o", str(out / "x.gguf"), check=False)
    _one_line_error(result, "--pre-tokenizer")
    assert _leftovers(out) == []


@pytest.mark.slow
def test_wrong_pre_tokenizer_is_caught_by_verification(tmp_path, tiny_models):
    # The tiny Llama's vocabulary splits like GPT-2; Qwen2's regex splits digits one by one.
    out = tmp_path / "wrong.gguf"
    result = papercycle(
        "export", str(tiny_models.hf("llama")), "-o", str(out), "--quant", "f16", "--pre-tokenizer", "qwen2",
        check=False,
    )  # fmt: skip
    line = _one_line_error(
        result, "verification failed", "tokenization differs", "first difference", code=1
    )
    assert "Hugging Face" in line and "GGUF" in line
    assert "DIFFERS" in result.stdout
    assert _leftovers(tmp_path) == []  # nothing under the final name, no staging left


@pytest.mark.slow
def test_full_disk(tmp_path, tiny_models):
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up ({mounted.stderr.decode().strip()})")
    try:
        result = papercycle(
            "export", str(tiny_models.hf("llama")), "-o", str(disk / "model.gguf"), "--quant", "f16",
            "--pre-tokenizer", "gpt-2", check=False,
        )  # fmt: skip
        _one_line_error(result, "no space left on device")
        assert _leftovers(disk) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.fixture()
def good_gguf(tiny_models, tmp_path):
    source, _ = tiny_models.gguf("llama", "Q4_K_M")
    copy = tmp_path / "model.gguf"
    shutil.copy(source, copy)
    return copy


@pytest.mark.slow
def test_inspect_reports_metadata(good_gguf):
    result = papercycle("inspect", str(good_gguf), "--json")
    meta = json.loads(result.stdout)
    assert meta["architecture"] == "llama"
    assert meta["quantization"] == "Q4_K_M"
    assert meta["context_length"] == 2048
    assert meta["chat_template"] is True
    assert meta["parameters"] > 1_000_000
    assert meta["is_adapter"] is False
    text = papercycle("inspect", str(good_gguf)).stdout
    assert "chat template   present" in text


@pytest.mark.slow
@pytest.mark.parametrize("keep", [0.02, 0.5, 0.95])
def test_inspect_truncated_gguf(good_gguf, keep):
    data = good_gguf.read_bytes()
    good_gguf.write_bytes(data[: int(len(data) * keep)])
    result = papercycle("inspect", str(good_gguf), check=False)
    _one_line_error(result, "model.gguf", "truncated")


def test_inspect_not_a_gguf(tmp_path):
    path = tmp_path / "paper.tex"
    path.write_text(r"\documentclass{article}")
    _one_line_error(papercycle("inspect", str(path), check=False), "not a GGUF file")
    _one_line_error(
        papercycle("inspect", str(tmp_path / "missing.gguf"), check=False), "no such file"
    )


def test_inspect_corrupt_header(tmp_path):
    path = tmp_path / "corrupt.gguf"
    path.write_bytes(b"GGUF" + bytes([3, 0, 0, 0]) + bytes(range(256)) * 8)
    _one_line_error(
        papercycle("inspect", str(path), check=False), "corrupt.gguf", "corrupt or truncated"
    )


@pytest.mark.slow
def test_corrupt_base_gguf_for_adapter_verification(tmp_path, tiny_models):
    bad = tmp_path / "base.gguf"
    bad.write_bytes(b"GGUF" + bytes(64))
    result = papercycle(
        "export", str(tiny_models.lora()), "-o", str(tmp_path / "adapter.gguf"), "--quant", "f16",
        "--as-adapter", "--base-gguf", str(bad), check=False,
    )  # fmt: skip
    _one_line_error(result, "base.gguf")
    assert _leftovers(tmp_path) == ["base.gguf"]
