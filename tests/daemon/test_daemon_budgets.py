"""Answer budgets per format and mode (engine/budgets.py), bounded by the context and refused
before queueing with the numbers; counted with the real SmolLM2 tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from daemon_helpers import make_paper
from papercycle.daemon.config import Config, ModelConfig
from papercycle.daemon.engine import budgets
from papercycle.daemon.engine import review as engine
from papercycle.daemon.models.registry import Registry
from papercycle.latex import Project


def smollm2(gguf: Path, n_ctx: int = 8192, fmt: str = "deepreviewer", **sampling) -> ModelConfig:
    return ModelConfig(name="smollm2", path=str(gguf), format=fmt, n_ctx=n_ctx, sampling=sampling)


@pytest.mark.parametrize(
    ("fmt", "mode", "tokens"),
    [
        ("deepreviewer", "standard", 20480),
        ("deepreviewer", "best", 18432),
        ("deepreviewer", "fast", 4096),
        ("cyclereviewer", "standard", 4096),
        ("cycleresearcher", "paper", 19456),
        ("section", "section", 2048),
    ],
)
def test_defaults_follow_the_real_outputs(fmt, mode, tokens) -> None:
    model = ModelConfig(name="m", path="/m.gguf", format=fmt)
    assert budgets.settings_for(model, fmt, mode)["max_tokens"] == tokens


def test_a_models_own_max_tokens_wins_and_is_held_to() -> None:
    model = ModelConfig(name="m", path="/m.gguf", n_ctx=4096, sampling={"max_tokens": 3000})
    settings = budgets.settings_for(model, "deepreviewer", "standard")
    assert settings["max_tokens"] == 3000
    with pytest.raises(budgets.BudgetError, match=r"needs 4100 tokens \(1100 of prompt \+ 3000"):
        budgets.fit(model, "the paper", "standard", 1100, dict(settings))
    budgets.fit(model, "the paper", "standard", 1000, settings)
    assert settings["max_tokens"] == 3000


def test_a_default_is_bounded_by_the_room_the_prompt_leaves() -> None:
    model = ModelConfig(name="m", path="/m.gguf", n_ctx=16384)
    settings = budgets.settings_for(model, "deepreviewer", "standard")
    budgets.fit(model, "the paper", "standard", 9000, settings)
    assert settings["max_tokens"] == 16384 - 9000
    with pytest.raises(budgets.BudgetError) as refused:
        budgets.fit(model, "the paper", "standard", 12000, dict(settings, max_tokens=20480))
    message = str(refused.value)
    assert "(12000 of prompt + 5120 for the answer)" in message
    assert "holds 16384 (n_ctx) and a standard answer is typically 20480" in message


def test_the_real_paper_prompt_is_bounded_or_refused(tmp_path: Path, smollm2_gguf: Path) -> None:
    registry = Registry(Config())
    project = Project.build(make_paper(tmp_path / "p"))
    request = engine.prepare_paper(project, smollm2(smollm2_gguf), "standard")
    key = request.key
    engine.check_context(request, registry.count_tokens)
    assert request.prompt_tokens and request.prompt_tokens > 100
    assert request.settings["max_tokens"] == 8192 - request.prompt_tokens
    assert request.key == key  # the bound follows from the prompt: the key is unchanged
    fast = engine.prepare_paper(project, smollm2(smollm2_gguf), "fast")
    engine.check_context(fast, registry.count_tokens)
    assert fast.settings["max_tokens"] == 4096
    small = engine.prepare_paper(project, smollm2(smollm2_gguf, n_ctx=2048), "standard")
    with pytest.raises(engine.ReviewError, match=r"for the answer\) but its context holds 2048"):
        engine.check_context(small, registry.count_tokens)
    registry.unload_all()


def test_sampling_defaults_per_format_for_real_models_only() -> None:
    real = ModelConfig(name="m", path="/m.gguf", format="cyclereviewer")
    assert budgets.settings_for(real, "cyclereviewer", "standard")["repeat_penalty"] == 1.05
    own = ModelConfig(name="m", path="/m.gguf", sampling={"repeat_penalty": 1.2})
    assert budgets.settings_for(own, "deepreviewer", "fast")["repeat_penalty"] == 1.2
    forced = ModelConfig(name="m", path="/m.gguf", structured=True)
    assert "repeat_penalty" not in budgets.settings_for(forced, "deepreviewer", "fast")
