"""Grammars that force a review format's layout (headings, numeric scores, list items) and
leave only the words free.

Why: an untrained or tiny model (the demo, the tests) writes noise, which no parser can read;
with its layout forced, the whole path (generation → parse → anchoring) runs end to end and
deterministically. Real reviewers are not constrained unless their model entry says
`structured = true`: their own layout is the one they were trained on.
"""

from __future__ import annotations

from papercycle.formats import aiscientist, openreviewer
from papercycle.formats.gbnf import literal

_WORDS = "words ::= [A-Za-z] [A-Za-z0-9 ,.()-]{4,60} [a-z.]\n"


def _report(heading: str, max_items: int) -> str:
    def items(name: str) -> str:
        return f"{literal(f'### {name}')} nl nl items nl"

    return " ".join(
        [
            literal(f"{heading}\n\n### Summary\n\n"),
            "words nl nl",
            literal("### Soundness\n\n"),
            "sub nl nl",
            literal("### Presentation\n\n"),
            "sub nl nl",
            literal("### Contribution\n\n"),
            "sub nl nl",
            items("Strengths"),
            items("Weaknesses"),
            items("Questions"),
            literal("### Rating\n\n"),
            "rating nl nl",
            literal("### Confidence\n\n"),
            "conf nl nl",
        ]
    )


def _common(max_items: int) -> str:
    item = " | ".join(
        " ".join(f'"{i}. " words nl' for i in range(1, n + 1)) for n in range(1, max_items + 1)
    )
    return (
        f"items ::= {item}\n"
        + _WORDS
        + 'nl ::= "\\n"\n'
        + 'sub ::= [1-4] (" " ("poor" | "fair" | "good" | "excellent"))?\n'
        + 'rating ::= "10" | [1-9]\n'
        + "conf ::= [1-5]\n"
        + 'decision ::= "Accept" | "Reject"\n'
    )


def cyclereviewer_grammar(reviewers: int = 1, max_items: int = 2) -> str:
    reports = " ".join(
        f"{_report('## Reviewer', max_items)} {literal('**********' + chr(10) + chr(10))}"
        for _ in range(reviewers)
    )
    return (
        f"root ::= {reports} "
        + literal("## Meta Review\n\n")
        + " words nl nl "
        + literal("**********\n\n## Paper Decision\n\n")
        + " decision nl\n"
        + _common(max_items)
    )


def deepreviewer_grammar(reviewers: int = 1, max_items: int = 2) -> str:
    reports = " ".join(
        f"{_report(f'## Reviewer {i}', max_items)} {literal('**********' + chr(10) + chr(10))}"
        for i in range(1, reviewers + 1)
    )
    return (
        "root ::= "
        + literal("\\boxed_simreviewers{\n")
        + f" {reports} "
        + literal("}\n\n\\boxed_review{\n## Decision:\n\n")
        + " decision "
        + literal("\n}")
        + "\n"
        + _common(max_items)
    )


def openreviewer_grammar(max_items: int = 2) -> str:
    """`# Review` and the form's fields in order, scores as the form's bare numbers."""

    def field(key: str, value: str) -> str:
        return f"{literal(f'## {openreviewer.field_title(key)}' + chr(10))} {value} nl"

    bullets = " | ".join(
        " ".join('"- " words nl' for _ in range(n)) for n in range(1, max_items + 1)
    )
    values = {
        "summary": "words nl",
        "soundness": "sub4 nl",
        "presentation": "sub4 nl",
        "contribution": "sub4 nl",
        "strengths": "bullets",
        "weaknesses": "bullets",
        "questions": "bullets",
        "flag_for_ethics_review": "ethics nl",
        "rating": "rate nl",
        "confidence": "conf nl",
    }
    fields = " ".join(field(key, value) for key, value in values.items())
    return (
        f"root ::= {literal('# Review' + chr(10) + chr(10))} {fields}\n"
        f"bullets ::= {bullets}\n"
        + _WORDS
        + 'nl ::= "\\n"\n'
        + "sub4 ::= [1-4]\n"
        + 'rate ::= "10" | [1356] | "8"\n'
        + "conf ::= [1-5]\n"
        + 'ethics ::= "No ethics review needed."\n'
    )


def grammar_for(fmt: str, reviewers: int = 1) -> str:
    if fmt == "cyclereviewer":
        return cyclereviewer_grammar(reviewers)
    if fmt == "deepreviewer":
        return deepreviewer_grammar(reviewers)
    if fmt == "aiscientist":
        return aiscientist.grammar(ascii_only=True)
    if fmt == "openreviewer":
        return openreviewer_grammar()
    raise ValueError(f"no skeleton grammar for format {fmt!r}")
