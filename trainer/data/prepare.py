"""From a dataset file to chat examples: adapt, split by paper id, truncate papers by tokens,
and report what was cut and how long the examples are."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from papercycle.trainer.data.deepreview_modes import TRAINED_MODES, mode_example
from papercycle.trainer.data.papers import Paper
from papercycle.trainer.data.records import DataError, read_records
from papercycle.trainer.data.research import researcher_example
from papercycle.trainer.data.sources import SOURCES
from papercycle.trainer.data.split import select
from papercycle.trainer.data.targets import reviewer_examples

ADAPTERS = (*SOURCES, "research-14k", "chat")


@dataclass
class DataReport:
    examples: int = 0
    truncated: int = 0
    tokens_cut: int = 0
    lengths: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one line per record left out

    def percentiles(self) -> dict[str, int]:
        if not self.lengths:
            return {}
        ordered = sorted(self.lengths)

        def at(q: float) -> int:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": ordered[-1]}

    def render(self) -> str:
        p = self.percentiles()
        lengths = ", ".join(f"{k} {v}" for k, v in p.items())
        refused = (
            f"; {len(self.refused)} records refused (first: {self.refused[0]})"
            if self.refused
            else ""
        )
        return (
            f"{self.examples} papers, {sum(self.lengths)} tokens (per example: {lengths}); "
            f"{self.truncated} papers truncated, {self.tokens_cut} paper tokens cut{refused}"
        )


def load_papers(
    adapter: str, path: Path, split: str = "all", test_fraction: float = 0.1
) -> list[Paper]:
    if adapter not in SOURCES:
        raise DataError(f"{adapter!r} is not a review source (one of {', '.join(SOURCES)})")
    papers = [SOURCES[adapter](r) for r in read_records(path)]
    return select(papers, split, test_fraction)


def chat_examples(
    adapter: str,
    path: Path,
    *,
    tokenizer,
    split: str = "train",
    test_fraction: float = 0.1,
    reviewer_format: str = "cyclereviewer",
    max_paper_tokens: int | None = None,
    min_reviews: int = 1,
    max_examples: int | None = None,
    reviewer_mode: str = "fast",
) -> tuple[list[dict], DataReport]:
    """Chat examples (`{"id", "messages"}`) of `split`, with the paper (user turn) cut to
    `max_paper_tokens`; the report counts the cuts and the example lengths in tokens."""
    refused: list[str] = []
    if adapter == "deepreview-13k" and reviewer_mode in TRAINED_MODES:
        # Standard / Best: the targets are the reasoning the records carry, not human reviews
        built = [_kept(mode_example, r, refused, reviewer_mode) for r in read_records(path)]
        examples = select([e for e in built if e], split, test_fraction, key=lambda e: e["id"])
    elif adapter in SOURCES:
        papers = [
            p
            for p in load_papers(adapter, path, split, test_fraction)
            if len(p.reports) >= min_reviews
        ]
        examples = [e for p in papers for e in reviewer_examples(p, reviewer_format)]
    elif adapter in ("research-14k", "chat"):
        records = read_records(path)
        built = [_kept(researcher_example, r, refused) for r in records]
        examples = select([e for e in built if e], split, test_fraction, key=lambda e: e["id"])
    else:
        raise DataError(f"unknown data adapter {adapter!r} (one of {', '.join(ADAPTERS)})")
    if max_examples is not None:
        examples = examples[:max_examples]
    report = DataReport(examples=len(examples), refused=refused)
    for example in examples:
        if max_paper_tokens is not None:
            _truncate_user_turn(example, tokenizer, max_paper_tokens, report)
        ids = tokenizer.apply_chat_template(example["messages"], tokenize=True)
        ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
        report.lengths.append(len(ids))
    return examples, report


def _kept(build, record: dict, refused: list[str], *args) -> dict | None:
    """The example of `record`, or None with its one-line reason added to `refused`: one bad
    record in a dataset of thousands is reported, not fatal."""
    try:
        return build(record, *args)
    except DataError as error:
        refused.append(str(error))
        return None


def _truncate_user_turn(example: dict, tokenizer, limit: int, report: DataReport) -> None:
    # The first user turn holds the paper (reviewer) or the references (researcher).
    turn = next(m for m in example["messages"] if m["role"] == "user")
    ids = tokenizer(turn["content"], add_special_tokens=False)["input_ids"]
    if len(ids) > limit:
        turn["content"] = tokenizer.decode(ids[:limit])
        report.truncated += 1
        report.tokens_cut += len(ids) - limit
