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
