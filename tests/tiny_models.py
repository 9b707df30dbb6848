"""Tiny models and their GGUFs for the test suite, built once and cached on disk.

The cache key is a hash of the builder's and the exporter's sources (and the llama.cpp
version), so editing either rebuilds; everything is built through the `papercycle` CLI in
subprocesses, which keeps torch out of the test process (torch and llama.cpp in one process
fight over OpenMP threads).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import subprocess
import sys
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = [REPO_ROOT / "trainer" / "tiny", REPO_ROOT / "trainer" / "export"]
TRAIN_STEPS = 60
PRE_TOKENIZER = {"llama": "gpt-2", "mistral": "gpt-2", "phi3": "gpt-2", "qwen2": "qwen2"}


def source_key() -> str:
    # the corpus holds standard-library source: another Python, another vocabulary
    digest = hashlib.sha256(f"{version('llama-cpp-python')} {sys.version}".encode())
    for folder in SOURCES:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".jinja"):
                digest.update(path.relative_to(REPO_ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def papercycle(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", *args], capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"papercycle {' '.join(args)} failed:\n{result.stderr}")
    return result


class TinyModels:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def _locked(self):
        # Several pytest sessions may share the cache; builds must not interleave.
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _build(self, name: str, make) -> Path:
        target = self.root / name
        with self._locked():
            if not target.exists():
                staging = self.root / f".{name}.staging"
                shutil.rmtree(staging, ignore_errors=True)
                staging.unlink(missing_ok=True)
                make(staging)
                staging.rename(target)
        return target

    def hf(self, arch: str) -> Path:
        steps = TRAIN_STEPS if arch in ("llama", "qwen2") else 0
        return self._build(
            f"hf-{arch}",
            lambda out: papercycle("tiny", str(out), "--arch", arch, "--train-steps", str(steps)),
        )

    def lora(self) -> Path:
        base = self.hf("llama")

        def make(out: Path) -> None:
            code = (
                "import sys; from pathlib import Path; "
                "from papercycle.trainer.tiny import build_tiny_lora; "
                "build_tiny_lora(Path(sys.argv[1]), Path(sys.argv[2]))"
            )
            subprocess.run(
                [sys.executable, "-c", code, str(base), str(out)], check=True, capture_output=True
            )

        return self._build("lora-llama", make)

    def gguf(self, arch: str, quant: str) -> tuple[Path, dict]:
        """A verified export and its verification report."""
        source = self.hf(arch)
        return self._export(f"{arch}-{quant}", source, quant, PRE_TOKENIZER[arch])

    def lora_merged(self) -> tuple[Path, dict]:
        return self._export("lora-merged-f16", self.lora(), "f16", "gpt-2")

    def lora_adapter(self) -> tuple[Path, dict]:
        base_gguf, _ = self.gguf("llama", "f32")
        return self._export(
            "lora-adapter-f16",
            self.lora(),
            "f16",
            "gpt-2",
            "--as-adapter",
            "--base-gguf",
            str(base_gguf),
        )

    def _export(
        self, name: str, source: Path, quant: str, pre: str, *extra: str
    ) -> tuple[Path, dict]:
        def make(out: Path) -> None:
            out.mkdir()
            papercycle(
                "export", str(source), "-o", str(out / "model.gguf"), "--quant", quant,
                "--pre-tokenizer", pre, "--report", str(out / "report.json"), *extra,
            )  # fmt: skip

        folder = self._build(f"gguf-{name}", make)
        return folder / "model.gguf", json.loads((folder / "report.json").read_text())

    def content_digests(self) -> dict[str, str]:
        """sha256 of each model built so far, over its files' names and bytes: the builds are
        deterministic, so two fresh clones print the same digests. A verification report is
        left out: it names the folder it was written in."""
        digests = {}
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name[0] != "."):
            digest = hashlib.sha256()
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != "report.json":
                    digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
            digests[folder.name] = digest.hexdigest()
        return digests

    def digest_lines(self) -> list[str]:
        """One line per model built so far: its name and content hash (the build's and pytest's
        summary print these)."""
        return [f"{name:<24} sha256 {digest}" for name, digest in self.content_digests().items()]


def default_store() -> TinyModels:
    return TinyModels(REPO_ROOT / ".cache" / "test-models" / source_key())


# Every model the suite asks for, built by `make test-models` before pytest runs (a test still
# builds a missing one itself, so pytest alone works).
EXPORTS = [
    ("llama", "f32"), ("llama", "f16"), ("llama", "Q8_0"), ("llama", "Q4_K_M"),
    ("qwen2", "f32"), ("qwen2", "f16"), ("qwen2", "Q8_0"), ("qwen2", "Q4_K_M"),
    ("mistral", "f16"), ("phi3", "f16"),
]  # fmt: skip


def build_all(store: TinyModels) -> None:
    for arch, quant in EXPORTS:
        store.gguf(arch, quant)
    store.lora_merged()
    store.lora_adapter()


if __name__ == "__main__":
    store = default_store()
    build_all(store)
    print(f"tiny test models in {store.root.relative_to(REPO_ROOT)}")
    print("\n".join(store.digest_lines()))
