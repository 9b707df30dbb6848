r"""DeepReviewer (WestlakeNLP DeepReviewer-7B/14B): prompts for Fast/Standard/Best Mode,
the Best-Mode second turn, question extraction, parser and renderer.

Output layout: a fixed preamble, then `\boxed_<name>{ ... }` blocks:
`\boxed_simreviewers` (Standard/Best: `## Reviewer i` reports with `### Field` headers and
bare or ICLR-string scores), `\boxed_verification` (free text), `\boxed_review` (the final
review: `## Field:` headers, float scores, `## Decision:`). Best Mode's first turn instead
writes `\boxed_questions` (one question per line) and `\boxed_analysis`. A block normally
closes with `}` on its own line, but sometimes on its last content line (`...}`, "```}").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from papercycle.formats import markdown
from papercycle.formats.chat import Message, prompt_version
from papercycle.formats.cyclereviewer import render_list
from papercycle.formats.review import Decision, MetaReview, Review, ReviewerReport

MODES = ("fast", "standard", "best")

_EXPERT = (
    "You are an expert academic reviewer tasked with providing a thorough and balanced "
    "evaluation of research papers."
)
_SECTION_ORDER = (
    "When you simulate different reviewers, write the sections in this order: Summary, "
    "Soundness, Presentation, Contribution, Strengths, Weaknesses, Suggestions, Questions, "
    "Rating and Confidence."
)
_BEST_BODY = (
    "Your thinking mode is Best Mode. In this mode, you should aim to provide the most "
    "reliable review results by conducting a thorough analysis of the paper. I allow you to "
    "use search tools to obtain background knowledge about the paper - please provide three "
    "different questions. I will help you with the search. After you complete your thinking, "
    "you should review by simulating {reviewer_num} different reviewers, and use "
    "self-verification to double-check any paper deficiencies identified. Finally, provide "
    "complete review results."
)
# The package concatenates two literals, so Standard and Best have no space before "When".
FAST_PROMPT = (
    f"{_EXPERT} Your thinking mode is Fast Mode. In this mode, you should quickly provide the "
    "review results."
)
STANDARD_PROMPT = (
    f"{_EXPERT} Your thinking mode is Standard Mode. In this mode, you should review by "
    "simulating {reviewer_num} different reviewers, and use self-verification to double-check "
    "any paper deficiencies identified. Finally, provide complete review results." + _SECTION_ORDER
)
BEST_PROMPT = f"{_EXPERT} {_BEST_BODY}{_SECTION_ORDER}"
# The Best-Mode system message in the authors' evaluation data (sample.json): no "You are an
# expert..." prefix, and a space before "When". Probably closer to the training data.
BEST_PROMPT_EVAL = f"{_BEST_BODY} {_SECTION_ORDER}"

# Best Mode's second user turn, in the evaluation data's layout (per question, concatenated).
EVAL_ANSWER_TEMPLATE = (
    "## Question {index}\n\n{question}\n\n### Passage\n\n{passages}\n\n### Answer\n\n{answer}"
    "\n\n**********\n\n"
)
PROMPT_VERSION = prompt_version(
    FAST_PROMPT, STANDARD_PROMPT, BEST_PROMPT, BEST_PROMPT_EVAL, EVAL_ANSWER_TEMPLATE
)

# The model's own fixed sentences, used to render outputs in its layout.
PREAMBLES = {
    "fast": (
        "Of course. I will use Fast Mode for quick thinking. As a professional reviewer, I will "
        "directly output a detailed evaluation of this paper. Let me think - Fast Mode means I "
        "will directly output a Summary, followed by scores for Soundness, Presentation and "
        "Contribution, then provide analysis of Strengths, Weaknesses, Suggestions, and "
        "Questions. Finally, I will output the Rating, Confidence and Decision:"
    ),
    "standard": (
        "I will use Standard Mode for comprehensive thinking. As a professional reviewer, I "
        "will simulate {n} different reviewers, followed by the verification thinking. Then I "
        "will output the Finally Review Output. Let me think - Standard Mode means I will "
        "output the original review, followed by the verification thinking. Considering that I "
        "am currently in standard mode, I should think from my existing knowledge and consider "
        "some related work content when writing about weaknesses. Then I will output the "
        "Finally Review Output and Meta Review Output:"
    ),
}
AFTER_SIMREVIEWERS = (
    "I have finished generating simulated reviews from {n} reviewers. Next, I will generate "
    "verification content for these reviews:"
)
AFTER_VERIFICATION = (
    "Now, I have successfully verified each review. Next, I will organize this content and "
    "output the final review decision:"
)

_BLOCK_OPEN = re.compile(r"\\boxed_(?P<name>[A-Za-z_]+?)\{")
_OWN_LINE_CLOSE = re.compile(r"^\}[ \t]*$", re.MULTILINE)
_REVIEWER_HEADING = re.compile(r"^##[ \t]*Reviewer[ \t]*\d*[ \t]*:?[ \t]*$", re.I | re.M)
_FINAL_REVIEW_HEADER = re.compile(r"^##[ \t]*(Rating|Soundness|Decision)[ \t]*:", re.M)
_ANNOUNCED = re.compile(r"simulate (\d+) different reviewers")
SIMREVIEWER_FIELDS = (
    "summary",
    "soundness",
    "presentation",
    "contribution",
    "strengths",
    "weaknesses",
    "suggestions",
    "questions",
    "rating",
    "confidence",
)
REVIEW_FIELDS = (*SIMREVIEWER_FIELDS, "decision")


def system_prompt(mode: str, reviewer_num: int = 4, variant: str = "package") -> str:
    """The system prompt for `mode` ("fast", "standard", "best"); `variant="eval"` picks the
    Best-Mode text of the authors' evaluation data."""
    if mode not in MODES:
        raise ValueError(f"unknown DeepReviewer mode {mode!r} (expected one of {MODES})")
    if variant not in ("package", "eval") or (variant == "eval" and mode != "best"):
        raise ValueError(f"no {variant!r} variant of the {mode} prompt")
    if mode == "fast":
        return FAST_PROMPT
    template = {"standard": STANDARD_PROMPT, "best": BEST_PROMPT}[mode]
    if variant == "eval":
        template = BEST_PROMPT_EVAL
    return template.format(reviewer_num=reviewer_num)


def build_messages(
    paper_text: str, mode: str = "standard", reviewer_num: int = 4, variant: str = "package"
) -> list[Message]:
    """The first turn: the mode's system prompt, then only the paper text."""
    return [
        {"role": "system", "content": system_prompt(mode, reviewer_num, variant)},
        {"role": "user", "content": paper_text},
    ]


@dataclass(frozen=True)
class RetrievedAnswer:
    """What the literature search returned for one Best-Mode question (OpenScholar's
    `final_passages` and `output`); None where nothing was retrieved."""

    question: str
    passages: str | None
    answer: str | None


def format_answers(answers: Sequence[RetrievedAnswer], style: str = "eval") -> str:
    """The second user turn of Best Mode.

    `eval` is the layout of the authors' evaluation data (passages' " Text: " marked as
    " **--**Text: "); `package` is what the ai_researcher package sends instead.
    """
    if style == "eval":
        return "".join(
            EVAL_ANSWER_TEMPLATE.format(
                index=i,
                question=a.question,
                passages=(a.passages or "").replace(" Text: ", " **--**Text: "),
                answer=a.answer or "",
            )
            for i, a in enumerate(answers, 1)
        )
    if style == "package":
        parts = []
        for i, a in enumerate(answers, 1):
            parts.append(f"## Question {i}:\n{a.question}")
            if a.passages is None and a.answer is None:
                parts += [
                    "### Retrieved Passages:\nNo information retrieved.",
                    "### Answer from OpenScholar:\nNo answer retrieved.",
                ]
            else:
                parts += [
                    f"### Retrieved Passages:\n{a.passages if a.passages is not None else 'N/A'}",
                    f"### Answer from OpenScholar:\n{a.answer if a.answer is not None else 'N/A'}",
                ]
            parts.append("**********")
        return "\n\n".join(parts)
    raise ValueError(f"unknown answer style {style!r}")


def best_mode_followup(
    first_turn: list[Message],
    first_output: str,
    answers: Sequence[RetrievedAnswer],
    style: str = "eval",
) -> list[Message]:
    """Best Mode's second call: the first turn, the model's first output, the answers."""
    return [
        *first_turn,
        {"role": "assistant", "content": first_output},
        {"role": "user", "content": format_answers(answers, style)},
    ]


def extract_questions(first_output: str) -> list[str]:
    r"""The questions of `\boxed_questions{...}`, one per non-empty line.

    (The package's `r'\boxed_questions\{'` reads `\b` as a word boundary and never matches.)
    """
    for block in find_blocks(first_output):
        if block.name == "questions":
            return markdown.split_lines(block.content)
    return []


@dataclass
class Block:
    name: str
    content: str
    closed: bool


def find_blocks(text: str) -> list[Block]:
    r"""Every `\boxed_<name>{` block; an unclosed one runs to the next block or the end."""
    opens = list(_BLOCK_OPEN.finditer(text))
    blocks = []
    for i, opening in enumerate(opens):
        end = opens[i + 1].start() if i + 1 < len(opens) else len(text)
        content, closed = _close_block(text[opening.end() : end])
        blocks.append(Block(opening["name"], content, closed))
    return blocks


def _close_block(segment: str) -> tuple[str, bool]:
    own_line = list(_OWN_LINE_CLOSE.finditer(segment))
    if own_line:
        return segment[: own_line[-1].start()], True
    # No `}` on its own line: the block ends at the first `}` that closes no `{` of its text.
    depth = 0
    for position, char in enumerate(segment):
        if char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return segment[:position] + "\n", True
            depth -= 1
    return segment, False


def looks_like(text: str) -> bool:
    return _BLOCK_OPEN.search(text) is not None


def looks_like_final_review(text: str) -> bool:
    """A final review's `## Rating:` fields without the `\\boxed_review{` around them."""
    return _FINAL_REVIEW_HEADER.search(text) is not None


def detect_mode(text: str) -> str | None:
    head = text[:2000]
    if "Thank you for your help! I have read the answers" in head or "\\boxed_questions{" in text:
        return "best"
    for mode in MODES:
        if f"use {mode.capitalize()} Mode" in head:
            return mode
    return None


def parse(text: str) -> Review:
    review = Review(format="deepreviewer", raw_text=text, mode=detect_mode(text))
    warnings = review.warnings
    blocks = find_blocks(text)
    seen: set[str] = set()
    for block in blocks:
        if block.name in seen:
            warnings.append(f"\\boxed_{block.name} repeated; kept the first")
            continue
        seen.add(block.name)
        if not block.closed:
            warnings.append(f"\\boxed_{block.name} is not closed (output cut off?)")
        if block.name == "questions":
            content = block.content
            if not block.closed and not content.endswith("\n"):
                content = content[: content.rfind("\n") + 1]  # the last line was cut
            review.search_questions = markdown.split_lines(content)
        elif block.name == "simreviewers":
            review.reports = _read_simreviewers(block.content, warnings)
        elif block.name == "review":
            review.meta, review.decision = _read_final_review(block.content, warnings)
        else:
            review.notes[block.name] = block.content.strip()
    if not blocks and markdown.split_fields(text, (2,))[1]:
        warnings.append("no \\boxed_review{...}; read the '## Field:' headers of the whole text")
        review.meta, review.decision = _read_final_review(text, warnings)
    elif "review" not in seen and "questions" not in seen:
        warnings.append("no \\boxed_review{...} (output cut off?)")
    announced = _ANNOUNCED.search(text[:2000])
    if announced and review.reports and int(announced[1]) != len(review.reports):
        warnings.append(
            f"the preamble announces {announced[1]} simulated reviewers, found {len(review.reports)}"
        )
    return review


def _read_simreviewers(content: str, warnings: list[str]) -> list[ReviewerReport]:
    headings = list(_REVIEWER_HEADING.finditer(content))
    reports = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(content)
        reports.append(
            markdown.read_report(
                content[heading.end() : end],
                (3,),
                label=f"simulated reviewer {i + 1}",
                warnings=warnings,
                expected=SIMREVIEWER_FIELDS,
            )
        )
    if not headings:
        warnings.append("\\boxed_simreviewers has no '## Reviewer' report")
    return reports


def _read_final_review(content: str, warnings: list[str]) -> tuple[MetaReview, Decision | None]:
    meta = markdown.read_report(
        content, (2,), label="final review", warnings=warnings, meta=True, expected=REVIEW_FIELDS
    )
    assert isinstance(meta, MetaReview)
    body = markdown.decision_field(content, (2,))
    decision = Decision.read(markdown.clean(body).split("\n")[0]) if body else None
    if decision is not None and decision.verdict is None:
        warnings.append(f"final review: unreadable decision {decision.text!r} (cut off?)")
        decision = None
    return meta, decision


def render(review: Review, mode: str = "standard") -> str:
    """The review in DeepReviewer's own layout (training targets, round-trip tests)."""
    n = len(review.reports)
    if mode == "fast":
        parts = [PREAMBLES["fast"]]
    else:
        parts = [
            PREAMBLES["standard"].format(n=n),
            "\\boxed_simreviewers{\n"
            + "\n\n".join(_render_simreviewer(i, r) for i, r in enumerate(review.reports, 1))
            + "\n\n}",
            AFTER_SIMREVIEWERS.format(n=n),
            "\\boxed_verification{\n" + review.notes.get("verification", "") + "\n}",
            AFTER_VERIFICATION,
        ]
    if review.meta is not None or review.decision is not None:
        parts.append("\\boxed_review{\n" + _render_final(review.meta, review.decision) + "\n}")
    return "\n\n".join(parts)


def _render_simreviewer(index: int, report: ReviewerReport) -> str:
    sections = [f"## Reviewer {index}"]
    for name in SIMREVIEWER_FIELDS:
        value = getattr(report, name)
        if name == "weaknesses" and (value or report.related_works):
            body = (
                "#### Some Related Works\n\n"
                + "\n".join(report.related_works)
                + "\n\n#### comment\n\n"
                + render_list(value)
            )
        else:
            body = _field_text(value)
        if body:
            sections.append(f"### {name.capitalize()}\n\n{body}")
    return "\n\n".join(sections) + "\n\n**********"


def _render_final(meta: MetaReview | None, decision: Decision | None) -> str:
    sections = []
    for name in SIMREVIEWER_FIELDS:
        body = _field_text(getattr(meta, name)) if meta is not None else None
        if body:
            sections.append(f"## {name.capitalize()}:\n\n{body}")
    if decision is not None:
        sections.append(f"## Decision:\n\n{decision.text}")
    return "\n\n\n".join(sections)


def _field_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return render_list(value) if value else None
    return value.text  # type: ignore[attr-defined]
