"""Read a GGUF file's metadata without loading the model (the PyPI `gguf` reader, memory-mapped)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


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

    def to_json(self) -> dict:
        return asdict(self)


def read_gguf_metadata(path: Path) -> GGUFMetadata:
    import gguf

    if not path.exists():
        raise GGUFError(f"{path}: no such file")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise GGUFError(f"{path}: not a GGUF file (bad magic)")
    try:
        reader = gguf.GGUFReader(path)
        fields = {name: _value(field) for name, field in reader.fields.items()}
        parameters = sum(int(tensor.n_elements) for tensor in reader.tensors)
        _check_tensor_data(path, reader)
    except GGUFError:
        raise
    except Exception as error:  # the reader raises ValueError, IndexError, ... on damaged files
        raise GGUFError(
            f"{path}: corrupt or truncated GGUF ({type(error).__name__}: {error})"
        ) from None

    architecture = str(fields.get("general.architecture", "unknown"))
    file_type = fields.get("general.file_type")
    tokens = fields.get("tokenizer.ggml.tokens")
    return GGUFMetadata(
        path=str(path),
        architecture=architecture,
        name=fields.get("general.name"),
        parameters=parameters,
        quantization=_file_type_name(file_type),
        context_length=fields.get(f"{architecture}.context_length"),
        chat_template=fields.get("tokenizer.chat_template"),
        bos_token_id=fields.get("tokenizer.ggml.bos_token_id"),
        eos_token_id=fields.get("tokenizer.ggml.eos_token_id"),
        vocab_size=len(tokens) if isinstance(tokens, list) else None,
        is_adapter=fields.get("general.type") == "adapter",
        file_size=path.stat().st_size,
    )


def _value(field):
    import gguf

    if not field.types:
        return None
    kind = field.types[0]
    if kind == gguf.GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8", errors="replace")
    if kind == gguf.GGUFValueType.ARRAY:
        if len(field.types) > 1 and field.types[1] == gguf.GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8", errors="replace") for i in field.data]
        return [field.parts[i].tolist()[0] for i in field.data]
    return field.parts[field.data[0]].tolist()[0]


def _check_tensor_data(path: Path, reader) -> None:
    """A file cut short still has a readable header; its last tensor then runs past the end."""
    size = path.stat().st_size
    for tensor in reader.tensors:
        if tensor.data_offset + tensor.n_bytes > size:
            raise GGUFError(
                f"{path}: truncated GGUF (tensor {tensor.name} runs past the end of the file)"
            )


def _file_type_name(file_type) -> str:
    import gguf

    if file_type is None:
        return "unknown"
    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {file_type}"
