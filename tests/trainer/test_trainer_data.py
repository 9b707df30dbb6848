"""Data adapters: serving-format targets, deterministic splits, truncation, stats, readers."""

from __future__ import annotations

import csv
import json

import pytest
from helpers import openreview_rows, reference_rows, write_jsonl
from papercycle.formats import parse_review
from papercycle.trainer.data import DataError, chat_examples, load_papers, read_records
from papercycle.trainer.data.split import split_of
from papercycle.trainer.data.targets import reviewer_example, reviewer_examples


class WordTokenizer:
    """A whitespace 'tokenizer' with the interface the adapters use (no model needed)."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}

    def decode(self, ids):
        return " ".join(ids)

    def apply_chat_template(self, messages, tokenize=True):
        return [w for m in messages for w in m["content"].split()]


def test_iclr2017_targets_are_cyclereviewer_sorted_by_rating(shared_dir):
    papers = load_papers("iclr2017", shared_dir / "data" / "reviews" / "iclr2017_reviews.jsonl")
    paper = next(p for p in papers if len({r.rating.value for r in p.reports}) > 1)
    example = reviewer_example(paper, "cyclereviewer")
    roles = [m["role"] for m in example["messages"]]
    assert roles == ["system", "user", "assistant"]
    assert paper.title in example["messages"][1]["content"]
    review = parse_review(example["messages"][2]["content"], format="cyclereviewer")
    ratings = [r.rating.value for r in review.reports]
    assert ratings == sorted(paper.ratings())
    assert review.meta is not None and review.meta.text == paper.meta.text
    assert review.decision.text == paper.decision.text


def test_iclr2022_targets_predict_scores(shared_dir):
    papers = load_papers(
        "iclr2022", shared_dir / "data" / "reviews" / "iclr2022_papers_scores.jsonl.gz"
    )
    assert len(papers) == 500 and sum(len(p.reports) for p in papers) == 1968
    review = parse_review(reviewer_example(papers[0], "cyclereviewer")["messages"][2]["content"])
    assert sorted(r.rating.value for r in review.reports) == sorted(papers[0].ratings())
    assert review.decision.verdict == papers[0].decision.verdict


def test_openreviewer_targets_are_one_per_human_report(shared_dir):
    papers = load_papers("iclr2017", shared_dir / "data" / "reviews" / "iclr2017_reviews.jsonl")
    paper = next(p for p in papers if len(p.reports) >= 3)
    examples = reviewer_examples(paper, "openreviewer")
    assert len(examples) == len(paper.reports)
    assert len({e["id"] for e in examples}) == len(examples)
    for example, report in zip(examples, paper.reports, strict=True):
        system, user, target = (m["content"] for m in example["messages"])
        assert system.startswith("You are an expert reviewer for AI conferences.")
        assert user.startswith("Review the following paper:\n\n") and paper.title in user
        assert target.startswith("# Review\n\n## Summary\n")
        review = parse_review(target)
        assert review.format == "openreviewer"
        assert review.reports[0].rating.value == report.rating.value
        assert review.reports[0].rating.text == f"{report.rating.value:g}"  # a bare number


def test_deepreviewer_target_carries_mean_scores(tmp_path):
    path = write_jsonl(tmp_path / "dr.jsonl", openreview_rows(2))
    paper = load_papers("deepreview-13k", path)[0]
    review = parse_review(reviewer_example(paper, "deepreviewer")["messages"][2]["content"])
    assert review.format == "deepreviewer"
    assert review.meta.rating.value == pytest.approx(round(sum(paper.ratings()) / 3, 2))
    assert review.decision.verdict == "Reject"


def test_split_is_deterministic_and_disjoint(tmp_path):
    # pinned: a paper lands in the same split on every machine and in every release (the hash
    # of salt and id, not Python's randomized hash), so these never change
    assert split_of("abc", 0.3) == "test"
    assert split_of("paper-1", 0.3) == "train"
    assert split_of("paper-1", 0.9) == "test"
    assert [split_of("iclr-42", f) for f in (0.3, 0.5)] == ["train", "test"]
    rows = openreview_rows(40)
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    train = {p.id for p in load_papers("review-5k", path, "train", 0.3)}
    test = {p.id for p in load_papers("review-5k", path, "test", 0.3)}
    assert train and test and not train & test and len(train | test) == 40
    shuffled = write_jsonl(tmp_path / "s.jsonl", rows[::-1])
    assert {p.id for p in load_papers("review-5k", shuffled, "test", 0.3)} == test


def test_truncation_is_reported(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", openreview_rows(3))
    examples, report = chat_examples(
        "deepreview-13k", path, tokenizer=WordTokenizer(), split="all", max_paper_tokens=5
    )
    assert report.examples == 3 and report.truncated == 3
    assert report.tokens_cut == 3 * (len(openreview_rows(1)[0]["paper_context"].split()) - 5)
    assert len(examples) == 3
    assert all(len(e["messages"][1]["content"].split()) == 5 for e in examples)
    assert set(report.percentiles()) == {"p50", "p90", "p99", "max"}
    assert "3 papers" in report.render() and "truncated" in report.render()


def test_research_adapter_builds_cycleresearcher_chats(tmp_path):
    rows = [
        *reference_rows(1),
        {
            "paperId": "x",
            "messages": [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "u"},
                {"role": "assistant", "content": "a"},
            ],
        },
    ]
    for row in rows[:1]:
        row.update(title="T", abstract="A", train_data={"motivation": "M", "main_idea": "I"})
    path = write_jsonl(tmp_path / "r.jsonl", rows)
    examples, _ = chat_examples("research-14k", path, tokenizer=WordTokenizer(), split="all")
    first, second = examples
    assert first["messages"][0]["content"].startswith("You are a research assistant AI")
    assert "Abstract: We study message passing." in first["messages"][1]["content"]
    assert first["messages"][2]["content"].startswith("## Motivation\n\nM")
    assert "\\title{T}" in first["messages"][2]["content"]
    assert [m["content"] for m in second["messages"]] == ["s", "u", "a"]


def test_readers_csv_parquet_datasets(tmp_path):
    rows = openreview_rows(2)
    with (tmp_path / "d.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "paper_context", "decision", "review"])
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if k == "review" else v for k, v in row.items() if k != "title"}
            )
    papers = load_papers("deepreview-13k", tmp_path / "d.csv")
    assert [len(p.reports) for p in papers] == [3, 3]

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "hub" / "data"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(reference_rows(2)), folder / "train-00000.parquet")
    assert len(read_records(tmp_path / "hub", split="train")) == 2


def test_bad_data_is_one_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2: not JSON"):
        read_records(bad)
    with pytest.raises(DataError, match="no such file"):
        read_records(tmp_path / "missing.jsonl")
