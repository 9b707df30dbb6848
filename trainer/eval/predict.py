"""Reviewer and researcher outputs for evaluation, from a GGUF (llama.cpp in a child process,
the engine the daemon serves with), an HF checkpoint (transformers), or a file of outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from papercycle.formats.chat import Message

# generate(messages, n, seed, grammar) -> n texts
Generate = Callable[[Sequence[Message], int, int, str | None], list[str]]


@contextmanager
def generator_for(
    model: Path, *, n_ctx: int = 16384, temperature: float = 0.4, max_tokens: int = 7000
) -> Iterator[Generate]:
    """A generate function for a GGUF file or a Hugging Face checkpoint directory."""
    model = Path(model)
    if model.suffix == ".gguf":
        from papercycle.trainer.generation.client import LlamaGenerator

        with LlamaGenerator(model, n_ctx=n_ctx) as llama:

            def generate(messages, n, seed, grammar):
                return llama.generate(
                    messages, n=n, seed=seed, grammar=grammar,
                    temperature=temperature, max_tokens=max_tokens,
                )  # fmt: skip

            yield generate
        return
    if not (model / "config.json").exists():
        raise ValueError(f"{model}: neither a .gguf file nor a Hugging Face checkpoint")
    yield _transformers_generate(model, temperature, max_tokens)


def _transformers_generate(model_dir: Path, temperature: float, max_tokens: int) -> Generate:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    cuda = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.bfloat16 if cuda else torch.float32
    )
    if cuda:
        model = model.cuda()

    def generate(messages, n, seed, grammar):
        if grammar is not None:
            raise ValueError("grammar-constrained generation needs a GGUF (llama.cpp)")
        torch.manual_seed(seed)
        inputs = tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        inputs = {k: v.to(model.device) for k, v in inputs.items()}
        out = model.generate(
            **inputs, do_sample=temperature > 0, temperature=temperature or None,
            max_new_tokens=max_tokens, num_return_sequences=n,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )  # fmt: skip
        return tokenizer.batch_decode(
            out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
        )

    return generate


def read_outputs(path: Path) -> dict[str, list[str]]:
    """Precomputed outputs: jsonl of {"id", "text"} (several lines per id are samples)."""
    outputs: dict[str, list[str]] = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            outputs.setdefault(str(row["id"]), []).append(row["text"])
    return outputs
