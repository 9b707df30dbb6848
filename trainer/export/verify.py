"""Verification: does a GGUF tokenize and predict like the Hugging Face model it came from?

The HF side runs here (torch); the llama.cpp side runs in `llama_worker`'s own process, after
the HF model is freed, so the two are never in RAM together. The HF model runs in the precision
`verify_memory` picked (its checkpoint's type, or 16 bits where float32 does not fit); the
pass threshold depends on it (quant_types.min_top1).
"""

from __future__ import annotations

import gc
import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from papercycle.trainer.export import worker_process
from papercycle.trainer.export.probes import probe_set
from papercycle.trainer.export.quant_types import min_top1


@dataclass
class ProbeResult:
    name: str
    tokens: int
    tokens_match: bool
    first_difference: str | None
    max_abs_dlogit: float
    top1_agreement: float


@dataclass
class VerificationReport:
    gguf: str
    quant: str
    probes: list[ProbeResult]
    metadata: dict[str, str]
    metadata_problems: list[str] = field(default_factory=list)
    reference_dtype: str = "float32"  # the precision the HF model ran in

    @property
    def min_top1(self) -> float:
        return min_top1(self.quant, self.reference_dtype)

    @property
    def top1_agreement(self) -> float:
        """Greedy top-1 agreement over all probe positions."""
        positions = sum(p.tokens for p in self.probes)
        return sum(p.top1_agreement * p.tokens for p in self.probes) / max(positions, 1)

    @property
    def max_abs_dlogit(self) -> float:
        return max((p.max_abs_dlogit for p in self.probes), default=0.0)

    @property
    def failures(self) -> list[str]:
        problems = [
            f"tokenization differs on probe '{p.name}': {p.first_difference}"
            for p in self.probes
            if not p.tokens_match
        ]
        problems += self.metadata_problems
        if self.top1_agreement < self.min_top1:
            problems.append(
                f"greedy top-1 agreement {self.top1_agreement:.1%} is below {self.min_top1:.0%} "
                f"for {self.quant}"
            )
        return problems

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict:
        return asdict(self) | {
            "passed": self.passed,
            "failures": self.failures,
            "top1_agreement": self.top1_agreement,
            "max_abs_dlogit": self.max_abs_dlogit,
        }

    def render(self) -> str:
        lines = [
            f"verification of {self.gguf} ({self.quant}) against the Hugging Face model "
            f"({self.reference_dtype})"
        ]
        lines.append(
            f"  {'probe':<14} {'tokens':>6}  {'tokenization':<12} {'max|Δlogit|':>11}  top-1"
        )
        for p in self.probes:
            match = "identical" if p.tokens_match else "DIFFERS"
            lines.append(
                f"  {p.name:<14} {p.tokens:>6}  {match:<12} {p.max_abs_dlogit:>11.4f}  "
                f"{p.top1_agreement:.1%}"
            )
        lines.append(
            f"  overall: max|Δlogit| {self.max_abs_dlogit:.4f}, top-1 agreement "
            f"{self.top1_agreement:.1%} (minimum {self.min_top1:.0%})"
        )
        for key in ("general.architecture", "context_length", "chat_template", "bos/eos"):
            if key in self.metadata:
                lines.append(f"  {key}: {self.metadata[key]}")
        lines.append("  PASSED" if self.passed else "  FAILED:")
        lines += [f"    - {failure}" for failure in self.failures]
        return "\n".join(lines)


def verify_gguf(
    hf_dir: Path,
    gguf: Path,
    quant: str,
    *,
    adapter_dir: Path | None = None,
    lora_gguf: Path | None = None,
    dtype: str = "float32",
) -> VerificationReport:
    """Compare `gguf` (plus `lora_gguf`, an adapter) with the HF model in `hf_dir` (+ `adapter_dir`)
    run in `dtype`."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(
        adapter_dir if _has_tokenizer(adapter_dir) else hf_dir
    )
    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=getattr(torch, dtype))
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_dir)
    model.eval()

    probes = probe_set(tokenizer)
    hf_ids = [tokenizer(p.text)["input_ids"] for p in probes]
    with torch.no_grad():
        hf_logits = {
            f"probe{i}": model(torch.tensor([ids])).logits[0].float().numpy()
            for i, ids in enumerate(hf_ids)
        }
    # the GGUF is loaded next, in another process: the HF model must not be resident then
    del model
    gc.collect()
    with tempfile.TemporaryDirectory(prefix="papercycle-verify-") as tmp:
        np.savez(Path(tmp) / "hf_logits.npz", **hf_logits)
        del hf_logits
        request = {
            "gguf": str(gguf),
            "lora": str(lora_gguf) if lora_gguf else None,
            "n_ctx": max(512, max(len(ids) for ids in hf_ids) + 16),
            "hf_logits": str(Path(tmp) / "hf_logits.npz"),
            "probes": [
                {"name": p.name, "text": p.text, "hf_ids": ids}
                for p, ids in zip(probes, hf_ids, strict=True)
            ],
        }
        (Path(tmp) / "request.json").write_text(json.dumps(request))
        answer = worker_process.call(
            "compare", str(Path(tmp) / "request.json"), what=f"loading {gguf}"
        )

    results = []
    for probe_ids, measured in zip(hf_ids, answer["probes"], strict=True):
        results.append(
            ProbeResult(
                name=measured["name"],
                tokens=len(probe_ids),
                tokens_match=measured["llama_ids"] == probe_ids,
                first_difference=_first_difference(tokenizer, probe_ids, measured),
                max_abs_dlogit=measured["max_abs_dlogit"],
                top1_agreement=measured["top1_agree"] / max(measured["positions"], 1),
            )
        )
    metadata, problems = _check_metadata(answer["metadata"])
    return VerificationReport(str(gguf), quant, results, metadata, problems, dtype)


def _has_tokenizer(path: Path | None) -> bool:
    return path is not None and (path / "tokenizer_config.json").exists()


def _first_difference(tokenizer, hf_ids: list[int], measured: dict) -> str | None:
    llama_ids = measured["llama_ids"]
    if llama_ids == hf_ids:
        return None
    index = next(
        (i for i, (a, b) in enumerate(zip(hf_ids, llama_ids, strict=False)) if a != b),
        min(len(hf_ids), len(llama_ids)),
    )

    def show(ids, pieces, i):
        return f"{ids[i]} {pieces[i]!r}" if i < len(ids) else "(end)"

    hf_pieces = [tokenizer.decode([t]) for t in hf_ids]
    return (
        f"first difference at token {index}: Hugging Face {show(hf_ids, hf_pieces, index)} "
        f"vs GGUF {show(llama_ids, measured['llama_pieces'], index)}"
    )


def _check_metadata(raw: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    arch = raw.get("general.architecture", "?")
    summary = {
        "general.architecture": arch,
        "context_length": raw.get(f"{arch}.context_length", "missing"),
        "chat_template": "present" if raw.get("tokenizer.chat_template") else "missing",
        "bos/eos": f"{raw.get('tokenizer.ggml.bos_token_id', 'missing')}/"
        f"{raw.get('tokenizer.ggml.eos_token_id', 'missing')}",
    }
    problems = []
    if summary["context_length"] == "missing":
        problems.append("GGUF metadata has no context length")
    if summary["chat_template"] == "missing":
        problems.append("GGUF metadata has no chat template (tokenizer.chat_template)")
    for token in ("bos", "eos"):
        if f"tokenizer.ggml.{token}_token_id" not in raw:
            problems.append(f"GGUF metadata has no {token.upper()} token id")
    return summary, problems
