"""A byte-level BPE tokenizer trained offline, wrapped as a Hugging Face tokenizer with ChatML.

Two pre-tokenizers, matching two of llama.cpp's named ones, so a converted GGUF tokenizes
exactly like the HF tokenizer when the right name is declared: GPT-2's split regex
("gpt-2", used for the tiny Llama) and Qwen2's ("qwen2", used for the tiny Qwen2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (Path(__file__).with_name("chat_template.jinja")).read_text()

# The split regex of Qwen2's tokenizer.json, which llama.cpp implements as pre-tokenizer "qwen2".
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)

PRE_TOKENIZER_OF_STYLE = {"gpt2": "gpt-2", "qwen2": "qwen2"}


def train_bpe(lines: Iterable[str], vocab_size: int, style: str) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    if style == "gpt2":
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    elif style == "qwen2":
        tokenizer.normalizer = normalizers.NFC()
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        raise ValueError(f"unknown tokenizer style {style!r}")
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(lines, trainer)
    return tokenizer


def save_hf_tokenizer(
    tokenizer: Tokenizer, out_dir: Path, tokenizer_class: str | None = None
) -> None:
    """Save as a transformers tokenizer: ChatML template, no automatic BOS (as Qwen2 does).

    `tokenizer_class` overrides the class named in tokenizer_config.json (Phi-4 names
    GPT2Tokenizer, which is how llama.cpp's converter tells its BPE vocabulary from Phi-3's
    SentencePiece one).
    """
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        chat_template=CHAT_TEMPLATE,
        model_max_length=2048,
    )
    hf.save_pretrained(out_dir)
    # transformers 5 drops add_bos_token/add_eos_token when saving; llama.cpp's converter reads
    # them from tokenizer_config.json, so state them or the GGUF may default to adding a BOS.
    config_path = out_dir / "tokenizer_config.json"
    config = json.loads(config_path.read_text())
    config.update(add_bos_token=False, add_eos_token=False)
    if tokenizer_class:
        config["tokenizer_class"] = tokenizer_class
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False))
