"""llama.cpp's own converter scripts, from the exact llama.cpp that llama-cpp-python vendors.

The wheel does not ship them; the llama-cpp-python sdist does (vendor/llama.cpp). On first use
pip downloads that sdist into the user cache and only the converter files are unpacked:
`convert_hf_to_gguf.py`, `convert_lora_to_gguf.py`, the `conversion/` package and llama.cpp's
own `gguf-py` (the PyPI `gguf` package cannot replace it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib.metadata import version
from pathlib import Path

import platformdirs
from papercycle.trainer.export.errors import ExportError

_WANTED = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "conversion/", "gguf-py/", "LICENSE")


def llama_cpp_python_version() -> str:
    return version("llama-cpp-python")


def converter_dir(llama_cpp_dir: Path | None = None) -> Path:
    """A directory holding llama.cpp's converter: the given checkout, or the cached sdist copy."""
    if llama_cpp_dir is not None:
        _check_converter_dir(llama_cpp_dir, f"--llama-cpp-dir {llama_cpp_dir}")
        return llama_cpp_dir
    cached = (
        Path(platformdirs.user_cache_dir("papercycle")) / f"llama.cpp-{llama_cpp_python_version()}"
    )
    if not (cached / ".complete").exists():
        _fetch_into(cached)
    return cached


def _check_converter_dir(path: Path, what: str) -> None:
    for name in ("convert_hf_to_gguf.py", "gguf-py"):
        if not (path / name).exists():
            raise ExportError(f"{what}: no {name} there (expected a llama.cpp checkout)")


def _fetch_into(target: Path) -> None:
    ver = llama_cpp_python_version()
    with tempfile.TemporaryDirectory(prefix="papercycle-sdist-") as tmp:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
            f"llama-cpp-python=={ver}", "--dest", tmp,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        archives = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if result.returncode != 0 and not archives:
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise ExportError(
                f"could not download the llama-cpp-python {ver} sdist for llama.cpp's converter "
                f"({last}); on an offline machine pass --llama-cpp-dir PATH_TO_LLAMA_CPP"
            )
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=_mkparent(target)))
        try:
            _extract_converter(archives[0], staging)
            _check_converter_dir(staging, f"sdist {archives[0].name}")
            (staging / ".complete").write_text(ver)
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _mkparent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent


def _extract_converter(archive: Path, dest: Path) -> None:
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            _, _, inner = member.name.partition("/vendor/llama.cpp/")
            if (
                not inner
                or not inner.startswith(_WANTED)
                or not (member.isfile() or member.isdir())
            ):
                continue
            member.name = inner
            tar.extract(member, dest, filter="data")
