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
