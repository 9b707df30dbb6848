"""The fixed probe set that verification runs through both the HF model and the GGUF."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    name: str
    text: str


TEXT_PROBES = (
    Probe(
        "prose",
        "The reviewers agree that the method is simple, but they question whether the gains "
        "hold on longer documents. We address this in Section 4.",
    ),
    Probe(
        "latex-math",
        r"\begin{equation} \mathcal{L}(\theta) = -\sum_{i=1}^{n} \log p_\theta(y_i \mid x_i) "
        r"+ \lambda \|\theta\|_2^2 \end{equation} with $\alpha = 0.5$ \citep{vaswani2017attention}.",
    ),
    Probe(
        "code",
        "def score(reviews: list[dict]) -> float:\n    total = sum(r['rating'] for r in reviews)\n"
        "    return round(total / len(reviews), 2)  # 12345 / 678\n",
    ),
    Probe("cjk", "深度学习模型的评审：我想在apple工作1314151天。論文の査読は難しい。"),
    Probe("emoji", "Accepted 🚀✅ — the reviewers 😁 liked it; 🦙🦙 ran on a laptop 📄."),
    Probe("numbers", "3 33 333 3333 33333 3.3 3..3 1,000,000 and 2025-11-21 at 09:45."),
)

CHAT_MESSAGES = (
    {"role": "system", "content": "You are an expert reviewer."},
    {"role": "user", "content": "Review this abstract: sparse routing cuts attention cost by 3x."},
    {"role": "assistant", "content": "## Rating\n6: marginally above the acceptance threshold"},
)


def probe_set(tokenizer) -> list[Probe]:
    """The text probes plus one conversation rendered with the model's own chat template."""
    probes = list(TEXT_PROBES)
    if getattr(tokenizer, "chat_template", None):
        chat = tokenizer.apply_chat_template(list(CHAT_MESSAGES), tokenize=False)
        probes.append(Probe("chat-template", chat))
    return probes
