"""Evaluation metrics against hand-computed values, and the human baselines of the shared
ICLR files (shared/data/reviews/README.md: 0.963 for ICLR 2017, 1.218 for ICLR 2022)."""

from __future__ import annotations

import math

import pytest
from papercycle.trainer.data import load_papers
from papercycle.trainer.eval import metrics
from papercycle.trainer.eval.reviewer import baselines


def test_mse_mae():
    assert metrics.mse([1, 2, 4], [1, 3, 2]) == pytest.approx((0 + 1 + 4) / 3)
    assert metrics.mae([1, 2, 4], [1, 3, 2]) == pytest.approx((0 + 1 + 2) / 3)


def test_ranks_share_ties():
    assert list(metrics.ranks([10, 20, 20, 5])) == [2.0, 3.5, 3.5, 1.0]


def test_spearman_by_hand():
    # ranks x: 1, 2.5, 2.5, 4; y: 1, 3, 2, 4 -> Pearson of the ranks
    x, y = [1, 2, 2, 3], [1, 3, 2, 4]
    rx, ry = [1, 2.5, 2.5, 4], [1, 3, 2, 4]
    mx, my = sum(rx) / 4, sum(ry) / 4
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    sx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    sy = math.sqrt(sum((b - my) ** 2 for b in ry))
    assert metrics.spearman(x, y) == pytest.approx(cov / (sx * sy))
    assert metrics.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(metrics.spearman([1, 1, 1], [1, 2, 3]))


def test_decision_accuracy_and_macro_f1():
    pred = ["Accept", "Reject", "Reject", "Accept", "Reject"]
    true = ["Accept", "Accept", "Reject", "Reject", "Reject"]
    assert metrics.accuracy(pred, true) == pytest.approx(3 / 5)
    # Accept: tp 1, fp 1, fn 1 -> F1 0.5; Reject: tp 2, fp 1, fn 1 -> F1 2/3
    assert metrics.macro_f1(pred, true) == pytest.approx((0.5 + 2 / 3) / 2)


def test_pairwise_accuracy():
    true, pred = [1, 2, 3], [3, 2, 4]
    # (0,1): 1>2 F vs 3>2 T, differ; (0,2): F vs F, same; (1,2): F vs F, same
    assert metrics.pairwise_accuracy(pred, true) == pytest.approx(2 / 3)


def test_intervals():
    mean, low, high = metrics.mean_ci([4, 6])
    assert mean == 5 and low == pytest.approx(5 - 1.96 * math.sqrt(2) / math.sqrt(2))
    rate, low, high = metrics.wilson_ci(0, 10)
    assert rate == 0 and low == 0 and 0.2 < high < 0.35


def test_leave_one_out_by_hand():
    result = metrics.human_leave_one_out([[2, 4], [1, 2, 3]])
    # paper 1: |2-4|, |4-2| ; paper 2: |1-2.5|, |2-2|, |3-1.5|
    assert result["mae"] == pytest.approx((2 + 2 + 1.5 + 0 + 1.5) / 5)
    constant = (2 + 4 + 1 + 2 + 3) / 5
    others = [4, 2, 2.5, 2, 1.5]
    assert result["constant_mae"] == pytest.approx(sum(abs(constant - o) for o in others) / 5)


@pytest.mark.parametrize(
    ("adapter", "name", "mae", "mse", "constant_mae"),
    [
        ("iclr2017", "iclr2017_reviews.jsonl", 0.963, 1.637, 1.154),
        ("iclr2022", "iclr2022_papers_scores.jsonl.gz", 1.218, 2.531, 1.023),
    ],
)
def test_human_baselines_reproduced(shared_dir, adapter, name, mae, mse, constant_mae):
    papers = load_papers(adapter, shared_dir / "data" / "reviews" / name)
    rating = baselines(papers)["rating"]
    assert round(rating["mae"], 3) == mae
    assert round(rating["mse"], 3) == mse
    assert round(rating["constant_mae"], 3) == constant_mae
    low, high = rating["mae_ci95"]
    assert low < mae < high


def test_baselines_cli(shared_dir, tmp_path):
    from helpers import papercycle

    data = shared_dir / "data" / "reviews" / "iclr2017_reviews.jsonl"
    result = papercycle(
        "eval", "baselines", "--data", str(data), "--adapter", "iclr2017", "-o", str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "| rating | 1495 | 0.963" in result.stdout
    assert (tmp_path / "baselines.json").exists()
