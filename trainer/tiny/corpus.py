"""Training text for tiny tokenizers and models, generated offline and deterministically.

Covers what the verification probes exercise (prose, LaTeX with math, code, CJK, emoji,
numbers) so that a tiny vocabulary still has merges for each kind of text.
"""

from __future__ import annotations

import inspect
import json
import random
import textwrap
from collections.abc import Iterator

_SUBJECTS = ["The reviewer", "Our method", "This paper", "The baseline", "Each model", "The author"]
_VERBS = ["improves", "evaluates", "reports", "questions", "measures", "describes", "compares"]
_OBJECTS = [
    "the accuracy on long documents",
    "the novelty of the contribution",
    "the experimental setup",
    "the related work section",
    "the soundness of the proof",
    "results on three benchmarks",
]
_LATEX = [
    r"\section{Introduction}",
    r"\begin{equation} \mathcal{L}(\theta) = -\sum_{i=1}^{n} \log p_\theta(y_i \mid x_i) \end{equation}",
    r"We set $\alpha = 0.5$ and $\beta \in [0, 1]$ as in \citep{vaswani2017attention}.",
    r"\begin{table}[t] \centering \begin{tabular}{lcc} Model & Acc & F1 \\ \hline \end{tabular} \end{table}",
    r"\textbf{Rating:} 6: marginally above the acceptance threshold",
    r"$\frac{\partial f}{\partial x} = \sqrt{x^2 + y^2}$ and Eq.~\eqref{eq:loss}",
]
_CJK = [
    "我想在apple工作",
    "深度学习模型的评审",
    "論文の査読",
    "언어 모델 평가",
    "нещо на Български",
]
_EMOJI = ["🚀", "✅", "😁", "🦙", "📄", "🔬"]


def _stdlib_code() -> list[str]:
    # Real code from the standard library: varied, always present, no download. Its source
    # changes between Python releases, so the test models' cache key names the Python
    # version (tests/tiny_models.py); the prompts the tests size their budgets by were
    # measured with this vocabulary.
    return [inspect.getsource(module) for module in (textwrap, json.decoder, random)]


def corpus_lines(seed: int = 0, n_sentences: int = 3000) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(n_sentences):
        sentence = f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        sentence += f" by {rng.randint(1, 99999)} points ({rng.random():.2f})."
        if rng.random() < 0.3:
            sentence += " " + rng.choice(_LATEX)
        if rng.random() < 0.15:
            sentence += " " + rng.choice(_CJK)
        if rng.random() < 0.1:
            sentence += " " + rng.choice(_EMOJI)
        yield sentence
    yield from _LATEX
    yield from _CJK
    yield from _EMOJI
    for source in _stdlib_code():
        yield from source.splitlines()
