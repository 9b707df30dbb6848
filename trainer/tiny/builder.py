"""Build a tiny Llama or Qwen2 checkpoint in Hugging Face format."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from papercycle.trainer.tiny.corpus import corpus_lines
from papercycle.trainer.tiny.tokenizer import PRE_TOKENIZER_OF_STYLE, save_hf_tokenizer, train_bpe

# architecture -> tokenizer style (which llama.cpp pre-tokenizer the vocabulary matches)
ARCHITECTURES = {"llama": "gpt2", "qwen2": "qwen2", "mistral": "gpt2", "phi3": "gpt2"}
MANIFEST = "papercycle-tiny.json"


@dataclass(frozen=True)
class TinyModelSpec:
    arch: str = "llama"
    hidden_size: int = 256
    # K-quants need rows that are multiples of 256, so every matrix dimension is.
    intermediate_size: int = 768
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    vocab_size: int = 2048
    context_length: int = 2048
    train_steps: int = 0
    seed: int = 0

    @property
    def pre_tokenizer(self) -> str:
        """The llama.cpp pre-tokenizer name to declare when converting this model."""
        return PRE_TOKENIZER_OF_STYLE[ARCHITECTURES[self.arch]]


def build_tiny_model(out_dir: Path, spec: TinyModelSpec, progress=None) -> Path:
    """Write tokenizer, config and weights of a tiny model to `out_dir` and return it.

    The build is deterministic: the same spec gives the same bytes on every machine of one
    kind (seeded corpus, initialisation and batches; one thread and deterministic kernels, so
    no reduction order depends on scheduling). Tests then measure one model everywhere instead
    of a fresh, luckier or unluckier one per machine.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    if spec.arch not in ARCHITECTURES:
        raise ValueError(
            f"unknown architecture {spec.arch!r} (choose from {', '.join(ARCHITECTURES)})"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = list(corpus_lines(spec.seed))
    tokenizer_class = "GPT2Tokenizer" if spec.arch == "phi3" else None  # as Phi-4 ships
    save_hf_tokenizer(
        train_bpe(lines, spec.vocab_size, ARCHITECTURES[spec.arch]), out_dir, tokenizer_class
    )
    tokenizer = AutoTokenizer.from_pretrained(out_dir)

    torch.manual_seed(spec.seed)
    model = AutoModelForCausalLM.from_config(_config(spec, tokenizer), dtype=torch.float32)
    if spec.train_steps:
        _train(model, tokenizer, lines, spec, progress)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out_dir)
    (out_dir / MANIFEST).write_text(
        json.dumps(asdict(spec) | {"pre_tokenizer": spec.pre_tokenizer})
    )
    return out_dir


def _config(spec: TinyModelSpec, tokenizer):
    from transformers import LlamaConfig, MistralConfig, Phi3Config, Qwen2Config

    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_kv_heads,
        max_position_embeddings=spec.context_length,
        rms_norm_eps=1e-5,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    if spec.arch == "qwen2":
        return Qwen2Config(**common, use_sliding_window=False)
    if spec.arch == "mistral":
        return MistralConfig(**common, sliding_window=None)
    if spec.arch == "phi3":
        return Phi3Config(**common, sliding_window=None)
    return LlamaConfig(**common)


def _train(model, tokenizer, lines: list[str], spec: TinyModelSpec, progress) -> None:
    """A few steps of next-token training, so logits are peaked rather than flat.

    Flat logits make greedy top-1 agreement after quantization a coin toss, which would make
    the fidelity checks meaningless.
    """
    import torch

    ids = [token for line in tokenizer(lines)["input_ids"] for token in line]
    block, batch = 64, 8
    data = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    generator = torch.Generator().manual_seed(spec.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    started = time.monotonic()
    for step in range(spec.train_steps):
        rows = torch.randint(0, data.shape[0], (batch,), generator=generator)
        loss = model(input_ids=data[rows], labels=data[rows]).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if progress is not None:
            progress(step + 1, spec.train_steps, loss.item(), time.monotonic() - started)
    model.eval()
