"""Chat messages, prompt versions, and chat templates read from GGUF metadata.

Prompt builders return messages; the chat template of the model that will read them
(`tokenizer.chat_template` in its GGUF, or an explicit override) turns them into text, so a
fine-tuned reviewer sees exactly the layout it was trained on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


def prompt_version(*texts: str) -> str:
    """A short stable hash of prompt texts: any change to a text changes the version,
    which is part of every cached review's key."""
    digest = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()
    return digest[:12]


@dataclass(frozen=True)
class ChatTemplate:
    """A Jinja chat template with the special tokens it refers to."""

    template: str
    bos_token: str = ""
    eos_token: str = ""

    @classmethod
    def from_gguf(cls, path: str | Path, override: str | None = None) -> ChatTemplate:
        """The template stored in a GGUF file (or `override`), with its BOS/EOS token texts."""
        from gguf import GGUFReader  # only needed when a model file is at hand

        reader = GGUFReader(str(path))
        template = override or _string_field(reader, "tokenizer.chat_template")
        if template is None:
            raise ValueError(f"{path} has no tokenizer.chat_template; pass a template override")
        tokens = reader.fields.get("tokenizer.ggml.tokens")

        def token_text(key: str) -> str:
            field = reader.fields.get(key)
            if field is None or tokens is None:
                return ""
            token_id = int(field.parts[field.data[0]][0])
            return bytes(tokens.parts[tokens.data[token_id]]).decode("utf-8", "replace")

        return cls(
            template,
            token_text("tokenizer.ggml.bos_token_id"),
            token_text("tokenizer.ggml.eos_token_id"),
        )

    def render(self, messages: list[Message], *, add_generation_prompt: bool = True) -> str:
        """The prompt text the model reads for `messages`."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(
            template=self.template,
            eos_token=self.eos_token,
            bos_token=self.bos_token,
            add_generation_prompt=add_generation_prompt,
        )
        return formatter(messages=list(messages)).prompt  # type: ignore[arg-type]


def _string_field(reader: object, key: str) -> str | None:
    field = reader.fields.get(key)  # type: ignore[attr-defined]
    if field is None:
        return None
    return bytes(field.parts[field.data[0]]).decode("utf-8")
