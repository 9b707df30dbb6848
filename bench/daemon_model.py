"""A realistically shaped reviewer for the daemon benchmarks: Llama-3.2-1B's shape (hidden 2048,
16 layers, 32 heads / 8 KV heads, MLP 8192) with random weights and the tiny models' BPE
vocabulary, exported to GGUF at Q4_K_M. Speed does not depend on the weights' values, and
the small vocabulary keeps the build (about 5 minutes on 2 cores) and the file (~0.6 GB) small;
it makes the model ~0.95B parameters instead of 1.24B (Llama-3.2's 128k vocabulary is ~0.26B).

    .venv/bin/python bench/daemon_model.py   # prints the GGUF path; cached under .cache/bench/

torch runs only in subprocesses here (build, export), never beside llama.cpp.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".cache" / "bench"
SHAPE = {
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": True,
}

_BUILD = r"""
import json, sys, torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
tokenizer_dir, out, shape = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
tok = AutoTokenizer.from_pretrained(tokenizer_dir)
vocab = -(-len(tok) // 256) * 256  # rows of K-quant blocks
config = LlamaConfig(vocab_size=vocab, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                     rope_theta=500000.0, torch_dtype="bfloat16", **shape)
torch.manual_seed(0)
with torch.no_grad():
    model = LlamaForCausalLM(config).to(torch.bfloat16)
model.save_pretrained(out, safe_serialization=True)
tok.save_pretrained(out)
print(sum(p.numel() for p in model.parameters()))
"""


def tiny_tokenizer_dir() -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from tiny_models import default_store

    return default_store().hf("llama")


def hf_checkpoint() -> Path:
    out = CACHE / "llama-1b-shape-hf"
    if not (out / "config.json").exists():
        out.mkdir(parents=True, exist_ok=True)
        import json

        subprocess.run(
            [sys.executable, "-c", _BUILD, str(tiny_tokenizer_dir()), str(out), json.dumps(SHAPE)],
            check=True,
        )
    return out


def gguf(quant: str = "Q4_K_M") -> Path:
    """The 1B shape exported at `quant` (Q4_K_M, or f16 for the bandwidth figures)."""
    target = CACHE / f"llama-1b-shape-{quant}.gguf"
    if not target.exists():
        source = hf_checkpoint()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "papercycle.cli",
                "export",
                str(source),
                "-o",
                str(target),
                "--quant",
                quant,
                "--no-verify",
                "--pre-tokenizer",
                "gpt-2",
            ],
            check=True,
        )
    return target


if __name__ == "__main__":
    print(gguf(*sys.argv[1:2]))
