"""One test per known quirk of the reviewer outputs (docs: review-formats.md §2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from papercycle.formats import aiscientist, cyclereviewer, deepreviewer, parse_review
from papercycle.formats.review import Decision, Score


def cycle_report(
    rating: str, confidence: str = "3: You are fairly confident in your assessment."
) -> str:
    return (
        "## Reviewer\n\n### Summary\n\nA paper.\n\n### Soundness\n\n3 good\n\n"
        "### Presentation\n\n2 fair\n\n### Contribution\n\n4 excellent\n\n"
        "### Strengths\n\n1. Clear.\n2. Novel.\n\n### Weaknesses\n\nSmall data.\n\n"
        "### Questions\n\nWhy?\n\n### Flag For Ethics Review\n\nNo ethics review needed.\n\n"
        f"### Rating\n\n{rating}\n\n### Confidence\n\n{confidence}\n\n**********\n\n"
    )


META_AND_DECISION = (
    "## Meta Review\n\nThe reviewers agree.\n\n### justification_for_why_not_higher_score\n\n"
    "Limited data.\n\n### justification_for_why_not_lower_score\n\nN/A\n\n**********\n\n"
    "## Paper Decision\n\nAccept (oral)"
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10: strong accept, should be highlighted at the conference", 10.0),
        ("1: strong reject", 1.0),
        ("3 good", 3.0),
        ("2 fair", 2.0),
        ("5", 5.0),
        ("5.67", 5.67),
        ("2.25", 2.25),
        ("**4**", 4.0),
        ("good", 3.0),
        ("not given", None),
    ],
)
def test_score_reading(text: str, value: float | None) -> None:
    assert Score.read(text) == Score(value, text)


def test_a_rating_of_10_is_10_not_its_first_character() -> None:
    text = (
        cycle_report("10: strong accept, should be highlighted at the conference")
        + META_AND_DECISION
    )
    review = cyclereviewer.parse(text)
    assert review.reports[0].rating == Score(
        10.0, "10: strong accept, should be highlighted at the conference"
    )
    # What the package's `float(rating[0])` would have read.
    assert float(review.reports[0].rating.text[0]) == 1.0
    assert review.warnings == []


def test_cyclereviewer_layout_with_separators_meta_and_decision() -> None:
    text = cycle_report("6: marginally above the acceptance threshold") * 2 + META_AND_DECISION
    review = cyclereviewer.parse(text)
    assert len(review.reports) == 2
    report = review.reports[0]
    assert report.summary == "A paper."
    assert (report.soundness.value, report.presentation.value, report.contribution.value) == (
        3,
        2,
        4,
    )
    assert report.strengths == ["Clear.", "Novel."]
    assert report.weaknesses == ["Small data."]
    assert report.ethics_flag is False
    assert report.confidence.text == "3: You are fairly confident in your assessment."
    assert "*" not in report.confidence.text
    assert review.meta.text == "The reviewers agree."
    assert review.meta.justification_for_why_not_higher_score == "Limited data."
    assert review.meta.justification_for_why_not_lower_score == "N/A"
    assert review.decision == Decision("Accept", "Accept (oral)")
    assert review.warnings == []


def test_output_after_a_prefilled_reviewer_heading() -> None:
    # The assistant turn was pre-filled with "\n\n## Reviewer\n": the output starts inside
    # the first report.
    text = cycle_report("8: accept, good paper") * 2 + META_AND_DECISION
    review = cyclereviewer.parse(text.removeprefix("## Reviewer\n"))
    assert [r.rating.value for r in review.reports] == [8, 8]
    assert review.reports[0] == review.reports[1]
    assert review.warnings == []


def test_repeated_paper_decision_loop_ending_mid_line(shared_dir: Path) -> None:
    path = shared_dir / "data/reviewer-outputs/cyclereviewer_format_r1zero.txt"
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]
    loop = "\n\n**********\n\n## Paper Decision\n\nReject (Score = 5)"
    looping = text + loop * 40 + "\n\n**********\n\n## Paper Decision\n\nRej"
    review = cyclereviewer.parse(looping)
    assert review.decision == Decision("Reject", "Reject (not selected for publication)")
    assert [r.rating.value for r in review.reports] == [3, 5, 5, 5]
    assert review.meta is not None
    assert any("repeated 42 times" in w for w in review.warnings)


def test_repeated_decision_loop_without_anything_else() -> None:
    text = (
        cycle_report("5: marginally below the acceptance threshold")
        + ("## Paper Decision\n\nReject (Score = 5)\n\n**********\n\n" * 3)
        + "## Paper Decision\n\nRe"
    )
    review = cyclereviewer.parse(text)
    assert review.decision == Decision("Reject", "Reject (Score = 5)")
    assert review.reports[0].rating.value == 5


def test_cut_off_cyclereviewer_keeps_what_was_read() -> None:
    text = (
        cycle_report("6: marginally above the acceptance threshold")
        + "## Reviewer\n\n### Summary\n\nThe pap"
    )
    review = cyclereviewer.parse(text)
    assert len(review.reports) == 2
    assert review.reports[0].rating.value == 6
    assert review.reports[1].summary == "The pap"
    assert review.decision is None
    assert "no '## Paper Decision' (output cut off?)" in review.warnings
    assert "reviewer 2: no Rating" in review.warnings


def test_number_cut_by_the_token_limit_is_not_trusted() -> None:
    text = cycle_report("6: marginally above").split("### Rating")[0] + "### Rating\n\n1"
    review = cyclereviewer.parse(text)
    assert review.reports[0].rating == Score(None, "1")
    assert any("no number in '### Rating'" in w for w in review.warnings)


BOXED_REVIEW = (
    "\\boxed_review{\n## Summary:\n\nA summary.\n\n\n## Soundness:\n\n2.67\n\n\n"
    "## Presentation:\n\n3.0\n\n\n## Contribution:\n\n2.25\n\n\n## Strengths:\n\nS.\n\n\n"
    "## Weaknesses:\n\nW.\n\n\n## Suggestions:\n\nX.\n\n\n## Questions:\n\nQ?\n\n\n"
    "## Rating:\n\n5.67\n\n\n## Confidence:\n\n3.0\n\n\n## Decision:\n\nReject\n}"
)


def test_boxed_review_colon_headers_and_float_scores() -> None:
    review = deepreviewer.parse("Preamble.\n\n" + BOXED_REVIEW)
    meta = review.meta
    assert (meta.soundness.value, meta.contribution.value, meta.rating.value) == (2.67, 2.25, 5.67)
    assert meta.rating.text == "5.67"
    assert review.decision == Decision("Reject", "Reject")
    assert review.warnings == []


def test_closing_brace_on_the_same_line_as_content() -> None:
    same_line = BOXED_REVIEW.replace("Reject\n}", "Reject}") + "\n\nTrailing words."
    review = deepreviewer.parse(same_line)
    assert review.decision == Decision("Reject", "Reject")
    assert review.warnings == []
    blocks = deepreviewer.find_blocks(
        "\\boxed_analysis{\nUses $O(n^{2})$ time and ends here.}\n\nNow, please tell me.\n"
        '\\boxed_verification{\n```json\n[{"a": {"b": 1}}]\n```}\n\nNext.'
    )
    assert [(b.name, b.closed) for b in blocks] == [("analysis", True), ("verification", True)]
    assert blocks[0].content.strip() == "Uses $O(n^{2})$ time and ends here."
    assert blocks[1].content.strip() == '```json\n[{"a": {"b": 1}}]\n```'


def test_missing_closing_brace_keeps_the_fields() -> None:
    cut = BOXED_REVIEW[: BOXED_REVIEW.index("## Confidence:")]
    review = deepreviewer.parse(cut)
    assert review.meta.rating.value == 5.67
    assert review.meta.confidence is None
    assert review.decision is None
    assert "\\boxed_review is not closed (output cut off?)" in review.warnings
    assert "final review: no Confidence" in review.warnings


def test_simulated_reviewer_scores_as_iclr_strings_and_bare_numbers() -> None:
    text = (
        "\\boxed_simreviewers{\n## Reviewer 1\n\n### Soundness\n\n2\n\n### Rating\n\n"
        "10: strong accept, should be highlighted at the conference\n\n**********\n\n"
        "## Reviewer 2\n\n### Soundness\n\n3 good\n\n### Rating\n\n3\n\n**********\n\n}\n"
        + BOXED_REVIEW
    )
    review = deepreviewer.parse(text)
    assert [r.rating.value for r in review.reports] == [10, 3]
    assert [r.soundness.text for r in review.reports] == ["2", "3 good"]


def test_best_mode_questions_are_extracted(shared_dir: Path) -> None:
    path = shared_dir / "data/reviewer-outputs/deepreviewer_sample_tc1jaWpi7M_best_mode_step1.txt"
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]
    # The package's pattern: `\b` is a word boundary, so it never finds the block...
    assert re.search(r"\boxed_questions\{(.*?)\}", text, re.DOTALL) is None
    # ...and its fallback sends every non-empty line (17 here) as a "question".
    questions = deepreviewer.extract_questions(text)
    assert len(questions) == 3
    assert all(q.endswith("?") for q in questions)
    assert deepreviewer.extract_questions("\\boxed_questions{\n1. What?\n2. Why?\n}") == [
        "What?",
        "Why?",
    ]


FORM = (
    '{"Summary": "S", "Strengths": ["a"], "Weaknesses": ["b"], "Originality": 3, "Quality": 2, '
    '"Clarity": 3, "Significance": 2, "Questions": ["q"], "Limitations": ["l"], '
    '"Ethical Concerns": false, "Soundness": 2, "Presentation": 3, "Contribution": 2, '
    '"Overall": 10, "Confidence": 4, "Decision": "Accept"}'
)


@pytest.mark.parametrize(
    "text",
    [
        f"THOUGHT:\nThe paper {{is}} fine.\n\nREVIEW JSON:\n```json\n{FORM}\n```\n",
        f"THOUGHT: ok\n\n{FORM}",
        f"```\n{FORM}\n```",
    ],
    ids=["fenced", "bare", "unlabelled-fence"],
)
def test_ai_scientist_form_fenced_or_bare(text: str) -> None:
    review = aiscientist.parse(text)
    assert review.warnings == []
    assert review.reports[0].rating == Score(10.0, "10")
    assert review.reports[0].other_scores["quality"].value == 2
    assert review.decision == Decision("Accept", "Accept")


def test_ai_scientist_form_with_control_characters() -> None:
    raw = FORM.replace('"Summary": "S"', '"Summary": "line one\nline\ttwo"').replace(
        ", ", ",\x0b ", 1
    )
    review = aiscientist.parse(f"REVIEW JSON:\n```json\n{raw}\n```")
    assert review.reports[0].summary == "line one\nline\ttwo"
    assert review.reports[0].rating.value == 10
    assert review.warnings == []


def test_ai_scientist_form_cut_off() -> None:
    cut = FORM[: FORM.index('"Overall": 10') + len('"Overall": 1')]
    review = aiscientist.parse(f"```json\n{cut}")
    report = review.reports[0]
    assert report.soundness.value == 2
    assert report.rating is None  # "1" may be the start of "10"
    assert review.decision is None
    assert any("incomplete" in w for w in review.warnings)


def test_ai_scientist_scores_that_are_not_numbers() -> None:
    text = FORM.replace('"Overall": 10', '"Overall": NaN').replace(
        '"Quality": 2', '"Quality": true'
    )
    review = aiscientist.parse(text)
    assert review.reports[0].rating is None
    assert "quality" not in review.reports[0].other_scores
    assert "Overall is not a number: nan" in review.warnings
    assert review.reports[0].soundness.value == 2


def test_nothing_review_like() -> None:
    review = parse_review("Hello, I am a language model. {not json}")
    assert review.is_empty()
    assert review.format is None
    assert review.warnings
