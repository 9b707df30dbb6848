"""Exactly one BOS: our prompt ids equal transformers' `apply_chat_template(..., tokenize=True)`
for the four chat-template families real reviewers use, whatever the GGUF's add_bos says.

The vocabulary is the real SmolLM2 one (its BOS text is `<|im_start|>`); the templates are
written here as strings. A copy of the GGUF with `add_bos_token = true` is the case where
tokenizing with llama.cpp's BOS (the daemon's old way) gave two.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from papercycle.daemon.models.bos import adds_bos, prompt_tokens
from papercycle.formats.chat import ChatTemplate

CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA31 = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
MISTRAL = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system = messages[0]['content'] + '\\n\\n' %}{%- set rest = messages[1:] %}"
    "{%- else %}{%- set system = '' %}{%- set rest = messages %}{%- endif %}"
    "{{- bos_token }}{%- for message in rest %}{%- if message['role'] == 'user' %}"
    "{%- if loop.first %}{{- '[INST] ' + system + message['content'] + '[/INST]' }}"
    "{%- else %}{{- '[INST] ' + message['content'] + '[/INST]' }}{%- endif %}"
    "{%- else %}{{- message['content'] + eos_token }}{%- endif %}{%- endfor %}"
)
QWEN25 = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. "
    "You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)
TEMPLATES = {"chatml": CHATML, "llama-3.1": LLAMA31, "mistral": MISTRAL, "qwen2.5": QWEN25}
CONVERSATIONS = {
    "system and user": [
        {"role": "system", "content": "You are an expert reviewer."},
        {"role": "user", "content": "Review: Théorème 2 bounds $\\sum_i x_i^2 \\le 1$ (∀ x)."},
    ],
    "user only": [{"role": "user", "content": "Summarize the method."}],
}


@pytest.fixture(scope="module")
def vocabularies(smollm2_gguf: Path, tmp_path_factory) -> dict:
    """add_bos false (the file as shipped) and true (a copy with the flag set in place)."""
    import gguf
    from papercycle.daemon.models.llama_backend import Tokenizer

    copy = tmp_path_factory.mktemp("bos") / "smollm2-add-bos.gguf"
    shutil.copyfile(smollm2_gguf, copy)
    reader = gguf.GGUFReader(copy, "r+")
    field = reader.fields["tokenizer.ggml.add_bos_token"]
    field.parts[field.data[0]][0] = True
    reader.data.flush()
    del reader
    tokenizers = {False: Tokenizer(str(smollm2_gguf)), True: Tokenizer(str(copy))}
    yield tokenizers
    for tokenizer in tokenizers.values():
        tokenizer.llama.close()


@pytest.fixture(scope="module")
def hf_tokenizer(smollm2_gguf: Path):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(
        str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name
    )


def test_the_copy_asks_for_a_bos_and_the_shipped_file_does_not(vocabularies) -> None:
    assert not adds_bos(vocabularies[False].llama)
    assert adds_bos(vocabularies[True].llama)


@pytest.mark.parametrize("add_bos", [False, True], ids=["add_bos=false", "add_bos=true"])
@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
@pytest.mark.parametrize("family", sorted(TEMPLATES))
def test_prompt_ids_equal_transformers(
    family: str, conversation: str, add_bos: bool, vocabularies, hf_tokenizer
) -> None:
    messages = CONVERSATIONS[conversation]
    if family == "chatml" and conversation == "user only":
        messages = [{"role": "user", "content": "Summarize the method."}]
    template = TEMPLATES[family]
    expected = hf_tokenizer.apply_chat_template(
        messages, chat_template=template, tokenize=True, add_generation_prompt=True
    )
    expected = list(expected["input_ids"] if hasattr(expected, "keys") else expected)
    llama = vocabularies[add_bos].llama
    ours = ChatTemplate(template, hf_tokenizer.bos_token, hf_tokenizer.eos_token).render(messages)
    ids = prompt_tokens(llama, ours)
    assert ids == expected
    bos = llama.token_bos()
    assert ids[:2] != [bos, bos]


def test_a_template_without_bos_gets_the_one_the_metadata_asks_for(vocabularies) -> None:
    plain = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    prompt = ChatTemplate(plain, "<|im_start|>", "<|im_end|>").render(
        [{"role": "user", "content": "Hello"}]
    )
    with_flag = vocabularies[True].llama
    without_flag = vocabularies[False].llama
    assert prompt_tokens(with_flag, prompt)[:1] == [with_flag.token_bos()]
    assert prompt_tokens(with_flag, prompt)[1:2] != [with_flag.token_bos()]
    assert prompt_tokens(without_flag, prompt)[:1] != [without_flag.token_bos()]
