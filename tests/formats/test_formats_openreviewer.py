"""OpenReviewer's format: the authors' prompt strings, outputs in its documented layout (the
training targets of maxidl/openreviewer's prepare_data.py: `# Review`, `## Title` then content
per ICLR 2025 field), cut outputs, the quirks a model adds, and parse(render(x)) == x."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine.completeness import mark
from papercycle.daemon.engine.skeleton import openreviewer_grammar
from papercycle.formats import detect_format, openreviewer, parse_review
from papercycle.formats.review import Review, ReviewerReport, Score

# A review in the layout the authors' targets have (every field, scores as bare numbers, the
# ethics flag as the form's option text, empty ethics details).
DOCUMENTED = """# Review

## Summary
The paper proposes sparse expert routing for long-document transformers and reports a 3x
reduction in attention cost on two benchmarks.

## Soundness
3

## Presentation
2

## Contribution
3

## Strengths
- The routing rule is simple and easy to reimplement.
- Gains hold on both benchmarks.

## Weaknesses
- No comparison with linear-attention baselines.
- The ablation in Table 3 uses a single seed.

## Questions
- How does the gate behave on documents longer than the training length?

## Flag For Ethics Review
No ethics review needed.

## Details Of Ethics Concerns


## Rating
6

## Confidence
4
"""


def test_system_template_is_the_authors(shared_dir: Path) -> None:
    notes = (shared_dir / "docs" / "review-formats.md").read_text(encoding="utf-8")
    start = notes.index("```\nYou are an expert reviewer for AI") + 4
    quoted = notes[start : notes.index("\n```", start)]
    # the notes' fenced block drops the template's final line break (generate.py has it)
    assert quoted + "\n" == openreviewer.SYSTEM_TEMPLATE
    assert "Your write reviews in markdown format." in openreviewer.SYSTEM_PROMPT


def test_prompt_fills_the_fields_in_the_authors_layout() -> None:
    prompt = openreviewer.SYSTEM_PROMPT
    assert "{review_fields}" not in prompt
    assert "sections:\n\n# Review\n\n## Summary\nBriefly summarize the paper" in prompt
    assert "well-written summary.\n\n## Soundness\nPlease assign" in prompt
    assert "\n## Flag For Ethics Review\n" in prompt
    assert "\n## Details Of Ethics Concerns\nPlease provide details of your concerns.\n" in prompt
    assert (
        "\n10: strong accept, should be highlighted at the conference\n\n## Confidence\n" in prompt
    )
    assert prompt.endswith("carefully.\n\n\nYour response must only contain the review in "
                           "markdown format with sections as defined above.\n")  # fmt: skip
    titles = re.findall(r"^## (.+)$", prompt, re.M)
    assert titles == [openreviewer.field_title(k) for k in openreviewer.FIELD_KEYS]
    messages = openreviewer.build_messages("PAPER")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[1]["content"] == "Review the following paper:\n\nPAPER\n"


def test_documented_output_reads_every_field() -> None:
    assert detect_format(DOCUMENTED) == "openreviewer"
    review = parse_review(DOCUMENTED)
    assert review.format == "openreviewer" and review.warnings == []
    (report,) = review.reports
    assert report.scores() == {
        "soundness": 3,
        "presentation": 2,
        "contribution": 3,
        "rating": 6,
        "confidence": 4,
    }
    assert report.summary.startswith("The paper proposes sparse expert routing")
    assert report.strengths == [
        "The routing rule is simple and easy to reimplement.",
        "Gains hold on both benchmarks.",
    ]
    assert len(report.weaknesses) == 2 and len(report.questions) == 1
    assert report.ethics_flag is False and review.meta is None and review.decision is None
    assert "details_of_ethics_concerns" not in review.notes


def test_render_writes_the_documented_layout() -> None:
    assert openreviewer.render(parse_review(DOCUMENTED)) == DOCUMENTED


def test_flagged_paper_keeps_its_concerns() -> None:
    text = DOCUMENTED.replace(
        "No ethics review needed.", "Yes, Privacy, security and safety"
    ).replace(
        "## Details Of Ethics Concerns\n\n", "## Details Of Ethics Concerns\nThe data has names.\n"
    )
    review = parse_review(text, "openreviewer")
    assert review.reports[0].ethics_flag is True
    assert review.notes["details_of_ethics_concerns"] == "The data has names."
    rendered = parse_review(openreviewer.render(review), "openreviewer")
    assert _without_raw(rendered) == _without_raw(review)


def test_what_a_model_adds_is_read_and_warned_about() -> None:
    text = (
        "Here is my review.\n\n"  # chatter before the review
        "## Summary:\nA method.\n\n"
        "## Soundness: **2**\n\n"  # value on the heading line, in bold (DeepReviewer's style)
        "## Weaknesses\n1. Few baselines.\n\n## Minor points\n2. Typos.\n\n"  # own heading kept
        "## Rating\n7: good\n\n"  # not one of the form's choices
        "## Rating\n3\n\n"  # repeated
        "## Confidence\n9\n"  # outside the scale
    )
    assert detect_format(text) == "deepreviewer"  # `## Soundness:` is its final review's
    assert detect_format(text.replace("## Soundness: **2**", "## Soundness\n**2**")) == (
        "openreviewer"
    )
    review = parse_review(text, "openreviewer")
    (report,) = review.reports
    assert report.soundness == Score(2.0, "**2**")
    assert report.weaknesses == ["Few baselines.\n\n## Minor points", "Typos."]
    assert report.rating.value == 7 and report.confidence.value == 9
    warnings = "\n".join(review.warnings)
    assert "no '# Review' heading" in warnings
    assert "rating 7 is not one of the form's choices (1, 3, 5, 6, 8, 10)" in warnings
    assert "'## Rating' repeated; kept the first" in warnings
    assert "confidence 9 is outside its scale 1-5" in warnings
    for missing in ("Presentation", "Contribution", "Strengths", "Questions"):
        assert f"no '## {missing}'" in warnings


def test_text_without_its_headings_is_no_review() -> None:
    review = parse_review("I liked the paper. Rating: 8.", "openreviewer")
    assert review.is_empty()
    assert review.warnings == [
        "no OpenReviewer field heading ('## Summary', '## Soundness', ..., '## Rating') found"
    ]
    assert detect_format("I liked the paper. Rating: 8.") is None


@pytest.mark.parametrize("keep", [0.2, 0.45, 0.7, 0.9])
def test_cut_output_keeps_what_was_written(keep: float) -> None:
    cut = DOCUMENTED[: int(len(DOCUMENTED) * keep)]
    review = parse_review(cut, "openreviewer")
    whole = parse_review(DOCUMENTED, "openreviewer").reports[0]
    (report,) = review.reports
    for name, value in report.scores().items():
        assert value in (None, whole.scores()[name])  # nothing misread at the cut
    assert set(report.scores()) < set(whole.scores())
    assert any(w.startswith("no '## ") for w in review.warnings)
    # a cut answer is served marked incomplete whatever the parser read (finish reason)
    result = mark({"warnings": review.warnings}, {"finish": "length", "tokens": 99}, _model())
    assert result["complete"] is False and result["warnings"][0].startswith("review incomplete")


def test_a_score_cut_mid_number_is_not_trusted() -> None:
    cut = DOCUMENTED.replace("## Rating\n6", "## Rating\n10").split("## Rating\n1")[0]
    review = parse_review(cut + "## Rating\n1", "openreviewer")
    assert review.reports[0].rating == Score(None, "1")  # "1" may be the start of "10"
    assert "no number in '## Rating' ('1')" in review.warnings


def test_real_outputs_of_other_formats_are_not_taken_for_openreviewer(shared_dir: Path) -> None:
    folder = shared_dir / "data" / "reviewer-outputs"
    for path in sorted(folder.glob("*.txt")):
        assert detect_format(path.read_text(encoding="utf-8")) != "openreviewer", path.name


_text = (
    st.text(
        # no '#' (a heading) or '*' (a `*****` line is a separator to the Markdown reader)
        st.characters(codec="utf-8", exclude_characters="#*\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
        min_size=1,
        max_size=40,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: s and not s.startswith("-"))
)
_items = st.lists(_text.filter(lambda s: not re.match(r"\d{1,3}[.)] |•", s)), max_size=3)


@given(
    summary=st.one_of(st.none(), _text),
    subs=st.lists(st.sampled_from(["1", "2", "3", "4", "3 good"]), min_size=3, max_size=3),
    rating=st.sampled_from(["1", "3", "5", "6", "8", "10"]),
    confidence=st.sampled_from(["1", "2", "3", "4", "5"]),
    strengths=_items,
    weaknesses=_items,
    questions=_items,
    flagged=st.booleans(),
)
def test_parse_of_render_is_identity(
    summary, subs, rating, confidence, strengths, weaknesses, questions, flagged
) -> None:
    report = ReviewerReport(
        summary=summary,
        soundness=Score.read(subs[0]),
        presentation=Score.read(subs[1]),
        contribution=Score.read(subs[2]),
        strengths=strengths,
        weaknesses=weaknesses,
        questions=questions,
        rating=Score.read(rating),
        confidence=Score.read(confidence),
        ethics_text="Yes, Other reasons (please specify below)"
        if flagged
        else "No ethics review needed.",
        ethics_flag=flagged,
    )
    review = Review(format="openreviewer", reports=[report])
    if flagged:
        review.notes["details_of_ethics_concerns"] = "Scraped data."
    assert _without_raw(parse_review(openreviewer.render(review), "openreviewer")) == review


def test_structured_answer_of_a_real_model_is_read_whole(smollm2_gguf: Path) -> None:
    """SmolLM2 under the format's skeleton grammar (models with `structured = true`): the layout
    is forced, the words are the model's; every field is read, no warning."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(smollm2_gguf), n_ctx=4096, n_threads=2, seed=0, verbose=False
    )
    try:
        messages = openreviewer.build_messages("Sparse routing cuts attention cost by 3x.")
        answer = llm.create_chat_completion(
            messages=messages,  # type: ignore[arg-type]
            grammar=llama_cpp.LlamaGrammar.from_string(openreviewer_grammar(), verbose=False),
            max_tokens=600,
            temperature=0.0,
        )
    finally:
        llm.close()
    text = answer["choices"][0]["message"]["content"]
    assert answer["choices"][0]["finish_reason"] == "stop"
    review = parse_review(text)
    assert review.format == "openreviewer" and review.warnings == []
    scores = review.reports[0].scores()
    assert set(scores) == {"soundness", "presentation", "contribution", "rating", "confidence"}
    assert scores["rating"] in openreviewer.RATING_CHOICES


def _without_raw(review: Review) -> Review:
    review.raw_text = ""
    review.warnings = []
    return review


def _model() -> ModelConfig:
    return ModelConfig(name="openreviewer-8b", format="openreviewer", n_ctx=8192)
