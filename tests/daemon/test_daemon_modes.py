"""Modes are honest: a mode a format does not have is mapped to its one mode and the result says
so; a section reviewed by a model that does not write section reviews gets its own prompt,
without a grammar, anchored inside the section; the section grammar's free text is Unicode."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_helpers import make_paper
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import review as engine
from papercycle.formats import gbnf
from papercycle.latex import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.build(make_paper(tmp_path / "p"))


def model(gguf: Path, fmt: str, structured: bool = False) -> ModelConfig:
    return ModelConfig(name="m", path=str(gguf), format=fmt, n_ctx=8192, structured=structured)


@pytest.mark.parametrize("fmt", ["cyclereviewer", "aiscientist", "openreviewer"])
def test_fast_asked_of_a_one_prompt_format_is_its_standard_and_says_so(
    project, smollm2_gguf, fmt
) -> None:
    request = engine.prepare_paper(project, model(smollm2_gguf, fmt), "fast")
    standard = engine.prepare_paper(project, model(smollm2_gguf, fmt), "standard")
    assert (request.mode, request.mode_asked) == ("standard", "fast")
    assert request.key == standard.key  # the same review, not a second one labelled fast
    result = engine.finish(project, request, "")
    assert result["mode"] == "standard" and result["mode_asked"] == "fast"
    assert (
        result["warnings"][0]
        == f"model 'm' ({fmt}) has no fast mode: reviewed in its standard mode"
    )
    assert "mode_asked" not in engine.finish(project, standard, "")


def test_deepreviewer_modes_are_its_own(project, smollm2_gguf) -> None:
    for mode in ("fast", "standard"):
        request = engine.prepare_paper(project, model(smollm2_gguf, "deepreviewer"), mode)
        assert (request.mode, request.mode_asked) == (mode, None)


def test_a_section_is_reviewed_in_the_models_own_format(
    project, smollm2_gguf, shared_dir: Path
) -> None:
    part = engine.find_section(project, "Method")
    request = engine.prepare_section(project, model(smollm2_gguf, "deepreviewer"), part)
    assert request.grammar is None  # never the section format forced on it
    assert request.mode == "fast" and request.prompt_version.endswith("-section")
    assert "Each token picks one expert by a learned gate." in request.prompt
    assert "Table 1 shows results" not in request.prompt  # the section alone
    # a real DeepReviewer Fast answer, as if written about this section
    raw = (
        shared_dir / "data/reviewer-outputs/deepreviewer_sample_syoLhUJmth_fast_mode.txt"
    ).read_text(encoding="utf-8")
    result = engine.finish(project, request, raw.split("\n", 1)[1])
    assert result["kind"] == "section" and result["format"] == "deepreviewer"
    assert result["comments"] and result["scores"]
    lines = {c["anchor"]["range"]["lsp"]["start"]["line"] for c in result["comments"]}
    method = part.node.range
    first = project.range_dict(method)["lsp"]["start"]["line"]
    experiments = engine.find_section(project, "Experiments").node.range
    last = project.range_dict(experiments)["lsp"]["start"]["line"]
    assert all(first <= line < last for line in lines), (lines, first, last)


def test_section_grammar_free_text_is_unicode_for_real_models(project, smollm2_gguf) -> None:
    part = engine.find_section(project, "Method")
    real = engine.prepare_section(project, model(smollm2_gguf, "section"), part)
    forced = engine.prepare_section(project, model(smollm2_gguf, "section", True), part)
    assert gbnf.JSON_CHAR in real.grammar and gbnf.JSON_ASCII_CHAR not in real.grammar
    assert gbnf.JSON_ASCII_CHAR in forced.grammar  # random-weight models: gbnf.py says why
