"""Rewards, pairing and the evaluation aggregates, with fake models (no weights needed)."""

from __future__ import annotations

import pytest
from grammar_check import llama_cpp_parses
from papercycle.formats import cyclereviewer
from papercycle.formats.review import Decision, MetaReview, Review, ReviewerReport, Score
from papercycle.trainer.data.papers import Paper
from papercycle.trainer.eval.researcher import evaluate_researcher
from papercycle.trainer.eval.reviewer import evaluate_reviewer, predicted_score
from papercycle.trainer.recipes.simpo import make_pairs
from papercycle.trainer.reward.review_grammar import cyclereviewer_grammar
from papercycle.trainer.reward.reviewer_score import ReviewerScorer, ReviewScore


def _review(ratings, decision="Reject", meta_rating=None) -> Review:
    reports = [ReviewerReport(rating=Score(float(r), f"{r}: text")) for r in ratings]
    meta = MetaReview(rating=Score(meta_rating, str(meta_rating))) if meta_rating else None
    return Review(
        format="cyclereviewer", reports=reports, meta=meta, decision=Decision.read(decision)
    )


class FakeGenerator:
    def __init__(self, texts):
        self.texts, self.calls = texts, []

    def generate(self, messages, **kwargs):
        self.calls.append((messages, kwargs))
        return self.texts[: kwargs["n"]]


def test_reviewer_scorer_averages_samples_and_counts_failures():
    texts = [
        cyclereviewer.render(_review([3, 5])),
        "no review at all",
        cyclereviewer.render(_review([8, 6], "Accept (poster)")),
    ]
    generator = FakeGenerator(texts)
    score = ReviewerScorer(generator, samples=3, grammar=True, reviewers=2).score("paper text")
    assert score.ratings == [4.0, 7.0] and score.reward == pytest.approx(5.5)
    assert score.unparsed == 1 and score.accepts == [False, True]
    messages, kwargs = generator.calls[0]
    assert messages == cyclereviewer.build_messages("paper text")
    assert kwargs["grammar"] == cyclereviewer_grammar(2)


def test_pairs_best_vs_worst_with_a_margin():
    prompts = [{"messages": [{"role": "user", "content": str(i)}]} for i in range(4)]
    drafts = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"], ["j", "k", "l"]]
    rewards = [[5.0, 7.5, 3.0], [5.0, 5.2, None], [4.0, 4.0, 4.0], [None, 6.0, None]]
    pairs, skipped = make_pairs(prompts, drafts, rewards, min_margin=0.5)
    assert [(p.chosen, p.rejected, p.margin) for p in pairs] == [("b", "c", 4.5)]
    assert skipped == 3  # margin 0.2, margin 0, a single scored draft


def test_predicted_score_prefers_the_meta_rating():
    assert predicted_score(_review([3, 5]), "rating") == 4.0
    assert predicted_score(_review([3, 5], meta_rating=6.5), "rating") == 6.5
    assert predicted_score(_review([]), "rating") is None


def test_evaluate_reviewer_by_hand():
    papers = [
        Paper(id=str(i), text="", reports=[ReviewerReport(rating=Score(float(r), "")) for r in human],
              decision=Decision.read(d))
        for i, (human, d) in enumerate([([3, 5], "Reject"), ([6, 8], "Accept"), ([1, 3, 5], "Reject")])
    ]  # fmt: skip
    reviews = {
        "0": [_review([5], "Reject"), _review([3], "Reject")],  # mean 4
        "1": [_review([6], "Accept")],
        "2": [_review([6], "Accept")],
    }
    result = evaluate_reviewer(papers, reviews)
    rating = result["scores"]["rating"]
    # human means 4, 7, 3; predictions 4, 6, 6
    assert rating["mae"] == pytest.approx((0 + 1 + 3) / 3)
    assert rating["mse"] == pytest.approx((0 + 1 + 9) / 3)
    # pairs: (0,1) 4>7 F vs 4>6 F same; (0,2) T vs F; (1,2) 7>3 T vs 6>6 F (a tie is not ">")
    assert rating["pairwise_accuracy"] == pytest.approx(1 / 3)
    assert rating["constant_mae"] == pytest.approx((2 / 3 + 7 / 3 + 5 / 3) / 3)
    assert rating["human_loo"]["pairs"] == 7
    decision = result["decision"]
    assert decision["accuracy"] == pytest.approx(2 / 3)
    assert decision["majority_class"] == "Reject" and decision[
        "majority_accuracy"
    ] == pytest.approx(2 / 3)


def test_evaluate_researcher_intervals():
    scores = [
        ReviewScore(reward=5.0, accepts=[True, True, False]),
        ReviewScore(reward=3.0, accepts=[False, False]),
        ReviewScore(reward=None, unparsed=2),
    ]
    result = evaluate_researcher(scores)
    assert result["average_score"] == 4.0 and result["rated"] == 2
    assert result["acceptance_rate"] == 0.5
    low, high = result["acceptance_rate_ci95"]
    assert 0 < low < 0.5 < high < 1
    assert result["unparsed_reviews"] == 2


def test_reviewer_grammar_compiles_in_llama_cpp(tiny_gguf):
    assert llama_cpp_parses(cyclereviewer_grammar(3), tiny_gguf)
