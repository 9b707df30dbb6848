"""Reviewer evaluation against human reviews (DeepReview's definitions).

Targets are the mean of each paper's human reviewers; a prediction is the review's meta
score when it has one, else the mean of its reviewers' scores (several samples are
averaged). Beside the model, on the same papers: each human reviewer against the mean of
the others (leave-one-out, the README's baseline), and a constant predictor (the mean
human rating of these papers, which flatters it: it knows the test mean).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from papercycle.formats.review import Review
from papercycle.trainer.data.papers import Paper
from papercycle.trainer.eval import metrics

SCORES = ("rating", "soundness", "presentation", "contribution")


def predicted_score(review: Review, name: str) -> float | None:
    if review.meta is not None:
        value = review.meta.scores().get(name)
        if value is not None:
            return value
    values = [v for r in review.reports if (v := r.scores().get(name)) is not None]
    return statistics.fmean(values) if values else None


def predicted_decision(reviews: Sequence[Review]) -> str | None:
    verdicts = [r.decision.verdict for r in reviews if r.decision and r.decision.verdict]
    if not verdicts:
        return None
    return "Accept" if verdicts.count("Accept") > len(verdicts) / 2 else "Reject"


def evaluate_reviewer(papers: Sequence[Paper], reviews: dict[str, list[Review]]) -> dict:
    """Metrics per score and for the decision; `reviews` maps paper id → parsed samples."""
    result: dict = {"papers": len(papers), "parsed": 0, "scores": {}, "decision": None}
    result["parsed"] = sum(
        1 for p in papers if any(not r.is_empty() for r in reviews.get(p.id, []))
    )
    for name in SCORES:
        pred, true, ids = [], [], []
        for paper in papers:
            human = paper.human_scores(name)
            samples = [
                v for r in reviews.get(paper.id, []) if (v := predicted_score(r, name)) is not None
            ]
            if human and samples:
                pred.append(statistics.fmean(samples))
                true.append(statistics.fmean(human))
                ids.append(paper.id)
        if not pred:
            continue
        entry = metrics.regression_metrics(pred, true)
        constant = statistics.fmean(true)
        entry["constant_mae"] = metrics.mae([constant] * len(true), true)
        entry["constant_mse"] = metrics.mse([constant] * len(true), true)
        scored = [p for p in papers if p.id in set(ids)]
        loo = metrics.human_leave_one_out([p.human_scores(name) for p in scored])
        entry["human_loo"] = {k: loo[k] for k in ("pairs", "mae", "mae_ci95", "mse", "pearson")}
        entry["pred"], entry["true"], entry["ids"] = pred, true, ids
        result["scores"][name] = entry
    pred_d, true_d = [], []
    for paper in papers:
        decision = predicted_decision(reviews.get(paper.id, []))
        if decision and paper.accepted is not None:
            pred_d.append(decision)
            true_d.append("Accept" if paper.accepted else "Reject")
    if pred_d:
        majority = max(set(true_d), key=true_d.count)
        result["decision"] = {
            "n": len(pred_d),
            "accuracy": metrics.accuracy(pred_d, true_d),
            "macro_f1": metrics.macro_f1(pred_d, true_d),
            "majority_class": majority,
            "majority_accuracy": metrics.accuracy([majority] * len(true_d), true_d),
            "predicted_accept_rate": pred_d.count("Accept") / len(pred_d),
        }
    return result


def baselines(papers: Sequence[Paper]) -> dict:
    """The human leave-one-out baseline and the constant predictor, per score."""
    out = {}
    for name in SCORES:
        per_paper = [p.human_scores(name) for p in papers]
        if sum(len(x) >= 2 for x in per_paper):
            out[name] = metrics.human_leave_one_out(per_paper)
    return out
