"""A GBNF grammar of the CycleReviewer layout: headings fixed, scores enumerated, free text short.

A reviewer constrained by it always writes a review `parse_review` reads, with every score
drawn from the ICLR vocabulary, so the reward is defined for every draft even when the
reviewer is a tiny random model (whose unconstrained output is noise). With a trained
reviewer, the grammar only bounds the length; pass `grammar: false` to sample it freely.
"""

from __future__ import annotations

from papercycle.formats.cyclereviewer import SEPARATOR
from papercycle.formats.gbnf import literal
from papercycle.trainer.data.sources import ICLR_RATINGS, SUBSCORES

# The ICLR confidence texts cut after their first clause: a grammar for untrained reviewers
# needs the number and a recognisable text, not every word (shorter generations).
CONFIDENCES = {
    1: "1: You are unable to assess this paper.",
    2: "2: You are willing to defend your assessment, but it is quite likely that you did not understand central parts of the submission.",
    3: "3: You are fairly confident in your assessment.",
    4: "4: You are confident in your assessment, but not absolutely certain.",
    5: "5: You are absolutely certain about your assessment.",
}
DECISIONS = ("Accept (poster)", "Reject")


def _choice(values) -> str:
    return " | ".join(literal(v) for v in values)


def cyclereviewer_grammar(reviewers: int = 2, text_chars: int = 40) -> str:
    sep = f"\n\n{SEPARATOR}\n\n"
    report = " ".join(
        [
            literal("## Reviewer\n\n### Summary\n\n"), "text",
            literal("\n\n### Soundness\n\n"), "sub",
            literal("\n\n### Presentation\n\n"), "sub",
            literal("\n\n### Contribution\n\n"), "sub",
            literal("\n\n### Rating\n\n"), "rating",
            literal("\n\n### Confidence\n\n"), "confidence",
            literal(sep),
        ]
    )  # fmt: skip
    rules = {
        "root": " ".join(["report"] * reviewers + ["meta", "decision"]),
        "report": report,
        "meta": f"{literal('## Meta Review' + chr(10) * 2)} text {literal(sep)}",
        "decision": f"{literal('## Paper Decision' + chr(10) * 2)} ( {_choice(DECISIONS)} )",
        "sub": _choice(SUBSCORES.values()),
        "rating": _choice(ICLR_RATINGS.values()),
        "confidence": _choice(CONFIDENCES.values()),
        # Letters first so the text never opens with something a parser reads as a heading.
        "text": f"[A-Za-z] [A-Za-z0-9 ,.]{{0,{text_chars - 1}}}",
    }
    return "\n".join(f"{name} ::= {body}" for name, body in rules.items()) + "\n"
