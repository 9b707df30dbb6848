"""A GGUF file's header read as a stream: the key/value pairs and the tensor table, without
mapping the file or building the big arrays (a 150,000-token vocabulary is counted, not read),
and every inconsistency said in words with the byte where it happens.

The PyPI `gguf` reader maps the whole file and builds a numpy view per string, which takes tens
of seconds on a vocabulary-only file and raises IndexError on a damaged one."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

SMALL_ARRAY = 64  # arrays up to this many items are kept; longer ones only counted

# value types of the GGUF spec: struct format of the scalars
SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
           11: "<q", 12: "<d"}  # fmt: skip
STRING, ARRAY = 8, 9


class HeaderError(ValueError):
    """What is wrong with the file, in words (the caller adds the path)."""


@dataclass
class ArrayInfo:
    """A long array: how many items, of which value type (the items are skipped)."""

    count: int
    item_type: int


@dataclass
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    ggml_type: int
    offset: int  # from the start of the data section

    @property
    def n_elements(self) -> int:
        total = 1
        for size in self.shape:
            total *= size
        return total


@dataclass
class GGUFHeader:
    version: int
    fields: dict[str, Any] = field(default_factory=dict)
    tensors: list[TensorInfo] = field(default_factory=list)
    data_start: int = 0
    file_size: int = 0


class _Stream:
    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.size = size

    @property
    def position(self) -> int:
        return self.handle.tell()

    def take(self, count: int, what: str) -> bytes:
        at = self.position
        if count < 0 or at + count > self.size:
            raise HeaderError(
                f"the file ends at byte {self.size} but {what} at byte {at} needs {count} bytes: "
                "truncated download?"
            )
        return self.handle.read(count)

    def skip(self, count: int, what: str) -> None:
        at = self.position
        if at + count > self.size:
            raise HeaderError(
                f"the file ends at byte {self.size} but {what} at byte {at} needs {count} bytes: "
                "truncated download?"
            )
        self.handle.seek(at + count)

    def scalar(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        length = self.scalar("<Q", f"the length of {what}")
        return self.take(length, what).decode("utf-8", errors="replace")


def read_header(path: Path) -> GGUFHeader:
    size = path.stat().st_size
    with path.open("rb") as handle:
        stream = _Stream(handle, size)
        if stream.take(4, "the magic number") != b"GGUF":
            raise HeaderError("not a GGUF file (bad magic)")
        version = stream.scalar("<I", "the version")
        if version not in (2, 3):
            raise HeaderError(f"GGUF version {version} is not supported (2 or 3 are)")
        n_tensors = stream.scalar("<Q", "the tensor count")
        n_fields = stream.scalar("<Q", "the key count")
        # each entry takes several bytes: a count beyond the file size is damage, not a big
        # model (a merely truncated file is named where it ends, below)
        for count, what in ((n_tensors, "tensors"), (n_fields, "keys")):
            if count > size:
                raise HeaderError(
                    f"the header declares {count} {what}, more than fit in {size} bytes"
                )
        header = GGUFHeader(version=version, file_size=size)
        for index in range(n_fields):
            key = stream.string(f"the name of key {index + 1} of {n_fields}")
            kind = stream.scalar("<I", f"the type of {key}")
            header.fields[key] = _value(stream, kind, key)
        for index in range(n_tensors):
            name = stream.string(f"the name of tensor {index + 1} of {n_tensors}")
            n_dims = stream.scalar("<I", f"the rank of tensor {name}")
            if n_dims > 8:
                raise HeaderError(f"tensor {name} declares {n_dims} dimensions (at most 8 exist)")
            shape = tuple(stream.scalar("<Q", f"a dimension of {name}") for _ in range(n_dims))
            ggml_type = stream.scalar("<I", f"the type of tensor {name}")
            offset = stream.scalar("<Q", f"the offset of tensor {name}")
            header.tensors.append(TensorInfo(name, shape, ggml_type, offset))
        alignment = header.fields.get("general.alignment", 32)
        if not isinstance(alignment, int) or alignment <= 0:
            raise HeaderError(f"general.alignment {alignment!r} is not a positive integer")
        header.data_start = -(-stream.position // alignment) * alignment
    return header


def tensor_bytes(tensor: TensorInfo) -> int:
    import gguf

    try:
        block, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(tensor.ggml_type)]
    except (ValueError, KeyError):
        raise HeaderError(f"tensor {tensor.name} has an unknown type {tensor.ggml_type}") from None
    return tensor.n_elements // block * type_size


def check_tensor_data(header: GGUFHeader) -> None:
    """A file cut short still has a readable header; its tensor table then runs past the end."""
    end = max((header.data_start + t.offset + tensor_bytes(t) for t in header.tensors), default=0)
    if end > header.file_size:
        raise HeaderError(
            f"the file ends at byte {header.file_size} but its tensor table needs {end} bytes: "
            "truncated download?"
        )


def _value(stream: _Stream, kind: int, key: str) -> Any:
    if kind in SCALARS:
        return stream.scalar(SCALARS[kind], f"the value of {key}")
    if kind == STRING:
        return stream.string(f"the value of {key}")
    if kind != ARRAY:
        raise HeaderError(f"key {key} has an unknown value type {kind}")
    item_type = stream.scalar("<I", f"the item type of {key}")
    count = stream.scalar("<Q", f"the length of {key}")
    if count > SMALL_ARRAY:
        if item_type in SCALARS:
            stream.skip(count * struct.calcsize(SCALARS[item_type]), f"the items of {key}")
        elif item_type == STRING:
            for _ in range(count):
                stream.skip(stream.scalar("<Q", f"an item of {key}"), f"an item of {key}")
        else:
            raise HeaderError(f"key {key} is an array of type {item_type}, which GGUF has not")
        return ArrayInfo(count, item_type)
    return [_value(stream, item_type, key) for _ in range(count)]
