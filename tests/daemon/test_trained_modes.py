"""A fine-tuned reviewer says in its GGUF which format and review modes it was trained for
(`papercycle.reviewer.format` / `.modes`, written by the export from the checkpoint's
papercycle-reviewer.json); the daemon offers those modes, reviews a mode it was not trained
for in one it was with a first warning, and `models add`/`list`/`doctor` say it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from daemon_helpers import make_paper
from home_helpers import make_home
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import review as engine
from papercycle.daemon.handlers.review import _offers_best
from papercycle.daemon.models.gguf_metadata import read_gguf_metadata
from papercycle.daemon.models.registry import check_model
from papercycle.latex import Project
from papercycle.trainer.export import reviewer_metadata
from test_daemon_cli import papercycle

FAST_ONLY = {"format": "deepreviewer", "modes": ["fast"]}


@pytest.fixture(scope="module")
def fast_only_gguf(tiny_gguf, tmp_path_factory) -> Path:
    """The tiny GGUF with the two keys written by the export's own writer (gguf-py)."""
    path = tmp_path_factory.mktemp("stamped") / "my-deepreviewer-f16.gguf"
    shutil.copy(tiny_gguf, path)
    reviewer_metadata.stamp(path, FAST_ONLY)
    return path


def model(gguf: Path, fmt: str) -> ModelConfig:
    return ModelConfig(name="mine", path=str(gguf), format=fmt, n_ctx=2048)


def test_the_keys_are_written_into_a_gguf_that_still_loads(fast_only_gguf, tiny_gguf) -> None:
    meta = read_gguf_metadata(fast_only_gguf)
    assert (meta.trained_format, meta.trained_modes) == ("deepreviewer", ("fast",))
    before = read_gguf_metadata(tiny_gguf)
    assert before.trained_format is None and before.trained_modes is None
    assert (meta.parameters, meta.chat_template) == (before.parameters, before.chat_template)
    check_model(model(fast_only_gguf, "deepreviewer"))  # complete tensor data, a template
    from llama_cpp import Llama

    llm = Llama(str(fast_only_gguf), n_ctx=256, verbose=False)
    assert llm.n_vocab() == before.vocab_size


def test_a_mode_it_was_not_trained_for_is_reviewed_in_one_it_was(tmp_path, fast_only_gguf) -> None:
    project = Project.build(make_paper(tmp_path / "p"))
    served = model(fast_only_gguf, "deepreviewer")
    fast = engine.prepare_paper(project, served, "fast")
    assert (fast.mode, fast.mode_asked) == ("fast", None)
    for asked in ("standard", "best"):
        request = engine.prepare_paper(project, served, asked)
        assert (request.mode, request.mode_asked) == ("fast", asked)
        assert request.key == fast.key  # the same Fast review, not one labelled Standard
        result = engine.finish(project, request, "")
        assert result["mode"] == "fast" and result["mode_asked"] == asked
        assert result["warnings"][0] == (
            f"model 'mine' was trained for deepreviewer, fast mode only (its GGUF's "
            f"papercycle.reviewer.modes), not {asked}: reviewed in its fast mode"
        )
    assert not _offers_best(served)  # Best Mode's two turns are not run for it


def test_without_the_keys_every_mode_of_the_format_is_offered(tmp_path, tiny_gguf) -> None:
    project = Project.build(make_paper(tmp_path / "p"))
    served = model(tiny_gguf, "deepreviewer")
    for mode in ("fast", "standard"):
        request = engine.prepare_paper(project, served, mode)
        assert (request.mode, request.mode_asked) == (mode, None)
    assert _offers_best(served)


def test_served_in_another_format_the_keys_do_not_narrow_it(tmp_path, fast_only_gguf) -> None:
    project = Project.build(make_paper(tmp_path / "p"))
    request = engine.prepare_paper(project, model(fast_only_gguf, "cyclereviewer"), "fast")
    assert (request.mode, request.mode_asked) == ("standard", "fast")
    result = engine.finish(project, request, "")
    assert result["warnings"][0].startswith("model 'mine' (cyclereviewer) has no fast mode")


@pytest.fixture
def home(tiny_gguf):
    folder = make_home(tiny_gguf)
    yield SimpleNamespace(env={**os.environ, "PAPERCYCLE_HOME": str(folder)})
    shutil.rmtree(folder, ignore_errors=True)


def test_models_add_list_and_doctor_say_what_it_was_trained_for(home, fast_only_gguf) -> None:
    added = papercycle(home, "models", "add", "mine", str(fast_only_gguf))
    assert added.returncode == 0, added.stderr
    assert "format deepreviewer: its GGUF says it was trained for it (fast mode)" in added.stdout
    listed = json.loads(papercycle(home, "models", "list", "--json").stdout)
    (row,) = [r for r in listed if r["name"] == "mine"]
    assert row["format"] == "deepreviewer" and row["warning"] is None
    assert row["trained_for"] == {"format": "deepreviewer", "modes": ["fast"]}
    text = papercycle(home, "models", "list").stdout
    assert any(r.startswith("mine ") and "(trained: fast)" in r for r in text.splitlines())
    doctor = papercycle(home, "doctor").stdout
    (line,) = [r for r in doctor.splitlines() if "mine:" in r]
    assert line.startswith("ok") and "trained for deepreviewer, fast mode" in line


def test_served_in_another_format_add_and_doctor_warn(home, fast_only_gguf) -> None:
    added = papercycle(
        home, "models", "add", "other", str(fast_only_gguf), "--review-format", "cyclereviewer"
    )
    assert added.returncode == 0, added.stderr
    fix = f"papercycle models add other {fast_only_gguf} --force --review-format deepreviewer"
    (warning,) = [r for r in added.stderr.splitlines() if "trained for" in r]
    assert "served as cyclereviewer" in warning and warning.endswith(fix)
    doctor = papercycle(home, "doctor").stdout
    problems = [r for r in doctor.splitlines() if r.startswith("problem") and "other" in r]
    assert len(problems) == 1 and problems[0].endswith(fix), doctor


def test_a_checkpoint_sidecar_that_is_not_the_expected_json_is_one_line(tmp_path) -> None:
    (tmp_path / reviewer_metadata.SIDECAR).write_text('{"format": "deepreviewer"}')
    with pytest.raises(reviewer_metadata.ExportError) as error:
        reviewer_metadata.read_sidecar(tmp_path)
    assert str(error.value).endswith('needs "format" (a string) and "modes" (a list of strings)')
    (tmp_path / reviewer_metadata.SIDECAR).write_text("{not json")
    with pytest.raises(reviewer_metadata.ExportError, match="not readable JSON"):
        reviewer_metadata.read_sidecar(tmp_path)
    assert reviewer_metadata.read_sidecar(tmp_path / "none") is None


def test_the_export_carries_the_checkpoints_sidecar_into_the_gguf(tiny_models, tmp_path) -> None:
    from papercycle.trainer.export.pipeline import ExportOptions, export_model

    checkpoint = tmp_path / "model"
    shutil.copytree(tiny_models.hf("llama"), checkpoint)
    sidecar = {"format": "deepreviewer", "modes": ["standard"]}
    (checkpoint / reviewer_metadata.SIDECAR).write_text(json.dumps(sidecar))
    output = tmp_path / "mine-f16.gguf"
    manifest = json.loads((checkpoint / "papercycle-tiny.json").read_text())
    options = ExportOptions(quant="f16", pre_tokenizer=manifest["pre_tokenizer"])
    exported = export_model(checkpoint, output, options)
    assert exported.report is not None and exported.report.passed  # verified after the stamp
    meta = read_gguf_metadata(output)
    assert (meta.trained_format, meta.trained_modes) == ("deepreviewer", ("standard",))


@pytest.mark.parametrize(
    ("fmt", "mode", "modes"),
    [("deepreviewer", "best", ["best"]), ("cyclereviewer", "fast", ["standard"])],
)
def test_sft_writes_the_daemons_mode_names(tmp_path, fmt, mode, modes) -> None:
    from papercycle.trainer.recipes.sft import write_reviewer_metadata

    config = SimpleNamespace(reviewer_format=fmt, reviewer_mode=mode)
    write_reviewer_metadata(tmp_path, config)  # type: ignore[arg-type]
    assert reviewer_metadata.read_sidecar(tmp_path) == {"format": fmt, "modes": modes}
    assert set(modes) <= set(engine.FORMAT_MODES[fmt])
