"""Flash attention and the KV cache type (`flash_attn`, `kv_cache_type` of a [[models]] entry):
they reach llama.cpp's context, a quantized cache really is smaller, and a bad value is one
line naming the file and the model."""

from __future__ import annotations

import os
import subprocess
import sys

import llama_cpp
import pytest
from papercycle.daemon.config import Config, ConfigError, ModelConfig
from papercycle.daemon.models.llama_backend import LlamaBackend
from papercycle.daemon.models.registry import Registry

IGNORE = lambda kind, data: None  # noqa: E731


def _state_bytes(backend: LlamaBackend, tokens: int = 96) -> int:
    """Bytes of the context's state after reading `tokens` tokens: the KV cache dominates."""
    backend.llama.reset()
    backend.llama.eval([(i * 37) % 1000 + 10 for i in range(tokens)])
    return llama_cpp.llama_state_get_size(backend.llama.ctx)


def test_the_settings_reach_llama_cpp_with_the_real_model(smollm2_gguf):
    default = LlamaBackend(str(smollm2_gguf), 512, 1, 0, 0)
    try:
        params = default.llama.context_params
        # default off (measured slower on CPU), said explicitly: llama.cpp's own default is auto
        assert params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        assert (params.type_k, params.type_v) == (llama_cpp.GGML_TYPE_F16,) * 2
        f16_bytes = _state_bytes(default)
    finally:
        default.close()
    quantized = LlamaBackend(str(smollm2_gguf), 512, 1, 0, 0, flash_attn=True, kv_cache_type="q8_0")
    try:
        params = quantized.llama.context_params
        assert params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert (params.type_k, params.type_v) == (llama_cpp.GGML_TYPE_Q8_0,) * 2
        q8_bytes = _state_bytes(quantized)
        # q8_0 stores 34 bytes per 32 values against f16's 64: the cache itself shrinks
        assert q8_bytes < 0.7 * f16_bytes
        answer = quantized.llama.create_completion("The capital of France is", max_tokens=8)
        assert answer["usage"]["completion_tokens"] > 0  # it still generates
    finally:
        quantized.close()


def test_the_registry_loads_with_the_configured_attention(tiny_gguf):
    """Through the daemon's registry: the model's settings make its context; another KV cache
    type is another load (another context), with its own saved KV states."""
    config = Config()
    config.daemon.memory_budget_mb = 4096
    plain = ModelConfig("plain", path=str(tiny_gguf), n_ctx=512, flash_attn=False)
    small = ModelConfig(
        "small", path=str(tiny_gguf), n_ctx=512, flash_attn=True, kv_cache_type="q8_0"
    )
    config.models = {m.name: m for m in (plain, small)}
    registry = Registry(config)
    try:
        first = registry.acquire(plain, IGNORE)
        second = registry.acquire(small, IGNORE)
        assert second.backend is not first.backend
        assert (
            first.backend.llama.context_params.flash_attn_type
            == llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        small_params = second.backend.llama.context_params
        assert small_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
        assert small_params.type_v == llama_cpp.GGML_TYPE_Q8_0
        assert first.backend.snapshots is not second.backend.snapshots
        registry.release(first)
        registry.release(second)
    finally:
        registry.unload_all()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('flash_attn = "yes"', "model 'a': flash_attn = 'yes' is not true or false"),
        ('kv_cache_type = "q5"', "model 'a': kv_cache_type = 'q5' is not one of f16, q8_0, q4_0"),
        (
            'flash_attn = false\nkv_cache_type = "q8_0"',
            "model 'a': kv_cache_type = 'q8_0' needs flash_attn = true",
        ),
    ],
)
def test_a_bad_value_is_one_line_naming_the_file(tmp_path, setting, message):
    path = tmp_path / "config.toml"
    path.write_text(f'[[models]]\nname = "a"\npath = "x.gguf"\n{setting}\n')
    with pytest.raises(ConfigError) as caught:
        Config.load(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)
    # the command line shows it as one line, without a traceback
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(path.read_text())
    result = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "models", "list"],
        capture_output=True,
        text=True,
        env={**os.environ, "PAPERCYCLE_HOME": str(home)},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if message in line]


def test_defaults_are_not_written_back():
    saved = ModelConfig("m", path="x").to_toml()
    assert "flash_attn" not in saved and "kv_cache_type" not in saved
    chosen = ModelConfig("m", path="x", flash_attn=True).to_toml()
    assert chosen["flash_attn"] is True
