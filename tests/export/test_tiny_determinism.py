"""The tiny test models are the same bytes on every machine and in every clone (issue 14):
a test's tolerance is then measured once, not met by luck. `make test` prints each model's
sha256 (tests/conftest.py); this test builds the one model whose files used to name the folder
it was built in — the LoRA adapter, whose config and model card held its base's absolute path
— in two folders, and compares the bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BUILD = (
    "import sys; from pathlib import Path; from papercycle.trainer.tiny import build_tiny_lora; "
    "build_tiny_lora(*map(Path, sys.argv[1:]))"
)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_lora_adapter_built_in_two_folders_is_the_same_bytes(tiny_models, tmp_path):
    """Each build in a process of its own with its own string-hash seed, as two clones build
    it (peft keeps the target modules in a set)."""
    built = []
    for place, hash_seed in (("one", "1"), ("another/deeper", "2")):
        base = tmp_path / place / "hf-llama"
        shutil.copytree(tiny_models.hf("llama"), base)
        out = tmp_path / place / "lora-llama"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        command = [sys.executable, "-c", BUILD, str(base), str(out)]
        subprocess.run(command, env=env, check=True, timeout=600)
        built.append(out)
    first, second = (_files(folder) for folder in built)
    assert "adapter_config.json" in first and len(first) >= 2
    assert first == second
    assert str(tmp_path).encode() not in b"".join(first.values())
