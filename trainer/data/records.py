"""Read dataset files as plain records: jsonl (optionally gzipped), json, csv, parquet, or a
Hugging Face `datasets` directory (`save_to_disk`, or a downloaded dataset repository).

The hubs are not reachable from every machine that trains, so datasets are always local.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".parquet")


class DataError(ValueError):
    """A dataset that cannot be read; one line naming the file."""


def read_records(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir():
        return list(_read_directory(path, split))
    return list(_read_file(path))


def _read_directory(path: Path, split: str | None) -> Iterator[dict[str, Any]]:
    if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
        from datasets import DatasetDict, load_from_disk

        dataset = load_from_disk(str(path))
        if isinstance(dataset, DatasetDict):
            if split is None:
                split = "train" if "train" in dataset else next(iter(dataset))
            dataset = dataset[split]
        yield from dataset
        return
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
    if split is not None:  # a hub repository's layout: data/train-*.parquet, test.csv, ...
        files = [p for p in files if split in p.name]
    if not files:
        raise DataError(f"{path}: no {', '.join(SUFFIXES)} files found")
    for file in files:
        yield from _read_file(file)


def _read_file(path: Path) -> Iterator[dict[str, Any]]:
    name = path.name
    opener = gzip.open if name.endswith(".gz") else open
    try:
        if name.endswith((".jsonl", ".jsonl.gz")):
            with opener(path, "rt", encoding="utf-8") as handle:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        try:
                            yield json.loads(line)
                        except json.JSONDecodeError as error:
                            raise DataError(f"{path}:{number}: not JSON ({error.msg})") from None
        elif name.endswith((".json", ".json.gz")):
            with opener(path, "rt", encoding="utf-8") as handle:
                data = json.load(handle)
            yield from data if isinstance(data, list) else [data]
        elif name.endswith(".csv"):
            csv.field_size_limit(2**31 - 1)  # papers in one cell
            with path.open(newline="", encoding="utf-8") as handle:
                yield from csv.DictReader(handle)
        elif name.endswith(".parquet"):
            import pyarrow.parquet as pq

            yield from pq.read_table(path).to_pylist()
        else:
            raise DataError(f"{path}: unknown data format (expected {', '.join(SUFFIXES)})")
    except OSError as error:
        raise DataError(f"{path}: {error.strerror or error}") from None


def maybe_json(value: Any) -> Any:
    """CSV exports store lists and objects as JSON strings; read them back."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value
