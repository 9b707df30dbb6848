"""Reviewer and researcher metrics, as DeepReview's evaluation script and CycleResearcher
define them, plus the human and constant baselines of `shared/data/reviews/README.md`.

Pure numpy, so the definitions can be checked by hand: Spearman is Pearson on average
ranks (ties share their mean rank), macro F1 is the unweighted mean of per-class F1,
pairwise accuracy counts paper pairs i < j where `true_i > true_j` equals `pred_i > pred_j`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def mse(pred: Sequence[float], true: Sequence[float]) -> float:
    p, t = np.asarray(pred, float), np.asarray(true, float)
    return float(np.mean((p - t) ** 2))


def mae(pred: Sequence[float], true: Sequence[float]) -> float:
    p, t = np.asarray(pred, float), np.asarray(true, float)
    return float(np.mean(np.abs(p - t)))


def ranks(values: Sequence[float]) -> np.ndarray:
    """1-based ranks; tied values get the mean of the ranks they span."""
    values = np.asarray(values, float)
    order = np.argsort(values, kind="mergesort")
    result = np.empty(len(values))
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[order[j + 1]] == values[order[i]]:
            j += 1
        result[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return result


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")  # a constant has no correlation with anything
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(ranks(x), ranks(y))


def accuracy(pred: Sequence[str], true: Sequence[str]) -> float:
    return float(np.mean([p == t for p, t in zip(pred, true, strict=True)]))


def macro_f1(
    pred: Sequence[str], true: Sequence[str], labels: Sequence[str] | None = None
) -> float:
    """sklearn's f1_score(average="macro"): classes are those present in either list."""
    labels = sorted(set(pred) | set(true)) if labels is None else list(labels)
    scores = []
    for label in labels:
        tp = sum(p == label and t == label for p, t in zip(pred, true, strict=True))
        fp = sum(p == label and t != label for p, t in zip(pred, true, strict=True))
        fn = sum(p != label and t == label for p, t in zip(pred, true, strict=True))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def pairwise_accuracy(pred: Sequence[float], true: Sequence[float]) -> float:
    p, t = np.asarray(pred, float), np.asarray(true, float)
    i, j = np.triu_indices(len(p), k=1)
    if len(i) == 0:
        return float("nan")
    return float(np.mean((t[i] > t[j]) == (p[i] > p[j])))


def regression_metrics(pred: Sequence[float], true: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(pred),
        "mse": mse(pred, true),
        "mae": mae(pred, true),
        "spearman": spearman(pred, true),
        "pearson": pearson(pred, true),
        "pairwise_accuracy": pairwise_accuracy(pred, true),
    }


def human_leave_one_out(ratings_per_paper: Sequence[Sequence[float]]) -> dict[str, float]:
    """Each human reviewer against the mean of the other reviewers of the same paper,
    micro-averaged over (paper, reviewer); papers with fewer than two reviews are skipped.
    `constant_mae` is the mean of all ratings used as the prediction for the same targets."""
    singles, others, groups = [], [], []
    for ratings in ratings_per_paper:
        if len(ratings) < 2:
            continue
        total = sum(ratings)
        for r in ratings:
            singles.append(r)
            others.append((total - r) / (len(ratings) - 1))
        groups.append(len(ratings))
    singles_a, others_a = np.asarray(singles), np.asarray(others)
    constant = float(np.mean([r for ratings in ratings_per_paper for r in ratings]))
    low, high = _paper_bootstrap(np.abs(singles_a - others_a), groups)
    return {
        "pairs": len(singles),
        "papers": len(groups),
        "mae": mae(singles_a, others_a),
        "mae_ci95": [low, high],
        "mse": mse(singles_a, others_a),
        "pearson": pearson(singles_a, others_a),
        "constant": constant,
        "constant_mae": mae(np.full(len(others_a), constant), others_a),
    }


def _paper_bootstrap(errors: np.ndarray, groups: list[int], rounds: int = 2000, seed: int = 0):
    """95% interval of the micro mean, resampling papers (a paper's reviewers stay together)."""
    starts = np.cumsum([0, *groups[:-1]])
    sums = np.add.reduceat(errors, starts)
    counts = np.asarray(groups, float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), size=(rounds, len(groups)))
    means = sums[picks].sum(1) / counts[picks].sum(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def mean_ci(values: Sequence[float], z: float = 1.96) -> tuple[float, float, float]:
    """Mean and a normal-approximation 95% interval (CycleResearcher's average score)."""
    x = np.asarray(values, float)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(x.mean())
    half = z * float(x.std(ddof=1)) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
    return mean, mean - half, mean + half


def wilson_ci(successes: int, n: int, z: float = 1.96) -> tuple[float, float, float]:
    """A rate and its Wilson 95% interval (acceptance rate; sane at 0% and 100%)."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return p, max(0.0, centre - half), min(1.0, centre + half)
