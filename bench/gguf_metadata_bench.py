"""How long reading a GGUF's metadata takes (issue 17): the streaming header reader
(daemon/models/gguf_header.py) against the `gguf` package's GGUFReader that it replaced, on a
vocabulary-only file (150,000 tokens, scores and types: the case that took half a minute) and
on the SmolLM2-135M GGUF when installed. Written to bench/results/gguf_metadata.json.

    .venv/bin/python bench/gguf_metadata_bench.py [--out bench/results/gguf_metadata.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import gguf
from papercycle.daemon.models.gguf_metadata import read_gguf_metadata


def vocabulary_only(path: Path, tokens: int = 150_000) -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_token_list([f"token{i:06d}-piece-of-a-word".encode() for i in range(tokens)])
    writer.add_token_types([1] * tokens)
    writer.add_token_scores([0.0] * tokens)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def best_of(function, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def the_gguf_package(path: Path) -> None:
    reader = gguf.GGUFReader(path)
    {name: field.parts for name, field in reader.fields.items()}  # what the old reader built


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bench/results/gguf_metadata.json")
    out = Path(parser.parse_args().out)
    files = {}
    with tempfile.TemporaryDirectory() as folder:
        files["vocabulary-only, 150,000 tokens"] = vocabulary_only(Path(folder) / "vocab.gguf")
        try:
            from papercycle.daemon.models import catalogue

            files["SmolLM2-135M-Instruct"] = catalogue.find("smollm2-135m-instruct").path()
        except Exception as error:  # not installed: the vocabulary case alone
            print(f"SmolLM2 skipped: {error}")
        results = []
        for label, path in files.items():
            row = {
                "file": label,
                "megabytes": round(path.stat().st_size / 1e6, 1),
                "streaming_s": round(best_of(lambda p=path: read_gguf_metadata(p)), 3),
                "gguf_reader_s": round(best_of(lambda p=path: the_gguf_package(p), 1), 3),
            }
            results.append(row)
            print(row)
    report = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg(),
        "results": results,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
