"""The co-author through a real daemon with tiny random-weight models: each draft kind streams
into a result whose citations all exist in the .bib; drafted results carry their markers on
the way to the file; Best Mode runs two turns with passages retrieved from the test .bib;
rubric extraction and grading give valid JSON under their grammars; a plan has its sections."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import jsonschema
import pytest
from coauthor_helpers import MEASURED, draft_paper
from papercycle.daemon.client import Client, DaemonError
from papercycle.daemon.engine import citations, simulated
from papercycle.formats import rubric as rg

TIMEOUT = 180
BIB_KEYS = {"shazeer2017outrageously", "fedus2022switch", "child2019sparse"}
KINDS = [
    ("Introduction", None),
    ("Related Work", None),
    ("Method", None),
    ("abstract", None),
    ("Conclusion", None),
    ("Conclusion", "limitations"),
    ("Experiments", None),
    ("Method", "section"),
    ("cursor", "continue"),
    ("cursor", "rewrite"),
]


@pytest.fixture(scope="module")
def home(coauthor_home):
    return coauthor_home


async def test_each_draft_kind_streams_and_cites_only_bib_keys(home, small_paper):
    text = small_paper.read_text()
    cursor = {"path": str(small_paper), "offset": text.index("Mixture of experts layers")}
    async with Client(home.paths) as client:
        for selector, kind in KINDS:
            params = {
                "path": str(small_paper),
                "section": cursor if selector == "cursor" else selector,
            }
            if kind:
                params["kind"] = kind
            if kind == "rewrite":
                params["comment"] = "Say which experts."
            stream = client.stream("draft.section", params)
            events = await asyncio.wait_for(_collect(stream), TIMEOUT)
            result = stream.result
            tokens = [e for e in events if e["event"] == "token"]
            assert tokens, f"{selector}/{kind}: no token streamed"
            assert any(e["event"] == "progress" for e in events)
            assert result["kind"] == "draft" and result["draft"], (selector, kind, result)
            assert set(citations.cited_keys(result["text"])) <= BIB_KEYS
            assert result["citations"]["removed"] == [] or set(
                result["citations"]["removed"]
            ).isdisjoint(BIB_KEYS)
            rng = result["range"]
            assert rng["path"] == str(small_paper.resolve()) and "lsp" in rng
            if selector == "Experiments":
                assert result["simulated"]["results"] and result["simulated"]["markers"] >= 3
                simulated.ensure_marked(result["text"])
            if kind == "rewrite":
                assert result["mode"] == "replace"
                assert text[rng["start"] : rng["end"]].startswith("Mixture of experts layers")


async def _collect(stream):
    return [e async for e in stream]


async def test_draft_cancel_stops_it(home, small_paper):
    async with Client(home.paths) as client:
        params = {
            "path": str(small_paper),
            "section": "Method",
            "instruction": "cancel me",
            "model": "writer",
        }
        stream = client.stream("draft.section", params)
        sent = False
        with pytest.raises(DaemonError) as caught:
            async for event in stream:
                # As soon as the job runs (a tiny model writes a draft in well under a second:
                # waiting for the first token would race the end of the generation).
                if event["event"] in ("started", "token") and not sent:
                    sent = True
                    assert await client.cancel(stream.id)
        assert caught.value.code == "cancelled"
        assert caught.value.data["tokens_after_cancel"] <= 1


async def test_bad_draft_requests_are_answered(home, small_paper):
    async with Client(home.paths) as client:
        with pytest.raises(DaemonError) as caught:
            await client.request("draft.section", {"path": str(small_paper), "section": "Nope"})
        assert caught.value.code == "project"
        with pytest.raises(DaemonError) as caught:
            await client.request(
                "draft.section", {"path": str(small_paper), "section": "Method", "kind": "poem"}
            )
        assert caught.value.code == "bad-request"


def test_drafted_results_reach_the_file_only_with_markers_and_check_fails(home, small_paper):
    env = {**os.environ, "PAPERCYCLE_HOME": str(home.root)}
    cli = [sys.executable, "-m", "papercycle.cli"]
    clean = subprocess.run(
        [*cli, "check", str(small_paper.parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert clean.returncode == 0, clean.stderr
    run = subprocess.run(
        [*cli, "draft", str(small_paper), "--section", "Experiments", "--apply", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr
    text = small_paper.read_text()
    body = text[text.index("\\section{Experiments}") : text.index("\\section{Conclusion}")]
    assert simulated.COMMENT in body and "\\papercyclesimulated{" in body
    assert simulated.unmarked_numbers(body) == []
    check = subprocess.run(
        [*cli, "check", str(small_paper.parent)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 1
    lines = check.stdout.strip().splitlines()
    assert lines and all(": error: [simulated]" in line for line in lines)
    assert lines[0].startswith(f"{small_paper.resolve()}:")
    # The author replaces the simulated block: the gate opens.
    start = text.index(simulated.BEGIN)
    end = text.index(simulated.END) + len(simulated.END)
    small_paper.write_text(text[:start] + "We measured nothing yet." + text[end:])
    again = subprocess.run(
        [*cli, "check", str(small_paper)], env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stdout
    missing = subprocess.run(
        [*cli, "check", str(small_paper.parent / "nope")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2


def test_paper_draft_writes_a_project_the_model_reads(home, small_paper, tmp_path):
    from papercycle.latex import Project

    out = tmp_path / "generated"
    bib = small_paper.parent / "refs.bib"
    run = draft_paper(home, bib, out, "--topic", "sparse experts", "--quiet")
    assert run.returncode == 0, run.stderr
    project = Project.build(out)
    kinds = [s.node.kind for s in project.section_slices()]
    assert "title" in kinds and "abstract" in kinds
    names = [s.node.title for s in project.section_slices() if s.node.kind == "section"]
    assert names[:3] == ["Introduction", "Related Work", "Method"]
    main = (out / "main.tex").read_text()
    assert set(citations.cited_keys(main)) <= BIB_KEYS
    idea = json.loads((out / "idea.json").read_text())
    assert idea["interestingness"] is not None and isinstance(idea["experimental_setup"], list)
    if "Experiments" in names:  # the model went on past its setup: simulated, labelled
        assert idea["experimental_results"]["simulated"] is True
        assert simulated.findings(project)


async def test_best_mode_two_turns_with_retrieved_passages(home, small_paper):
    async with Client(home.paths) as client:
        stream = client.stream(
            "review.paper", {"path": str(small_paper), "mode": "best", "model": "deep"}
        )
        events = await asyncio.wait_for(_collect(stream), TIMEOUT * 2)
        result = stream.result
    assert sum(e["event"] == "started" for e in events) == 2  # two generations
    retrieved = [e for e in events if e["event"] == "progress" and e.get("stage") == "retrieved"]
    assert retrieved and len(retrieved[0]["questions"]) == 3
    best = result["best"]
    assert len(best["answers"]) == 3 and any(a["passages"] for a in best["answers"])
    passages = "\n".join(a["passages"] or "" for a in best["answers"])
    assert "Title: " in passages and "Text: " in passages
    assert best["retrieval"]["passages_indexed"] == 3 and best["retrieval"]["online"] is None
    assert "\\boxed_questions{" in best["turn1"]["output"]
    assert (
        result["kind"] == "paper"
        and result["mode"] == "best"
        and result["format"] == "deepreviewer"
    )
    assert result["decision"] in ("Accept", "Reject"), (
        result["generation"],
        result["warnings"],
        result["review"].get("raw_text", "")[-300:],
    )
    assert result["simulated"] == []


async def test_rubric_extract_and_grade_give_valid_json(home, small_paper):
    async with Client(home.paths) as client:
        extracted = await client.request(
            "rubric.extract", {"path": str(small_paper)}, timeout=TIMEOUT
        )
        assert extracted["goals"], extracted
        jsonschema.validate({"goals": extracted["goals"]}, rg.extraction_schema(several=True))
        plan = await client.request(
            "plan",
            {"goal": "Make routing cheaper", "constraints": "one GPU", "model": "writer"},
            timeout=TIMEOUT,
        )
        assert set(plan["sections"]) == {
            "Problem",
            "Hypotheses",
            "Method",
            "Experiments",
            "Baselines",
            "Metrics",
            "Risks",
            "Timeline",
        }
        grade = await client.request(
            "rubric.grade",
            {"plan": plan["text"], "rubric": {"goals": extracted["goals"]}},
            timeout=TIMEOUT,
        )
    n = sum(len(g["rubric"]) for g in extracted["goals"])
    assert grade["graded"] == n and len(grade["goals"]) == len(extracted["goals"])
    assert 0.0 <= grade["score"] <= 1.0 and grade["score"] == grade["satisfied"] / n
    for goal in grade["goals"]:
        for item in goal["items"]:
            assert item["satisfied"] in (True, False) and item["reason"]


async def test_review_results_report_simulated_markers_as_errors(home, small_paper):
    block, _ = simulated.mark_block("We reach 91.2 accuracy.")
    text = small_paper.read_text().replace(
        "\\section{Experiments}\n", "\\section{Experiments}\n" + block
    )
    params = {
        "path": str(small_paper),
        "buffers": {str(small_paper): text},
        "section": "Method",
        "model": "researcher",
    }
    async with Client(home.paths) as client:
        result = await client.request("review.section", params, timeout=TIMEOUT)
    found = result["simulated"]
    assert len(found) == 4 and all(f["severity"] == "error" for f in found)
    assert {f["method"] for f in found} == {"simulated-macro", "simulated-comment"}
    assert all(f["range"]["path"] == str(small_paper.resolve()) for f in found)


def test_plan_and_rubric_commands(home, small_paper, tmp_path):
    env = {**os.environ, "PAPERCYCLE_HOME": str(home.root)}
    cli = [sys.executable, "-m", "papercycle.cli"]
    rubric_file = tmp_path / "rubric.json"
    run = subprocess.run(
        [*cli, "rubric", "extract", str(small_paper), "-o", str(rubric_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(rubric_file.read_text())
    jsonschema.validate(data, rg.extraction_schema(several=True))
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("One GPU for a week.")
    plan_file = tmp_path / "plan.md"
    run = subprocess.run(
        [
            *cli,
            "plan",
            "Make expert routing cheaper",
            "--constraints",
            str(constraints),
            "--model",
            "writer",
            "-o",
            str(plan_file),
            "--rubric",
            str(rubric_file),
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr
    assert plan_file.read_text().startswith("## Problem")
    assert "Score: " in run.stdout and "satisfied" in run.stdout
    graded = subprocess.run(
        [*cli, "rubric", "grade", str(plan_file), str(rubric_file), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert graded.returncode == 0, graded.stderr
    result = json.loads(graded.stdout)
    assert result["graded"] == sum(len(g["rubric"]) for g in data["goals"])
    bad = subprocess.run(
        [*cli, "rubric", "grade", str(plan_file), str(constraints)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "papercycle: error:" in bad.stderr


def test_paper_draft_with_measured_results_runs_the_results_turn(home, small_paper, tmp_path):
    from papercycle.latex import Project

    out = tmp_path / "measured"
    run = draft_paper(home, small_paper.parent / "refs.bib", out, "--json", measured=MEASURED)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["results_output"].startswith("```latex")
    assert answer["measured"] == MEASURED
    project = Project.build(out)
    names = [s.node.title for s in project.section_slices() if s.node.kind == "section"]
    assert "Experiments" in names and "Conclusion" in names
    main = (out / "main.tex").read_text()
    assert simulated.BEGIN not in main  # no invented block: the results were given
    idea = json.loads((out / "idea.json").read_text())
    assert idea["experimental_results"]["simulated"] is False


async def test_the_language_servers_edit_keeps_the_markers(home, small_paper):
    """The LSP's own draft plumbing (lsp/drafts.py: place the result, the text it inserts) on a
    real daemon result: the edited file has every marker, and the check gate sees them."""
    from papercycle.daemon.engine import simulated as sim
    from papercycle.lsp import drafts
    from papercycle.lsp.results import DraftResult

    text = small_paper.read_text()
    heading = text.index("\\section{Experiments}")
    async with Client(home.paths) as client:
        params = {
            "path": str(small_paper),
            "section": {"path": str(small_paper), "offset": heading},
            "priority": "interactive",
        }
        result = await client.request("draft.section", params, timeout=TIMEOUT)
    draft = drafts.Draft(
        "d1",
        small_paper.as_uri(),
        small_paper.resolve(),
        "Experiments",
        drafts.insertion_offset(text, heading),
        1,
    )
    draft.text = result["text"]
    drafts.place(draft, DraftResult.from_wire(result))
    end = draft.insert_at if draft.replace_end is None else draft.replace_end
    edited = text[: draft.insert_at] + drafts.insertion_text(draft) + text[end:]
    section = edited[edited.index("\\section{Experiments}") : edited.index("\\section{Conclusion}")]
    assert sim.BEGIN in section and sim.END in section and "\\papercyclesimulated{" in section
    assert sim.unmarked_numbers(section) == []
    assert len(sim.find_markers(edited)) == result["simulated"]["markers"]
