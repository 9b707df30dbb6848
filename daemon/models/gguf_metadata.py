"""Read a GGUF file's metadata without loading the model: the header only, read as a stream
(gguf_header.py), so a large vocabulary costs nothing and damage is said in words."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from papercycle.daemon.models.gguf_header import (
    ArrayInfo,
    HeaderError,
    check_tensor_data,
    read_header,
)


class GGUFError(Exception):
    """A file that is missing, unreadable, or not a complete GGUF; the message is one line."""


@dataclass(frozen=True)
class GGUFMetadata:
    path: str
    architecture: str
    name: str | None
    parameters: int
    quantization: str
    context_length: int | None
    chat_template: str | None
    bos_token_id: int | None
    eos_token_id: int | None
    vocab_size: int | None
    is_adapter: bool
    file_size: int
    kv_bytes_per_token: int | None = None  # an f16 K and V cache over all layers
    # What `papercycle train` wrote into a fine-tuned reviewer (trainer/export/
    # reviewer_metadata.py): the review format and the modes it was trained for
    trained_format: str | None = None
    trained_modes: tuple[str, ...] | None = None

    def kv_cache_bytes(self, n_ctx: int) -> int | None:
        return None if self.kv_bytes_per_token is None else self.kv_bytes_per_token * n_ctx

    def to_json(self) -> dict:
        return asdict(self)


def read_gguf_metadata(path: Path) -> GGUFMetadata:
    if not path.exists():
        raise GGUFError(f"{path}: no such file")
    if path.is_dir():
        hint = (
            " (a Hugging Face checkpoint: convert it with `papercycle export`)"
            if (path / "config.json").is_file()
            else ""
        )
        raise GGUFError(f"{path} is a directory, not a GGUF file{hint}")
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"GGUF":
                raise GGUFError(f"{path}: not a GGUF file (bad magic)")
        header = read_header(path)
        check_tensor_data(header)
    except HeaderError as error:
        raise GGUFError(f"{path}: corrupt or truncated GGUF: {error}") from None
    except OSError as error:
        raise GGUFError(f"{path}: cannot read it ({error.strerror or error})") from None
    fields = header.fields
    architecture = str(fields.get("general.architecture", "unknown"))
    file_type = fields.get("general.file_type")
    tokens = fields.get("tokenizer.ggml.tokens")
    parameters = sum(tensor.n_elements for tensor in header.tensors)
    return GGUFMetadata(
        path=str(path),
        architecture=architecture,
        name=_text(fields.get("general.name")),
        parameters=parameters,
        quantization=_file_type_name(file_type),
        context_length=_integer(fields.get(f"{architecture}.context_length")),
        chat_template=_text(fields.get("tokenizer.chat_template")),
        bos_token_id=_integer(fields.get("tokenizer.ggml.bos_token_id")),
        eos_token_id=_integer(fields.get("tokenizer.ggml.eos_token_id")),
        vocab_size=tokens.count if isinstance(tokens, ArrayInfo) else _length(tokens),
        is_adapter=fields.get("general.type") == "adapter",
        file_size=header.file_size,
        kv_bytes_per_token=_kv_bytes_per_token(fields, architecture),
        trained_format=_text(fields.get("papercycle.reviewer.format")),
        trained_modes=_strings(fields.get("papercycle.reviewer.modes")),
    )


def _kv_bytes_per_token(fields: dict, architecture: str) -> int | None:
    """layers x (key + value width) x 2 bytes (f16), from the attention shape in the header."""
    layers = _integer(fields.get(f"{architecture}.block_count"))
    embedding = _integer(fields.get(f"{architecture}.embedding_length"))
    heads = _integer(fields.get(f"{architecture}.attention.head_count"))
    if not layers or not embedding or not heads:
        return None
    kv_heads = _integer(fields.get(f"{architecture}.attention.head_count_kv")) or heads
    key = _integer(fields.get(f"{architecture}.attention.key_length")) or embedding // heads
    value = _integer(fields.get(f"{architecture}.attention.value_length")) or embedding // heads
    return layers * kv_heads * (key + value) * 2


def _integer(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        return None
    return tuple(v for v in value if isinstance(v, str)) or None


def _length(value) -> int | None:
    return len(value) if isinstance(value, list) else None


def _file_type_name(file_type) -> str:
    import gguf

    if file_type is None:
        return "unknown"
    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {file_type}"
