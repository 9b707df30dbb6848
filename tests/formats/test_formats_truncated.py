"""Real reviewer outputs (../shared/data/reviewer-outputs) cut at a token budget, as a
generation that stops on `max_tokens` leaves them: the parser keeps what was written before the
cut, reads nothing past it, says what is missing, and the result built from it is marked
incomplete (never served as a whole review).

Tokens are SmolLM2's (a real 49k BPE vocabulary): the budgets are in the unit a budget is.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine.completeness import mark
from papercycle.formats import parse_review

STANDARD = [f"deepreviewer_sample_{p}_standard_mode.txt" for p in ("sqRgz88TM3", "tc1jaWpi7M")]
CYCLE = ["cyclereviewer_format_grokked_transformers.txt"]
FAST = ["deepreviewer_sample_syoLhUJmth_fast_mode.txt"]


@pytest.fixture(scope="module")
def vocabulary(smollm2_gguf: Path):
    from papercycle.daemon.models.llama_backend import Tokenizer

    tokenizer = Tokenizer(str(smollm2_gguf))
    yield tokenizer.llama
    tokenizer.llama.close()


def text_of(shared_dir: Path, name: str) -> str:
    raw = (shared_dir / "data" / "reviewer-outputs" / name).read_text(encoding="utf-8")
    return raw.split("\n", 1)[1]  # without the `# SOURCE:` line


def cut(llama, text: str, budget: int) -> tuple[str, int]:
    """The first `budget` tokens of `text`, and how many tokens the whole text is."""
    ids = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
    return llama.detokenize(ids[:budget]).decode("utf-8", "ignore"), len(ids)


@pytest.mark.parametrize("name", STANDARD)
def test_standard_cut_at_the_old_default_budget(shared_dir, vocabulary, name) -> None:
    text = text_of(shared_dir, name)
    whole = parse_review(text, "deepreviewer")
    part, total = cut(vocabulary, text, 2048)
    assert total > 10_000  # a real Standard answer is far longer than 2,048 tokens
    review = parse_review(part, "deepreviewer")
    assert 0 < len(review.reports) < len(whole.reports)
    # nothing past the cut: the first reviewer's strengths are the whole text's
    assert review.reports[0].strengths == whole.reports[0].strengths
    assert review.meta is None and review.decision is None
    assert any("boxed_review" in w for w in review.warnings)


@pytest.mark.parametrize("name", CYCLE + FAST)
@pytest.mark.parametrize("budget", [64, 512, 1024])
def test_short_format_cuts_keep_what_was_written(shared_dir, vocabulary, name, budget) -> None:
    text = text_of(shared_dir, name)
    whole = parse_review(text)
    part, total = cut(vocabulary, text, budget)
    assert budget < total
    review = parse_review(part, whole.format)
    assert len(review.reports) <= len(whole.reports)
    assert review.decision is None or whole.decision is not None
    assert review.warnings  # what is missing is said


def test_a_result_of_a_cut_answer_is_marked_incomplete() -> None:
    model = ModelConfig(name="m", path="/m.gguf", n_ctx=8192, sampling={"max_tokens": 2048})
    budget = mark(
        {"warnings": ["no \\boxed_review{...}"]},
        {"finish": "length", "tokens": 2048, "prompt_tokens": 3000},
        model,
    )
    assert budget["complete"] is False
    assert budget["incomplete"]["cause"] == "max_tokens"
    assert budget["warnings"][0].startswith("review incomplete: the model was cut off after 2048")
    context = mark({}, {"finish": "length", "tokens": 5192, "prompt_tokens": 3000}, model)
    assert context["incomplete"]["cause"] == "context" and "raise n_ctx" in context["warnings"][0]
    assert context["warnings"][0].endswith("or review by section")
    # a section's answer: reviewing by section is what it already is
    section = mark(
        {"kind": "section"}, {"finish": "length", "tokens": 5192, "prompt_tokens": 3000}, model
    )
    assert section["warnings"][0].endswith("raise n_ctx, or split the section")
    whole = mark({"warnings": []}, {"finish": "stop", "tokens": 10}, model)
    assert whole == {"warnings": [], "complete": True}


def test_a_section_answer_cut_mid_array_keeps_its_whole_comments() -> None:
    from papercycle.formats import section

    answer = (
        '{"comments":[{"category":"clarity","severity":"minor","quote":"Sparse attention.",'
        '"comment":"Le théorème ∑ est flou.","suggested_rewrite":null},'
        '{"category":"evidence","severity":"maj'
    )
    review = section.parse(answer, "Sparse attention. More text.")
    assert [c.comment for c in review.comments] == ["Le théorème ∑ est flou."]
    assert review.warnings[0] == "the section review JSON is incomplete (output cut off?)"
