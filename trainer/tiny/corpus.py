"""Training text for tiny tokenizers and models, generated offline and deterministically.

Covers what the verification probes exercise (prose, LaTeX with math, code, CJK, emoji,
numbers) so that a tiny vocabulary still has merges for each kind of text.
"""

from __future__ import annotations

import inspect
import random
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


def _code() -> list[str]:
    # Real code, always present, no download: this package's own modules. Not the standard
    # library's, whose source changes between Python releases (and with it every tiny model).
    from papercycle.trainer.tiny import builder, lora, tokenizer

    return [inspect.getsource(module) for module in (builder, lora, tokenizer)]


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
    for source in _code():
        yield from source.splitlines()
