"""Property tests: render a random review in each format, parse it back, get it back; cut a
real output anywhere, parse it, never raise and keep everything before the cut."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from papercycle.formats import (
    aiscientist,
    cyclereviewer,
    deepreviewer,
    parse_review,
    section,
)
from papercycle.formats.review import (
    Decision,
    MetaReview,
    Review,
    ReviewerReport,
    Score,
    SectionComment,
    SectionReview,
)

# Words of a Markdown report: start with a letter, no characters with a meaning in the
# layout (#, *, braces, backticks), no list marker at the start.
line = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.;:()'?!/-]{0,50}[A-Za-z0-9.?!)]", fullmatch=True)
paragraphs = st.lists(line, min_size=1, max_size=3).map("\n\n".join)
items = st.lists(line, max_size=4)
maybe = st.one_of  # readability: maybe(st.none(), x)

SUBSCORES = [(1, "1 poor"), (2, "2 fair"), (3, "3 good"), (4, "4 excellent")]
RATINGS = [
    (1, "1: strong reject"),
    (3, "3: reject, not good enough"),
    (5, "5: marginally below the acceptance threshold"),
    (6, "6: marginally above the acceptance threshold"),
    (8, "8: accept, good paper"),
    (10, "10: strong accept, should be highlighted at the conference"),
]
CONFIDENCES = [
    (n, f"{n}: You are {word} in your assessment.")
    for n, word in [
        (1, "guessing"),
        (2, "willing to defend"),
        (3, "fairly confident"),
        (4, "confident"),
        (5, "certain"),
    ]
]
ETHICS = [("No ethics review needed.", False), ("Yes, Privacy, security and safety", True)]


def iclr_score(table: list[tuple[int, str]]) -> st.SearchStrategy[Score]:
    return st.sampled_from(table).map(lambda pair: Score(float(pair[0]), pair[1]))


def bare_score(low: int, high: int) -> st.SearchStrategy[Score]:
    return st.integers(low, high).map(lambda n: Score(float(n), str(n)))


def float_score(low: int, high: int) -> st.SearchStrategy[Score]:
    """DeepReviewer's final scores: means of reviewers' scores, written like 2.67 or 5.0."""
    return st.integers(low * 100, high * 100).map(
        lambda n: Score(round(n / 100, 2), f"{round(n / 100, 2)}")
    )


@st.composite
def cyclereviewer_reports(draw) -> ReviewerReport:
    ethics = draw(maybe(st.none(), st.sampled_from(ETHICS)))
    return ReviewerReport(
        summary=draw(maybe(st.none(), paragraphs)),
        soundness=draw(maybe(st.none(), iclr_score(SUBSCORES))),
        presentation=draw(maybe(st.none(), iclr_score(SUBSCORES))),
        contribution=draw(maybe(st.none(), iclr_score(SUBSCORES))),
        strengths=draw(items),
        weaknesses=draw(items),
        questions=draw(items),
        rating=draw(maybe(st.none(), iclr_score(RATINGS))),
        confidence=draw(maybe(st.none(), iclr_score(CONFIDENCES))),
        ethics_text=ethics[0] if ethics else None,
        ethics_flag=ethics[1] if ethics else None,
    )


DECISIONS = [
    Decision("Accept", "Accept (poster)"),
    Decision("Accept", "Accept (oral)"),
    Decision("Reject", "Reject"),
    Decision("Reject", "Reject (Score = 5)"),
]


@st.composite
def cyclereviewer_reviews(draw) -> Review:
    meta = draw(
        maybe(
            st.none(),
            st.builds(
                MetaReview,
                text=maybe(st.none(), paragraphs),
                justification_for_why_not_higher_score=maybe(st.none(), line),
                justification_for_why_not_lower_score=maybe(st.none(), line),
            ),
        )
    )
    return Review(
        format="cyclereviewer",
        reports=draw(st.lists(cyclereviewer_reports(), min_size=1, max_size=5)),
        meta=meta,
        decision=draw(maybe(st.none(), st.sampled_from(DECISIONS))),
    )


def parsed_equals(parsed: Review | SectionReview, expected: Review | SectionReview) -> None:
    assert dataclasses.replace(parsed, raw_text="", warnings=[]) == expected


@given(cyclereviewer_reviews())
def test_cyclereviewer_round_trip(review: Review) -> None:
    text = cyclereviewer.render(review)
    parsed = parse_review(text)
    parsed_equals(parsed, review)
    assert Review.from_json(parsed.to_json()) == parsed


@st.composite
def simulated_reviewers(draw) -> ReviewerReport:
    iclr = draw(st.booleans())  # bare numbers or ICLR strings, as in the real outputs
    return ReviewerReport(
        summary=draw(maybe(st.none(), paragraphs)),
        soundness=draw(maybe(st.none(), iclr_score(SUBSCORES) if iclr else bare_score(1, 4))),
        presentation=draw(maybe(st.none(), iclr_score(SUBSCORES) if iclr else bare_score(1, 4))),
        contribution=draw(maybe(st.none(), iclr_score(SUBSCORES) if iclr else bare_score(1, 4))),
        strengths=draw(items),
        weaknesses=draw(items),
        related_works=draw(
            st.lists(
                st.from_regex(r"\[[1-9]\] [A-Z][a-z ,:-]{0,30}[a-z]", fullmatch=True), max_size=3
            )
        ),
        suggestions=draw(items),
        questions=draw(items),
        rating=draw(maybe(st.none(), iclr_score(RATINGS) if iclr else bare_score(1, 10))),
        confidence=draw(maybe(st.none(), iclr_score(CONFIDENCES) if iclr else bare_score(1, 5))),
    )


@st.composite
def final_reviews(draw) -> MetaReview:
    return MetaReview(
        summary=draw(maybe(st.none(), paragraphs)),
        soundness=draw(maybe(st.none(), float_score(1, 4))),
        presentation=draw(maybe(st.none(), float_score(1, 4))),
        contribution=draw(maybe(st.none(), float_score(1, 4))),
        strengths=draw(items),
        weaknesses=draw(items),
        suggestions=draw(items),
        questions=draw(items),
        rating=draw(maybe(st.none(), float_score(1, 10))),
        confidence=draw(maybe(st.none(), float_score(1, 5))),
    )


@given(
    mode=st.sampled_from(["fast", "standard"]),
    reports=st.lists(simulated_reviewers(), min_size=1, max_size=5),
    meta=final_reviews(),
    decision=st.sampled_from([Decision("Accept", "Accept"), Decision("Reject", "Reject")]),
    verification=paragraphs,
)
def test_deepreviewer_round_trip(mode, reports, meta, decision, verification) -> None:
    review = Review(
        format="deepreviewer",
        mode=mode,
        reports=reports if mode == "standard" else [],
        meta=meta,
        decision=decision,
        notes={"verification": verification} if mode == "standard" else {},
    )
    text = deepreviewer.render(review, mode)
    parsed = parse_review(text)
    parsed_equals(parsed, review)
    assert Review.from_json(parsed.to_json()) == parsed


form_text = st.text(max_size=40)  # JSON escapes anything


@st.composite
def ai_scientist_reviews(draw) -> Review:
    report = ReviewerReport(
        summary=draw(maybe(st.none(), form_text)),
        strengths=draw(st.lists(form_text, max_size=3)),
        weaknesses=draw(st.lists(form_text, max_size=3)),
        questions=draw(st.lists(form_text, max_size=3)),
        limitations=draw(st.lists(form_text, max_size=3)),
        ethics_flag=draw(st.booleans()),
    )
    for name, (low, high) in aiscientist.FORM_SCORES.values():
        aiscientist._set_score(report, name, draw(bare_score(low, high)))
    return Review(
        format="aiscientist",
        reports=[report],
        decision=draw(
            st.sampled_from([Decision("Accept", "Accept"), Decision("Reject", "Reject")])
        ),
        notes={"thought": draw(line)},
    )


@given(ai_scientist_reviews())
def test_ai_scientist_round_trip(review: Review) -> None:
    parsed = parse_review(aiscientist.render(review))
    parsed_equals(parsed, review)
    assert parsed.warnings == []


@st.composite
def section_reviews(draw) -> SectionReview:
    comments = draw(
        st.lists(
            st.builds(
                SectionComment,
                category=st.sampled_from(section.CATEGORIES),
                severity=st.sampled_from(section.SEVERITIES),
                quote=st.text(min_size=1, max_size=30),
                comment=st.text(min_size=1, max_size=30),
                suggested_rewrite=maybe(st.none(), st.text(min_size=1, max_size=30)),
            ),
            max_size=4,
        )
    )
    scores = {name: draw(st.sampled_from(section.SCORE_VALUES)) for name in section.SCORE_NAMES}
    return SectionReview(comments=comments, scores=scores)


@given(section_reviews())
def test_section_review_round_trip(review: SectionReview) -> None:
    text = section.render(review)
    parsed = parse_review(text, "section")
    parsed_equals(parsed, review)
    assert parsed.warnings == []
    assert SectionReview.from_json(parsed.to_json()) == parsed


# --- truncation of real outputs -------------------------------------------------------

REAL_OUTPUTS = [
    "cyclereviewer_format_grokked_transformers.txt",
    "cyclereviewer_format_r1zero.txt",
    *(
        f"deepreviewer_sample_{paper}_{mode}.txt"
        for paper in ("sqRgz88TM3", "syoLhUJmth", "tc1jaWpi7M")
        for mode in ("best_mode_step1", "best_mode_step2", "fast_mode", "standard_mode")
    ),
]
_REVIEWER_HEADING = re.compile(r"^## Reviewer[ \d]*$", re.MULTILINE)


@pytest.mark.parametrize("name", REAL_OUTPUTS)
def test_truncated_real_output_keeps_everything_before_the_cut(name: str, shared_dir: Path) -> None:
    path = shared_dir / "data" / "reviewer-outputs" / name
    text = path.read_text(encoding="utf-8").split("\n", 1)[1]
    full = parse_review(text)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cut=st.integers(0, len(text)))
    def check(cut: int) -> None:
        part = parse_review(text[:cut], full.format)
        # Every report begun before the cut is there; all but the last are complete.
        begun = [m for m in _REVIEWER_HEADING.finditer(text[:cut])]
        assert len(part.reports) == len(begun)
        complete = max(len(part.reports) - 1, 0)
        assert part.reports[:complete] == full.reports[:complete]
        if part.reports:
            last, whole = part.reports[-1], full.reports[len(part.reports) - 1]
            for name, value in last.scores().items():
                assert value is None or value == whole.scores()[name]
            if last.summary is not None and whole.summary is not None:
                assert whole.summary.startswith(last.summary.split("\n\n##")[0].strip())
        # The final review and decision: identical once complete, never wrong before.
        if full.meta is not None and part.meta is not None:
            for name, value in part.meta.scores().items():
                assert value is None or value == full.meta.scores()[name]
        if part.decision is not None:  # the line may be cut, never the verdict
            assert part.decision.verdict == full.decision.verdict
            assert full.decision.text.startswith(part.decision.text)
        if full.decision is not None and text[:cut].rstrip() == text.rstrip():
            assert part.decision == full.decision
        assert part.search_questions == full.search_questions[: len(part.search_questions)]
        if (
            "\\boxed_review{" in text[:cut]
            and text.index("\n}", text.index("\\boxed_review{")) + 2 <= cut
        ):
            assert part.meta == full.meta

    check()


# --- any text -------------------------------------------------------------------------

MARKERS = [
    "\\boxed_review{",
    "\\boxed_simreviewers{",
    "\\boxed_questions{",
    "## Reviewer 1",
    "## Reviewer",
    "### Rating",
    "## Rating:",
    "## Decision:",
    "## Paper Decision",
    "## Meta Review",
    "#### comment",
    "**********",
    "}",
    "{",
    "```json",
    "```",
    '"Overall": ',
    "NaN",
    "Infinity",
    '"comments": [',
    "10",
    "3 good",
    "\n",
    "\n\n",
]


@settings(max_examples=300)
@given(
    st.lists(st.one_of(st.sampled_from(MARKERS), st.text(max_size=12)), max_size=40).map("".join)
)
def test_any_text_parses_without_raising(text: str) -> None:
    for format_name in ("auto", "cyclereviewer", "deepreviewer", "aiscientist", "section"):
        review = parse_review(text, format_name)
        assert type(review).from_json(review.to_json()) == review
        assert isinstance(review.is_empty(), bool)
