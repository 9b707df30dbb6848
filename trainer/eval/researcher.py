"""Researcher evaluation, the CycleResearcher metric: the average simulated review score and
the acceptance rate of generated papers under a chosen reviewer, with 95% intervals."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from papercycle.trainer.eval import metrics
from papercycle.trainer.reward.reviewer_score import ReviewScore


def evaluate_researcher(scores: Sequence[ReviewScore]) -> dict:
    """One `ReviewScore` per generated paper (several reviewer samples each). A paper is
    accepted when most of its reviews decide Accept."""
    rated = [s.reward for s in scores if s.reward is not None]
    accepted = sum(1 for s in scores if s.accepts and sum(s.accepts) > len(s.accepts) / 2)
    judged = sum(1 for s in scores if s.accepts)
    mean, low, high = metrics.mean_ci(rated)
    rate, rate_low, rate_high = metrics.wilson_ci(accepted, judged)
    return {
        "papers": len(scores),
        "rated": len(rated),
        "average_score": mean,
        "average_score_ci95": [low, high],
        "score_std": statistics.pstdev(rated) if len(rated) > 1 else float("nan"),
        "acceptance_rate": rate,
        "acceptance_rate_ci95": [rate_low, rate_high],
        "unparsed_reviews": sum(s.unparsed for s in scores),
        "ratings": rated,
    }
