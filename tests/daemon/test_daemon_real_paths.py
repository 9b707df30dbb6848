"""Every product path of the daemon with the real SmolLM2-135M-Instruct, unconstrained: whole-
paper reviews in each format, a section review, Best Mode's two turns, a draft, a plan, a
rubric extraction and grading. Budgets are tiny (the machine is slow): what is asserted is what
the product does with a cut, unreadable answer — a result, never a crash; marked incomplete
with the reason; never a format forced on the model — not the model's wording.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from daemon_helpers import Home, serve_home
from home_helpers import PAPER

BUDGET = 16
MODELS = [
    # name, role, format
    ("smol-deep", "reviewer", "deepreviewer"),
    ("smol-cycle", "reviewer", "cyclereviewer"),
    ("smol-ais", "reviewer", "aiscientist"),
    ("smol-researcher", "researcher", "section"),
    ("smol-grader", "grader", "section"),
]


@pytest.fixture(scope="module")
def home(smollm2_gguf: Path):
    root = Path(tempfile.mkdtemp(prefix="pcp-"))
    (root / "config").mkdir()
    entries = "".join(
        f"""
[[models]]
name = "{name}"
path = "{smollm2_gguf}"
role = "{role}"
format = "{fmt}"
n_ctx = 8192
n_threads = 2
[models.sampling]
max_tokens = {BUDGET}
"""
        for name, role, fmt in MODELS
    )
    (root / "config" / "config.toml").write_text("[daemon]\nexit_after_idle = 600\n" + entries)
    yield from serve_home(root)


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("paper")
    (folder / "main.tex").write_text(PAPER)
    return folder / "main.tex"


def call(home: Home, kind: str, params: dict) -> dict:
    from papercycle.daemon.client import call as daemon_call

    return daemon_call(kind, params, timeout=900, paths=home.paths)


def assert_cut_and_said(result: dict) -> None:
    """A 16-token answer is cut: the result says so, with the reason, first."""
    assert result["complete"] is False, result.get("generation")
    assert result["incomplete"]["reason"] == "length"
    assert "incomplete" in result["warnings"][0]


@pytest.mark.parametrize(
    ("model", "mode"),
    [("smol-deep", "fast"), ("smol-cycle", "standard"), ("smol-ais", "standard")],
)
def test_whole_paper_review_in_each_format(home, paper, model, mode) -> None:
    result = call(home, "review.paper", {"path": str(paper), "model": model, "mode": mode})
    assert result["kind"] == "paper" and result["mode"] == mode
    assert_cut_and_said(result)
    assert result["generation"]["tokens"] <= BUDGET
    assert result["hidden"]  # the white text is found whatever the model wrote


def test_section_review_in_the_models_own_format(home, paper) -> None:
    result = call(
        home, "review.section", {"path": str(paper), "section": "Method", "model": "smol-deep"}
    )
    assert result["kind"] == "section" and result["format"] == "deepreviewer"
    assert result["section"]["name"].endswith("Method")
    assert_cut_and_said(result)


def test_best_mode_two_turns(home, paper) -> None:
    result = call(home, "review.paper", {"path": str(paper), "model": "smol-deep", "mode": "best"})
    assert result["mode"] == "best"
    assert result["best"]["turn1"]["generation"]["finish"] == "length"
    assert result["complete"] is False
    assert result["warnings"][0].startswith("Best Mode turn 1 (questions): review incomplete")


def test_draft_plan_and_rubric(home, paper) -> None:
    draft = call(
        home, "draft.section", {"path": str(paper), "section": "Method", "model": "smol-researcher"}
    )
    assert draft["kind"] == "draft"
    assert_cut_and_said(draft)
    plan = call(home, "plan", {"goal": "Make sparse routing stable.", "model": "smol-researcher"})
    assert plan["kind"] == "plan"
    assert_cut_and_said(plan)
    rubric = call(home, "rubric.extract", {"path": str(paper), "model": "smol-grader"})
    assert rubric["kind"] == "rubric"
    assert_cut_and_said(rubric)
    grade = call(
        home,
        "rubric.grade",
        {
            "plan": "We add a balance loss and measure variance over five seeds.",
            "rubric": {"goal": "Stable routing", "rubric": ["Reports variance across seeds"]},
            "model": "smol-grader",
        },
    )
    assert grade["kind"] == "grade"
    assert grade["complete"] is False
