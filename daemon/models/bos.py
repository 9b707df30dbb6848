"""Exactly one BOS: the token ids of a rendered chat prompt, as the model was trained to read it.

A chat template either writes the BOS itself (Llama 3.1 and Mistral: `{{ bos_token }}`) or not
at all (ChatML: SmolLM2, Qwen2.5). transformers' `apply_chat_template(..., tokenize=True)`
tokenizes the rendered text without adding special tokens, so the template decides. llama.cpp's
`add_bos` (the GGUF's `tokenizer.ggml.add_bos_token`, or its vocabulary's default) adds one
more in front: two BOS for a template that writes one. So the template's text is tokenized
without llama.cpp's BOS, and a BOS is added only when the template wrote none and the model's
metadata asks for one. The daemon's llama backend and the trainer's generation worker both
use `prompt_tokens`, so serving and evaluation read the same ids.
"""

from __future__ import annotations

from typing import Any


def adds_bos(llama: Any) -> bool:
    """Whether the model's metadata asks for a BOS in front of every prompt (llama.cpp resolves
    a missing `add_bos_token` from the vocabulary type)."""
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    return bool(llama_cpp.llama_vocab_get_add_bos(vocab)) and llama.token_bos() >= 0


def prompt_tokens(llama: Any, prompt: str) -> list[int]:
    """The ids of `prompt` (a rendered chat template, special tokens as tokens) with exactly
    the BOS the template and the metadata call for: never two."""
    ids = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    bos = llama.token_bos()
    if ids[:1] == [bos]:
        return ids  # the template wrote it
    if adds_bos(llama):
        return [bos, *ids]
    return ids
