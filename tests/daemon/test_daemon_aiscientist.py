"""The AI Scientist reviewer as its authors run it (engine/aiscientist_run.py), through the daemon
with the real SmolLM2-135M-Instruct registered as an `aiscientist` reviewer: N-way ensembling
with the meta review, reflection rounds, few-shot examples the user points to; the params
checked with one clear line each; `papercycle review --reflections/--ensemble/--few-shot`.

Budgets are small (the machine is shared): asserted is what the product does with the answers,
readable or not — a result that says how many answers were read and how many rounds ran, never
a crash — not the wording.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from daemon_helpers import Home, serve_home
from home_helpers import PAPER

BUDGET = 16
FORM_BUDGET = 400  # a grammar-forced form: a short thought and the JSON fit
MODELS = [
    # name, format, structured, max_tokens
    ("smol-ais", "aiscientist", False, BUDGET),
    ("smol-ais-form", "aiscientist", True, FORM_BUDGET),
    ("smol-deep", "deepreviewer", False, BUDGET),
]


@pytest.fixture(scope="module")
def home(smollm2_gguf: Path):
    root = Path(tempfile.mkdtemp(prefix="pca-"))
    (root / "config").mkdir()
    entries = "".join(
        f"""
[[models]]
name = "{name}"
path = "{smollm2_gguf}"
format = "{fmt}"
n_ctx = 8192
n_threads = 2
structured = {str(structured).lower()}
[models.sampling]
max_tokens = {budget}
"""
        for name, fmt, structured, budget in MODELS
    )
    (root / "config" / "config.toml").write_text("[daemon]\nexit_after_idle = 600\n" + entries)
    yield from serve_home(root)


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("paper")
    (folder / "main.tex").write_text(PAPER)
    examples = folder / "examples"
    examples.mkdir()
    (examples / "routing.txt").write_text("We study routing. Experiments use one seed.\n")
    (examples / "routing.json").write_text(
        json.dumps({"review": {"Summary": "A routing paper.", "Weaknesses": ["One seed."]}})
    )
    return folder / "main.tex"


def review(home: Home, params: dict) -> tuple[dict, list[dict]]:
    """(result, events) of one review.paper request."""
    from papercycle.daemon.client import Client

    async def run():
        async with Client(home.paths) as client:
            stream = client.stream("review.paper", params)
            events = [event async for event in stream]
            return stream.result, events

    return asyncio.run(asyncio.wait_for(run(), 900))


def refused(home: Home, params: dict) -> str:
    """The one-line error of a request the daemon refuses."""
    from papercycle.daemon.client import DaemonError, call

    with pytest.raises(DaemonError) as caught:
        call("review.paper", params, timeout=120, paths=home.paths)
    assert caught.value.code == "bad-request", caught.value.message
    assert "\n" not in caught.value.message and "Traceback" not in caught.value.message
    return caught.value.message


def rounds_events(events: list[dict]) -> list[tuple[str, int]]:
    return [
        (e["step"], e["index"])
        for e in events
        if e.get("event") == "progress" and e.get("stage") == "aiscientist"
    ]


def test_ensemble_and_reflection_of_unreadable_answers(home, paper) -> None:
    """Cut 16-token answers: nothing is readable, and the result says so, round by round."""
    params = {"path": str(paper), "model": "smol-ais", "ensemble": 2, "reflections": 1}
    result, events = review(home, params)
    ai = result["aiscientist"]
    assert (ai["ensemble"], ai["reflections"], ai["reflections_run"]) == (2, 1, 1)
    steps = [(s["step"], s["index"]) for s in ai["steps"]]
    samples = [s for s in ai["steps"] if s["step"] == "sample"]
    assert [s["seed"] for s in samples] == [0, 1]  # independent answers: different seeds
    assert ai["answers_read"] == sum(s["readable"] for s in samples)
    if ai["answers_read"] == 0:  # no meta review of nothing
        assert steps == [("sample", 1), ("sample", 2), ("reflection", 1)]
        assert any("none of the 2 answers could be read" in w for w in result["warnings"])
    else:
        assert ("meta review", 1) in steps
    assert rounds_events(events) == steps  # a progress event per generation, in order
    # every answer was cut at 16 tokens: the result is incomplete and says so first
    assert result["complete"] is False
    assert result["warnings"][0].startswith("AI Scientist sample 1/2: review incomplete")
    assert result["kind"] == "paper" and result["format"] == "aiscientist"
    assert result["hidden"]  # the white text is found whatever the model wrote


def test_the_params_are_in_the_cache_keys(home, paper) -> None:
    base = {"path": str(paper), "model": "smol-ais"}
    review(home, {**base, "ensemble": 2, "reflections": 1})  # (cached already if run before)
    again, _ = review(home, {**base, "ensemble": 2, "reflections": 1})
    assert again["cached"] is True
    fewer, _ = review(home, {**base, "ensemble": 2})
    assert fewer["cached"] is True and fewer["aiscientist"]["reflections_run"] == 0
    # one answer is sampled at the model's temperature, not the ensemble's: not the same input
    single, _ = review(home, {**base, "reflections": 1})
    assert [s["cached"] for s in single["aiscientist"]["steps"]] == [False, False]


def test_a_grammar_forced_form_is_read_and_combined(home, paper) -> None:
    """SmolLM2 made to write the form (structured): its answers are read, the meta review runs,
    and the scores are the readable answers' mean."""
    params = {"path": str(paper), "model": "smol-ais-form", "ensemble": 2, "reflections": 1}
    result, _ = review(home, params)
    ai = result["aiscientist"]
    assert ai["answers_read"] >= 1, result["warnings"]
    assert [s["step"] for s in ai["steps"]][:3] == ["sample", "sample", "meta review"]
    assert any(f"{ai['answers_read']} of 2 answers read" in w for w in result["warnings"])
    assert ai["meta_review"] in ("read", "unreadable")
    assert "rating" in result["scores"]
    assert result["review"]["reports"]


def test_few_shot_examples_go_into_the_prompt(home, paper) -> None:
    plain, _ = review(home, {"path": str(paper), "model": "smol-ais"})
    shot, _ = review(
        home,
        {"path": str(paper), "model": "smol-ais", "few_shot": [str(paper.parent / "examples")]},
    )
    assert shot["aiscientist"]["few_shot"] == ["routing"]
    assert shot["generation"]["prompt_tokens"] > plain["generation"]["prompt_tokens"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"reflections": 6}, "reflections = 6 is not a whole number 0-5"),
        ({"reflections": True}, "reflections = True is not a whole number 0-5"),
        ({"ensemble": 0}, "ensemble = 0 is not a whole number 1-8"),
        ({"ensemble": "2"}, "ensemble = '2' is not a whole number 1-8"),
        ({"few_shot": 5}, "few_shot is a list of paths"),
        ({"few_shot": ["/etc"]}, "few_shot: /etc is outside the project and not in a folder"),
        ({"few_shot": ["missing"]}, "does not exist"),
        ({"few_shot": ["main.tex"]}, "main.tex: no review beside it (main.json)"),
    ],
)
def test_bad_values_are_refused_in_one_line(home, paper, extra, message) -> None:
    assert message in refused(home, {"path": str(paper), "model": "smol-ais", **extra})


def test_a_broken_example_is_named(home, paper) -> None:
    folder = paper.parent / "broken"
    folder.mkdir(exist_ok=True)
    (folder / "ex.tex").write_text("A paper.")
    (folder / "ex.json").write_text("{not json")
    message = refused(home, {"path": str(paper), "model": "smol-ais", "few_shot": [str(folder)]})
    assert f"{folder / 'ex.json'}: not JSON (line 1:" in message


def test_another_format_is_not_given_the_ai_scientist_scheme(home, paper) -> None:
    message = refused(home, {"path": str(paper), "model": "smol-deep", "reflections": 1})
    assert "format aiscientist" in message and "'smol-deep' is deepreviewer" in message
    from papercycle.daemon.client import DaemonError, call

    with pytest.raises(DaemonError, match="apply to whole-paper reviews"):
        call(
            "review.section",
            {"path": str(paper), "section": "Method", "model": "smol-ais", "ensemble": 2},
            timeout=120,
            paths=home.paths,
        )


def papercycle(home: Home, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli.main", *args],
        env=home.env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_review_with_rounds(home, paper) -> None:
    ok = papercycle(
        home, "review", str(paper), "--model", "smol-ais", "--ensemble", "2", "--reflections", "1"
    )
    assert ok.returncode == 0, ok.stderr
    assert "of 2 answers read" in ok.stdout and "1 of 1 reflection round(s)" in ok.stdout
    refused_cli = papercycle(home, "review", str(paper), "--model", "smol-deep", "--ensemble", "2")
    assert refused_cli.returncode == 2
    assert refused_cli.stderr.count("\n") == 1 and "format aiscientist" in refused_cli.stderr
    sections = papercycle(home, "review", str(paper), "--section", "Method", "--reflections", "1")
    assert sections.returncode == 2 and "whole-paper reviews" in sections.stderr
