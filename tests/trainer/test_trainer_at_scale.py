"""Fixes for training at scale: Research-14K decoding, rank gating, target builders."""

from __future__ import annotations

import json

import pytest
from helpers import reference_rows, write_jsonl
from papercycle.trainer.data import DataError, chat_examples
from papercycle.trainer.data.research import researcher_example


class WordTokenizer:
    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}

    def decode(self, ids):
        return " ".join(ids)

    def apply_chat_template(self, messages, tokenize=True):
        return [w for m in messages for w in m["content"].split()]


def research_record(train_data) -> dict:
    (row,) = reference_rows(1)
    return {**row, "title": "T", "abstract": "A", "train_data": train_data}


def test_research_train_data_as_fenced_json_string_is_decoded(tmp_path):
    fields = {"motivation": "Graphs are slow.", "main_idea": "Cache messages.",
              "experimental_setup": {"datasets": ["Cora"]}}  # fmt: skip
    fenced = "```json\n" + json.dumps(fields, indent=2) + "\n```"
    path = write_jsonl(tmp_path / "r.jsonl", [research_record(fenced)])
    (example,), _ = chat_examples("research-14k", path, tokenizer=WordTokenizer(), split="all")
    target = example["messages"][-1]["content"]
    assert "## Motivation\n\nGraphs are slow." in target
    assert "## Main Idea\n\nCache messages." in target
    assert '"Cora"' in target


@pytest.mark.parametrize(
    "train_data, problem",
    [
        (None, "no motivation or main_idea"),
        ('```json\n{"motivation": "", "main_idea": ""}\n```', "no motivation or main_idea"),
        ('```json\n{"motivation": "M",\n```', "train_data is not JSON"),
        ("[1, 2]", "not a JSON object"),
    ],
)
def test_research_record_with_an_empty_target_is_refused_in_one_line(train_data, problem):
    with pytest.raises(DataError) as caught:
        researcher_example(research_record(train_data))
    message = str(caught.value)
    assert problem in message and "\n" not in message
    assert message.startswith("record ")


class FakeLaunch:
    """accelerate's PartialState for one rank of an N-process launch: the ranks are threads,
    the barrier is a real one (a rank that skipped a barrier would hang the others)."""

    def __init__(self, rank: int, barrier) -> None:
        self.is_main_process = rank == 0
        self.barrier = barrier

    def wait_for_everyone(self) -> None:
        self.barrier.wait(timeout=30)


def run_ranks(n: int, body) -> list:
    import threading

    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list = []

    def one(rank: int) -> None:
        from papercycle.trainer.recipes.ranks import Ranks

        try:
            results[rank] = body(rank, Ranks(FakeLaunch(rank, barrier)))
        except Exception as error:  # reported by the test, not lost in a thread
            errors.append(error)

    threads = [threading.Thread(target=one, args=(rank,)) for rank in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_only_the_main_rank_produces_and_every_rank_reads_it(tmp_path):
    calls = []

    def body(rank, ranks):
        def produce():
            import time

            time.sleep(0.2)  # slow: another rank reading before the barrier would fail
            calls.append(rank)
            return {"goals": ["g1", "g2"]}

        return ranks.main_then_read(tmp_path / "rubrics.json", produce)

    results = run_ranks(3, body)
    assert calls == [0]
    assert results == [{"goals": ["g1", "g2"]}] * 3
    assert not list(tmp_path.glob("*.partial"))


def test_simpo_samples_and_reviews_once_and_every_rank_reads_the_pairs(tmp_path, monkeypatch):
    from papercycle.trainer.recipes import simpo

    sampled = []

    def sample(config, policy, folder, batch, k, say):
        sampled.append(k)
        return [["a draft", "another draft"]]

    monkeypatch.setattr(simpo, "_sample", sample)  # llama.cpp sampling and reviewing: the
    monkeypatch.setattr(simpo, "_score", lambda config, drafts, k, say: [[7.0, 3.0]])  # slow part

    class Config:
        min_margin = 0.5

    batch = [{"messages": [{"role": "user", "content": "references"}]}]

    def body(rank, ranks):
        ranks.main_only(simpo._sample_once, Config(), tmp_path, tmp_path, batch, 0, lambda s: None)
        return (tmp_path / "pairs.jsonl").read_text()

    results = run_ranks(2, body)
    assert sampled == [0]
    assert results[0] == results[1] and '"chosen": "a draft"' in results[0]
    # resumed: the pairs are there, the main rank says so and samples nothing
    run_ranks(2, body)
    assert sampled == [0]


def real_output(shared_dir, paper: str, kind: str) -> str:
    path = shared_dir / "data" / "reviewer-outputs" / f"deepreviewer_sample_{paper}_{kind}.txt"
    return path.read_text().split("\n", 1)[1]  # line 1 is the # SOURCE: header


PAPER_TEXT = (
    "\\title{VFLAIR}\n\\begin{abstract}A library for vertical federated learning.\\end{abstract}"
)


def test_standard_mode_targets_from_a_record_with_the_reasoning(shared_dir):
    from papercycle.formats import deepreviewer
    from papercycle.trainer.data.deepreview_modes import mode_example

    for paper in ("sqRgz88TM3", "syoLhUJmth", "tc1jaWpi7M"):
        output = real_output(shared_dir, paper, "standard_mode")
        record = {
            "id": paper,
            "inputs": deepreviewer.build_messages(PAPER_TEXT, mode="standard"),
            "output": output,
        }
        example = mode_example(record, "standard")
        roles = [m["role"] for m in example["messages"]]
        assert roles == ["system", "user", "assistant"]
        assert "Standard Mode" in example["messages"][0]["content"]
        assert example["messages"][2]["content"] == output
        assert example["mode"] == "standard"


def test_best_mode_targets_are_two_assistant_turns_around_the_answers(shared_dir):
    from papercycle.formats import deepreviewer
    from papercycle.trainer.data.deepreview_modes import mode_example

    step1 = real_output(shared_dir, "sqRgz88TM3", "best_mode_step1")
    step2 = real_output(shared_dir, "sqRgz88TM3", "best_mode_step2")
    answers = "Question 1: ...\nAnswer: VFL frameworks use secure aggregation."
    inputs = [*deepreviewer.build_messages(PAPER_TEXT, mode="best", variant="eval")]
    inputs += [{"role": "assistant", "content": step1}, {"role": "user", "content": answers}]
    # the authors' evaluation layout: the chat and the outputs under pred_best_mode
    record = {"id": "sqRgz88TM3", "pred_best_mode": {"inputs": inputs, "step2_output": step2}}
    example = mode_example(record, "best")
    assert [m["role"] for m in example["messages"]] == [
        "system", "user", "assistant", "user", "assistant"
    ]  # fmt: skip
    assert example["messages"][2]["content"] == step1
    assert example["messages"][3]["content"] == answers
    assert example["messages"][4]["content"] == step2
    assert deepreviewer.extract_questions(example["messages"][2]["content"])


def test_mode_records_without_the_reasoning_are_refused_in_one_line(shared_dir):
    from papercycle.formats import deepreviewer
    from papercycle.trainer.data.deepreview_modes import mode_example

    fast = real_output(shared_dir, "sqRgz88TM3", "fast_mode")
    standard = real_output(shared_dir, "sqRgz88TM3", "standard_mode")
    step1 = real_output(shared_dir, "sqRgz88TM3", "best_mode_step1")
    cases = [
        ({"id": "a", "output": standard}, "standard", "no inputs"),
        (
            {
                "id": "b",
                "inputs": deepreviewer.build_messages(PAPER_TEXT, "standard"),
                "output": fast,
            },
            "standard",
            "lacks \\boxed_simreviewers",
        ),
        (
            {
                "id": "c",
                "inputs": deepreviewer.build_messages(PAPER_TEXT, "fast"),
                "output": standard,
            },
            "standard",
            "not DeepReviewer's standard mode",
        ),
        (
            {
                "id": "d",
                "inputs": deepreviewer.build_messages(PAPER_TEXT, "best"),
                "step1_output": step1,
            },
            "best",
            "needs 2 model output(s) and the answers turn",
        ),
    ]
    for record, mode, problem in cases:
        with pytest.raises(DataError) as caught:
            mode_example(record, mode)
        assert problem in str(caught.value) and "\n" not in str(caught.value)
        assert str(caught.value).startswith(f"record {record['id']!r}")


def test_a_dataset_keeps_its_good_records_and_reports_the_refused_ones(tmp_path, shared_dir):
    from papercycle.formats import deepreviewer

    good = research_record({"motivation": "M", "main_idea": "I"})
    empty = {**research_record(None), "paperId": "empty-one"}
    path = write_jsonl(tmp_path / "r.jsonl", [good, empty])
    examples, report = chat_examples("research-14k", path, tokenizer=WordTokenizer(), split="all")
    assert len(examples) == 1
    assert len(report.refused) == 1 and "'empty-one'" in report.refused[0]
    assert "1 records refused (first: record 'empty-one'" in report.render()

    standard = real_output(shared_dir, "syoLhUJmth", "standard_mode")
    rows = [
        {
            "id": "p1",
            "inputs": deepreviewer.build_messages(PAPER_TEXT, "standard"),
            "output": standard,
        },
        {"id": "p2", "inputs": deepreviewer.build_messages(PAPER_TEXT, "standard"), "output": "hm"},
    ]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    examples, report = chat_examples(
        "deepreview-13k", path, tokenizer=WordTokenizer(), split="all",
        reviewer_format="deepreviewer", reviewer_mode="standard",
    )  # fmt: skip
    assert [e["id"] for e in examples] == ["p1"]
    assert examples[0]["messages"][-1]["content"] == standard
    assert "'p2'" in report.refused[0]


DRAFT = """## Motivation

Message passing is slow.

## Main Idea

Cache messages between layers.

## Interestingness

10

## Feasibility

10

## Novelty

10

```latex
\\title{Cached Message Passing}
\\begin{abstract}
We cache messages.
\\end{abstract}
\\section{Introduction}
Graph networks recompute messages.
```
"""


def test_the_simpo_reward_reviews_the_parsed_paper_not_the_self_assessed_scores():
    from papercycle.formats import cyclereviewer
    from papercycle.formats.review import Review, ReviewerReport, Score
    from papercycle.trainer.reward.reviewer_score import ReviewerScorer

    class RecordingReviewer:  # the reviewer model's answer, fixed; what it was shown is kept
        def __init__(self):
            self.shown = []

        def generate(self, messages, **kwargs):
            self.shown.append(messages[-1]["content"])
            report = ReviewerReport(rating=Score(6.0, "6: marginally above"))
            return [cyclereviewer.render(Review(format="cyclereviewer", reports=[report]))]

    reviewer = RecordingReviewer()
    score = ReviewerScorer(reviewer, samples=1, grammar=False).score(DRAFT)
    assert score.reward == 6.0
    shown = reviewer.shown[0]
    assert "Cached Message Passing" in shown and "Graph networks recompute messages." in shown
    assert "We cache messages." in shown
    assert "Novelty" not in shown and "Interestingness" not in shown and "10" not in shown
    # a draft with no paper in it still loses its self-assessment
    ReviewerScorer(reviewer, samples=1, grammar=False).score(DRAFT.split("```latex")[0])
    assert "Novelty" not in reviewer.shown[1] and "Cache messages" in reviewer.shown[1]


def test_the_sampler_is_llama_cpp_on_a_cpu_and_vllm_is_refused_in_one_line_without_gpu():
    import importlib.util

    import torch
    from papercycle.trainer.config import ConfigError
    from papercycle.trainer.generation.samplers import resolve_sampler

    if torch.cuda.is_available():
        pytest.skip("this checks the CPU machine's choice")
    assert resolve_sampler("auto") == "llama.cpp"
    assert resolve_sampler("transformers") == "transformers"
    with pytest.raises(ConfigError) as caught:
        resolve_sampler("vllm")
    expected = "needs a GPU" if importlib.util.find_spec("vllm") else "vllm is not installed"
    assert expected in str(caught.value) and str(caught.value).startswith("sampler: ")
    with pytest.raises(ConfigError):
        resolve_sampler("sglang")


def test_rubric_reward_reasons_first_checks_guidelines_and_length(tmp_path):
    from papercycle.formats import plan as plan_format
    from papercycle.formats.rubric import grading_grammar
    from papercycle.trainer.reward.rubric_reward import GENERAL_GUIDELINES, RubricReward

    class Grader:  # the grader model's answers, fixed; its prompts are kept
        def __init__(self, verdicts):
            self.verdicts, self.calls = verdicts, []

        def generate(self, messages, **kwargs):
            self.calls.append((messages, kwargs))
            grades = [{"reason": "r", "verdict": v} for v in self.verdicts]
            return [json.dumps({"grades": grades})]

    rubric = ["uses a baseline", "reports F1"]
    guidelines_ok = ["yes"] * len(GENERAL_GUIDELINES)
    grader = Grader(["yes", "no", *guidelines_ok])
    reward = RubricReward(grader, max_plan_words=50)
    (score,) = reward(None, ["a short plan"], goal=["G"], rubric=[rubric])
    assert score == pytest.approx(0.5)
    messages, kwargs = grader.calls[0]
    assert kwargs["grammar"] == grading_grammar(2 + len(GENERAL_GUIDELINES), reasons=True)
    assert "first with a one-line reason" in messages[0]["content"]
    assert GENERAL_GUIDELINES[0] in messages[1]["content"]
    # failing every guideline costs guideline_weight; a plan twice too long costs length_weight
    grader = Grader(["yes", "yes", *["no"] * len(GENERAL_GUIDELINES)])
    (score,) = RubricReward(grader, max_plan_words=50)(
        None, [" ".join(["word"] * 100)], goal=["G"], rubric=[rubric]
    )
    assert score == pytest.approx(1.0 - 0.5 - 0.5)
    # the prompt plans are written from is `papercycle plan`'s
    from papercycle.trainer.reward.rubric_reward import plan_messages

    assert plan_messages("G") == plan_format.build_messages("G")


def test_grpo_reads_the_released_goal_and_rubric_field_names(tmp_path):
    from types import SimpleNamespace

    from papercycle.trainer.recipes.grpo import load_goals

    path = write_jsonl(
        tmp_path / "plans.jsonl",
        [{"id": "p1", "Goal": "Make GNNs faster.", "Rubric": ["uses a baseline", "reports F1"]}],
    )
    config = SimpleNamespace(data=path, max_examples=None, max_rubric_items=8)
    goals = load_goals(config, generate=None)  # nothing to extract: no grader call
    assert goals[0]["goal"] == "Make GNNs faster."
    assert goals[0]["rubric"] == ["uses a baseline", "reports F1"]


def test_simpo_prompts_need_no_target(tmp_path):
    from papercycle.trainer.recipes.simpo import load_prompts

    path = write_jsonl(tmp_path / "p.jsonl", reference_rows(2))  # references only
    prompts = load_prompts(path)
    assert len(prompts) == 2
    assert [m["role"] for m in prompts[0]["messages"]] == ["system", "user"]


def test_a_gguf_base_in_a_config_is_checked_before_any_model_loads(tmp_path, smollm2_gguf):
    from papercycle.trainer.config import ConfigError, load_config
    from papercycle.trainer.recipes.sft import SFTReviewerConfig

    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "x"}])
    config_file = tmp_path / "sft.yaml"

    def load(model: str):
        config_file.write_text(f"model: '{model}'\noutput_dir: out\ndata: d.jsonl\n")
        return load_config(SFTReviewerConfig, config_file)

    assert str(load("gguf:smollm2-135m-instruct").model) == "gguf:smollm2-135m-instruct"
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.gguf").write_bytes(smollm2_gguf.read_bytes()[:64])
    assert str(load("gguf:models/m.gguf").model) == f"gguf:{tmp_path}/models/m.gguf"
    for model, problem in (
        ("gguf:models/missing.gguf", "missing.gguf does not exist"),
        ("gguf:no-such-model", "no model 'no-such-model' in the catalogue"),
    ):
        with pytest.raises(ConfigError) as caught:
            load(model)
        assert problem in str(caught.value) and "\n" not in str(caught.value)
    assert data.exists()
