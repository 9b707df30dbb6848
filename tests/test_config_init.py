"""`papercycle config init`: a commented template of every setting, that loads back to the
defaults (with the embedded model registered, as a first run would), and never overwrites a
configuration unless asked."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

from papercycle.daemon.config import Config, DaemonSettings, ModelConfig
from papercycle.daemon.models.catalogue import entries


def run_in(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERCYCLE_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli", *args], capture_output=True, text=True, env=env
    )


def test_the_template_loads_back_to_the_defaults(tmp_path):
    result = run_in(tmp_path, "config", "init")
    assert result.returncode == 0, result.stderr
    file = tmp_path / "config" / "config.toml"
    assert result.stdout.startswith(f"wrote {file}")
    assert (file.stat().st_mode & 0o777) == 0o600  # it will hold the user's models
    config = Config.load(file)
    assert config.daemon == DaemonSettings()
    assert config.trusted == []
    default = next(e for e in entries().values() if e.default)
    # the embedded model is installed with the test environment: registered as a first run does
    assert list(config.models) == [default.name]
    assert config.models[default.name] == default.model_config()


def test_every_key_is_in_the_template_with_a_meaning(tmp_path):
    assert run_in(tmp_path, "config", "init").returncode == 0
    lines = (tmp_path / "config" / "config.toml").read_text().splitlines()
    for item in fields(DaemonSettings):
        (line,) = [x for x in lines if x.startswith(f"{item.name} = ")]
        assert "# " in line and len(line.split("# ", 1)[1]) > 10, line
    for item in fields(ModelConfig):
        key = "[models.sampling]" if item.name == "sampling" else f"{item.name} = "
        (line,) = [x for x in lines if x.startswith(f"# {key}")]
        assert len(line.split("# ", 2)[2]) > 5, line


def test_the_commented_example_is_a_valid_model(tmp_path):
    """Uncommenting the example gives an entry the configuration accepts."""
    assert run_in(tmp_path, "config", "init").returncode == 0
    file = tmp_path / "config" / "config.toml"
    lines = file.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# One [[models]]")) + 1
    example = []
    for line in lines[start:]:
        if not line.startswith("# "):
            break
        example.append(line[2:].split(" # ")[0].rstrip())
    file.write_text("[[models]]\n" + "\n".join(example) + "\n")
    model = Config.load(file).models["my-reviewer"]
    assert model.path == "/models/my-reviewer-Q4_K_M.gguf"
    assert model.settings()["temperature"] == 0.4


def test_an_existing_configuration_is_kept_unless_forced(tmp_path):
    file = tmp_path / "config" / "config.toml"
    file.parent.mkdir(parents=True)
    file.write_text('[[models]]\nname = "mine"\npath = "/m.gguf"\n')
    refused = run_in(tmp_path, "config", "init")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"papercycle: error: {file} exists (its models would be lost); "
        "`papercycle config init --force` replaces it"
    )
    assert "mine" in file.read_text()
    forced = run_in(tmp_path, "config", "init", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "mine" not in Config.load(file).models


def test_config_path_names_the_file(tmp_path):
    result = run_in(tmp_path, "config", "path")
    assert result.stdout.strip() == str(tmp_path / "config" / "config.toml")
