"""HF → GGUF through `papercycle export`: tokenization and logits compared with the HF model.

Thresholds are the issue's acceptance figures; the measured values are printed in the
terminal summary (and recorded in docs/benchmarks.md).
"""

from __future__ import annotations

import pytest

MIN_TOP1 = {"f32": 1.0, "f16": 1.0, "Q8_0": 0.95, "Q4_K_M": 0.90}


def _record(record_property, name: str, report: dict) -> None:
    # a property of the test's report: it reaches the terminal summary (conftest.py) from
    # whichever pytest-xdist worker ran the test
    record_property(
        "fidelity",
        f"{name:<24} max|dlogit| {report['max_abs_dlogit']:.4f}   top-1 agreement "
        f"{report['top1_agreement']:.1%}   tokenization identical on "
        f"{sum(p['tokens_match'] for p in report['probes'])}/{len(report['probes'])} probes",
    )


@pytest.mark.slow
@pytest.mark.parametrize("quant", ["f32", "f16", "Q8_0", "Q4_K_M"])
@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_export_matches_hf_model(tiny_models, record_property, arch, quant):
    gguf, report = tiny_models.gguf(arch, quant)
    _record(record_property, f"{arch} {quant}", report)

    assert gguf.stat().st_size > 0
    assert report["passed"], report["failures"]
    assert all(p["tokens_match"] for p in report["probes"])
    names = {p["name"] for p in report["probes"]}
    assert {"prose", "latex-math", "code", "cjk", "emoji", "chat-template"} <= names
    assert report["top1_agreement"] >= MIN_TOP1[quant]
    if quant in ("f32", "f16"):
        assert report["max_abs_dlogit"] <= 0.02
    assert report["metadata"]["chat_template"] == "present"
    assert report["metadata"]["context_length"] == "2048"


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["mistral", "phi3"])
def test_other_reviewer_bases_convert(tiny_models, record_property, arch):
    _, report = tiny_models.gguf(arch, "f16")
    _record(record_property, f"{arch} f16 (untrained)", report)
    assert report["passed"], report["failures"]
    assert report["probes"] and all(p["tokens_match"] for p in report["probes"])
    assert report["metadata"]["general.architecture"] == {"mistral": "llama", "phi3": "phi3"}[arch]


@pytest.mark.slow
def test_lora_merged_then_converted(tiny_models, record_property):
    _, report = tiny_models.lora_merged()
    _record(record_property, "llama+LoRA merged f16", report)
    assert report["passed"], report["failures"]
    assert report["max_abs_dlogit"] <= 0.02


@pytest.mark.slow
def test_lora_adapter_gguf_with_base(tiny_models, record_property):
    _, report = tiny_models.lora_adapter()
    _record(record_property, "llama+LoRA adapter f16", report)
    assert report["passed"], report["failures"]
    assert report["max_abs_dlogit"] <= 0.02


@pytest.mark.slow
def test_lora_adapter_changes_the_model(tiny_models):
    """The adapter is not a no-op, so matching the HF model above means something."""
    import llama_cpp
    import numpy as np

    base, _ = tiny_models.gguf("llama", "f32")
    adapter, _ = tiny_models.lora_adapter()
    merged, _ = tiny_models.lora_merged()
    tokens = list(range(5, 40))

    def logits(**kwargs):
        llm = llama_cpp.Llama(n_ctx=128, logits_all=True, verbose=False, **kwargs)
        llm.eval(tokens)
        return np.asarray(llm.scores[: len(tokens)])

    plain = logits(model_path=str(base))
    with_adapter = logits(model_path=str(base), lora_path=str(adapter))
    merged_logits = logits(model_path=str(merged))
    assert np.max(np.abs(with_adapter - plain)) > 0.1
    assert np.max(np.abs(with_adapter - merged_logits)) < 0.05


@pytest.mark.slow
def test_exported_model_is_served_by_llama_cpp(tiny_models):
    """The quantized GGUF loads in llama.cpp and chats with the template from its metadata."""
    import llama_cpp

    gguf, _ = tiny_models.gguf("qwen2", "Q4_K_M")
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=256, verbose=False)
    reply = llm.create_chat_completion(
        messages=[{"role": "user", "content": "Review this paper."}], max_tokens=8, seed=1
    )
    assert reply["choices"][0]["message"]["role"] == "assistant"
    assert reply["usage"]["completion_tokens"] >= 1
    assert "<|im_start|>" in llm.metadata["tokenizer.chat_template"]
