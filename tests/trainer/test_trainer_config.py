"""Recipe configs: one-line errors naming the file and the key, before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import papercycle, write_yaml
from papercycle.trainer.config import ConfigError, load_config
from papercycle.trainer.recipes.registry import RECIPES
from papercycle.trainer.recipes.sft import SFTReviewerConfig

CONFIGS = Path(__file__).resolve().parents[2] / "trainer" / "configs"


@pytest.fixture
def model_dir(tmp_path) -> Path:
    # Enough of a checkpoint for the config checks; loading it would fail, which is the point.
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


def _sft(tmp_path, model_dir, **changes) -> Path:
    data = tmp_path / "d.jsonl"
    data.write_text("")
    base = {
        "model": str(model_dir),
        "output_dir": "out",
        "data": str(data),
        "data_adapter": "review-5k",
    }
    return write_yaml(tmp_path / "c.yaml", base | changes)


def test_valid_config_and_relative_paths(tmp_path, model_dir):
    config = load_config(SFTReviewerConfig, _sft(tmp_path, model_dir, learning_rate=2e-5))
    assert config.learning_rate == 2e-5
    assert config.output_dir == tmp_path / "out"  # relative to the config file
    assert config.export_quant == "Q4_K_M"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"learnin_rate": 1}, "unknown key 'learnin_rate'"),
        ({"batch_size": "two"}, "batch_size: expected an integer, got 'two'"),
        ({"batch_size": 0}, "batch_size: must be positive"),
        ({"precision": "fp8"}, "precision: 'fp8' is not one of auto, bf16, fp32"),
        ({"data_adapter": "imagenet"}, "data_adapter: 'imagenet' is not one of"),
        ({"export_quant": "Q3"}, "export_quant:"),
        ({"lora": "yes"}, "lora: expected true or false"),
        ({"qlora": True}, "qlora: needs lora: true"),
        ({"model": "/nonexistent/model"}, "model: /nonexistent/model does not exist"),
    ],
)
def test_bad_values_are_one_line(tmp_path, model_dir, changes, message):
    path = _sft(tmp_path, model_dir, **changes)
    with pytest.raises(ConfigError) as error:
        load_config(SFTReviewerConfig, path)
    text = str(error.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_missing_key_and_yaml_syntax(tmp_path, model_dir):
    path = write_yaml(tmp_path / "c.yaml", {"model": str(model_dir), "output_dir": "out"})
    with pytest.raises(ConfigError, match="missing required key 'data'"):
        load_config(SFTReviewerConfig, path)
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: line"):
        load_config(SFTReviewerConfig, path)


def test_recipe_specific_checks(tmp_path, model_dir):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("")
    reviewer = tmp_path / "r.gguf"
    reviewer.write_bytes(b"")
    base = {
        "model": str(model_dir),
        "output_dir": "o",
        "prompts": str(prompts),
        "reviewer": str(reviewer),
    }
    with pytest.raises(ConfigError, match="drafts: at least 2"):
        load_config(RECIPES["simpo"][0], write_yaml(tmp_path / "s.yaml", base | {"drafts": 1}))
    grpo = {"model": str(model_dir), "output_dir": "o", "data": str(prompts)}
    with pytest.raises(ConfigError, match="num_generations"):
        load_config(
            RECIPES["rubric-grpo"][0],
            write_yaml(tmp_path / "g.yaml", grpo | {"num_generations": 4, "batch_size": 3}),
        )


@pytest.mark.parametrize(
    ("recipe", "name"),
    [
        ("sft-reviewer", "sft-reviewer.yaml"),
        ("sft-reviewer", "sft-deepreviewer.yaml"),
        ("sft-researcher", "sft-researcher.yaml"),
        ("simpo", "simpo.yaml"),
        ("rubric-grpo", "rubric-grpo.yaml"),
    ],
)
def test_shipped_configs_have_only_known_keys(recipe, name):
    # Their model and data paths are placeholders: the first failure must be a missing path.
    with pytest.raises(ConfigError, match=r"model: .* does not exist"):
        load_config(RECIPES[recipe][0], CONFIGS / name)


def test_accelerate_configs_parse():
    import yaml

    kinds = {}
    for path in sorted((CONFIGS / "accelerate").glob("*.yaml")):
        kinds[path.stem] = yaml.safe_load(path.read_text())["distributed_type"]
    assert kinds == {
        "deepspeed_zero2": "DEEPSPEED",
        "deepspeed_zero3": "DEEPSPEED",
        "fsdp": "FSDP",
        "multi_gpu": "MULTI_GPU",
    }


def test_cli_config_error_before_any_model_loads(tmp_path, model_dir):
    # The "model" has an empty config.json: loading it would raise a long traceback; a
    # one-line error about the key shows the config was rejected first.
    path = _sft(tmp_path, model_dir, max_steps=0)
    result = papercycle("train", "sft-reviewer", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"papercycle: error: {path}: max_steps: must be positive or -1, got 0"
    ]
    checked = papercycle(
        "train", "sft-reviewer", "--config", str(_sft(tmp_path, model_dir)), "--check"
    )
    assert checked.returncode == 0 and "valid sft-reviewer config" in checked.stdout
    override = papercycle("train", "sft-reviewer", "--config", str(path), "--set", "nope=1")
    assert "unknown key 'nope'" in override.stderr
