"""The reviewer as a reward: average rating over several sampled reviews of one paper.

A single review is noisy (seed-to-seed Spearman 0.51 for CycleReviewer-8B, per
review-formats.md §4.5), so each draft is reviewed `samples` times and the parsed ratings
are averaged; unparsable samples are dropped and counted.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from papercycle.formats import cyclereviewer, deepreviewer, parse_review
from papercycle.formats.review import Review
from papercycle.trainer.reward.review_grammar import cyclereviewer_grammar


@dataclass
class ReviewScore:
    reward: float | None  # mean rating over the parsed samples; None when none parsed
    ratings: list[float] = field(default_factory=list)
    accepts: list[bool] = field(default_factory=list)
    unparsed: int = 0
    reviews: list[Review] = field(default_factory=list)


def review_rating(review: Review) -> float | None:
    """The paper's rating in a review: the meta rating when given (DeepReviewer's final
    review), else the mean of the reviewers' ratings (CycleReviewer's avg_rating)."""
    if review.meta is not None and review.meta.rating is not None and review.meta.rating.value:
        return review.meta.rating.value
    ratings = [r.rating.value for r in review.reports if r.rating and r.rating.value is not None]
    return statistics.fmean(ratings) if ratings else None


SELF_SCORES = re.compile(r"^##\s*(Interestingness|Feasibility|Novelty)\s*\n+[^\n]*\n?", re.M | re.I)


def paper_for_review(draft: str) -> str:
    """What the reviewer reads of a researcher's draft: the paper the daemon's parser finds
    (title, abstract, the LaTeX body, the results) without the draft's own self-assessed
    Interestingness / Feasibility / Novelty numbers, which a policy would otherwise learn to
    inflate to please the reviewer. A draft the parser finds no paper in is given as it is
    (its review then fails or scores low, which is the signal)."""
    from papercycle.formats import cycleresearcher

    paper = cycleresearcher.parse(draft)
    if not (paper.latex or paper.abstract):
        return SELF_SCORES.sub("", draft)
    parts = [
        f"\\title{{{paper.title}}}" if paper.title else "",
        f"\\begin{{abstract}}\n{paper.abstract}\n\\end{{abstract}}" if paper.abstract else "",
        paper.body,
        paper.results_latex,
    ]
    return "\n\n".join(part for part in parts if part.strip())


@dataclass
class ReviewerScorer:
    generator: object  # a started LlamaGenerator serving the reviewer GGUF
    format: str = "cyclereviewer"
    samples: int = 3
    temperature: float = 0.4
    max_tokens: int = 400
    grammar: bool = True
    reviewers: int = 2
    seed: int = 0

    def score(self, paper_text: str, seed: int | None = None) -> ReviewScore:
        paper_text = paper_for_review(paper_text)
        if self.format == "cyclereviewer":
            messages = cyclereviewer.build_messages(paper_text)
            grammar = cyclereviewer_grammar(self.reviewers) if self.grammar else None
        elif self.format == "deepreviewer":
            messages, grammar = deepreviewer.build_messages(paper_text, mode="fast"), None
        else:
            raise ValueError(f"no reviewer reward for format {self.format!r}")
        texts = self.generator.generate(  # type: ignore[attr-defined]
            messages,
            n=self.samples,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=self.seed if seed is None else seed,
            grammar=grammar,
        )
        result = ReviewScore(reward=None)
        for text in texts:
            review = parse_review(text, format=self.format)
            assert isinstance(review, Review)
            rating = review_rating(review)
            if rating is None:
                result.unparsed += 1
                continue
            result.reviews.append(review)
            result.ratings.append(rating)
            result.accepts.append(bool(review.decision and review.decision.verdict == "Accept"))
        if result.ratings:
            result.reward = statistics.fmean(result.ratings)
        return result
