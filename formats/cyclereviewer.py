"""CycleReviewer (WestlakeNLP CycleReviewer-ML-*, formerly WhizReviewer): prompt, parser, renderer.

Output layout: N x (`## Reviewer` + `### <Field>` sections), each followed by a `**********`
line, then `## Meta Review` (with `### justification_for_why_not_{higher,lower}_score`) and
`## Paper Decision`. The 8B model sometimes repeats the `## Paper Decision` block until the
token limit; the first one is the decision.
"""

from __future__ import annotations

import re

from papercycle.formats import markdown
from papercycle.formats.chat import Message, prompt_version
from papercycle.formats.review import Decision, MetaReview, Review, ReviewerReport

# The system prompt exactly as the ai_researcher package sends it: its triple-quoted literal
# leaks 4-space "blank" lines and 12-space indentation. All published downstream numbers used
# this text, so it is the default.
SYSTEM_PROMPT = (
    "You are an expert academic reviewer tasked with providing a thorough and balanced "
    "evaluation of research papers. For each paper submitted, conduct a comprehensive review "
    "addressing the following aspects:\n"
    "    \n"
    "            1. Summary: Briefly outline main points and objectives.\n"
    "            2. Soundness: Assess methodology and logical consistency.\n"
    "            3. Presentation: Evaluate clarity, organization, and visual aids.\n"
    "            4. Contribution: Analyze significance and novelty in the field.\n"
    "            5. Strengths: Identify the paper's strongest aspects.\n"
    "            6. Weaknesses: Point out areas for improvement.\n"
    "            7. Questions: Pose questions for the authors.\n"
    "            8. Rating: Score 1-10, justify your rating.\n"
    "            9. Meta Review: Provide overall assessment and recommendation (Accept/Reject).\n"
    "    \n"
    "            Maintain objectivity and provide specific examples from the paper to support "
    "your evaluation.\n"
    "    \n"
    "            You need to fill out **4** review opinions."
)

# The same text without the leaked indentation, as the original WhizReviewer readme shows it
# (probably the training-time form).
SYSTEM_PROMPT_CLEAN = "\n".join(line.strip() for line in SYSTEM_PROMPT.split("\n"))

PROMPT_VARIANTS = {"package": SYSTEM_PROMPT, "clean": SYSTEM_PROMPT_CLEAN}
PROMPT_VERSION = prompt_version(*PROMPT_VARIANTS.values())

SEPARATOR = "**********"
_TOP_HEADING = re.compile(
    r"^##[ \t]*(?P<name>Reviewer(?:[ \t]*\d+)?|Meta Review|Paper Decision)[ \t]*:?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
REPORT_FIELDS = (
    "summary",
    "soundness",
    "presentation",
    "contribution",
    "strengths",
    "weaknesses",
    "questions",
    "rating",
    "confidence",
)


def build_messages(paper_text: str, variant: str = "package") -> list[Message]:
    """The chat CycleReviewer expects: its system prompt, then only the paper text."""
    if variant not in PROMPT_VARIANTS:
        raise ValueError(f"unknown CycleReviewer prompt variant {variant!r}")
    return [
        {"role": "system", "content": PROMPT_VARIANTS[variant]},
        {"role": "user", "content": paper_text},
    ]


def looks_like(text: str) -> bool:
    return _TOP_HEADING.search(text) is not None


def parse(text: str) -> Review:
    review = Review(format="cyclereviewer", raw_text=text)
    warnings = review.warnings
    headings = list(_TOP_HEADING.finditer(text))
    # With the assistant turn pre-filled with "\n\n## Reviewer\n" (the WhizReviewer readme's
    # trick), the output starts inside the first report.
    lead = text[: headings[0].start()] if headings else text
    if markdown.split_fields(lead, (3,))[1]:
        review.reports.append(
            markdown.read_report(
                lead, (3,), label="reviewer 1", warnings=warnings, expected=REPORT_FIELDS
            )
        )
    elif not headings:
        warnings.append("no '## Reviewer', '## Meta Review' or '## Paper Decision' heading found")
        return review
    decisions: list[str] = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        body = text[heading.end() : end]
        name = heading["name"].lower()
        if name.startswith("reviewer"):
            label = f"reviewer {len(review.reports) + 1}"
            report = markdown.read_report(
                body, (2, 3), label=label, warnings=warnings, expected=REPORT_FIELDS
            )
            review.reports.append(report)
        elif name == "meta review":
            if review.meta is not None:
                warnings.append("'## Meta Review' repeated; kept the first")
                continue
            meta = markdown.read_report(
                body, (3,), label="meta review", warnings=warnings, meta=True
            )
            assert isinstance(meta, MetaReview)
            review.meta = meta
        else:
            decisions.append(body)
    if decisions:
        review.decision = _first_line_decision(decisions[0])
        if review.decision is None or review.decision.verdict is None:
            warnings.append(f"unreadable '## Paper Decision' {decisions[0].strip()!r} (cut off?)")
            review.decision = None
        if len(decisions) > 1:
            warnings.append(
                f"'## Paper Decision' repeated {len(decisions)} times (generation loop); "
                "used the first"
            )
    else:
        warnings.append("no '## Paper Decision' (output cut off?)")
    if review.meta is None:
        warnings.append("no '## Meta Review'")
    if not review.reports:
        warnings.append("no '## Reviewer' report")
    return review


def _first_line_decision(body: str) -> Decision | None:
    for line in markdown.clean(body).split("\n"):
        if line.strip():
            return Decision.read(line)
    return None


def render(review: Review) -> str:
    """The review in CycleReviewer's own layout (training targets, round-trip tests)."""
    blocks = [_render_report(report) for report in review.reports]
    if review.meta is not None:
        blocks.append(_render_meta(review.meta))
    text = "".join(f"{block}\n\n{SEPARATOR}\n\n" for block in blocks)
    if review.decision is not None:
        text += f"## Paper Decision\n\n{review.decision.text}"
    return text


def _render_report(report: ReviewerReport) -> str:
    parts = ["## Reviewer"]
    for header, name in _RENDER_ORDER:
        value = getattr(report, name)
        if name == "ethics_text" or name == "summary":
            body = value
        elif isinstance(value, list):
            body = render_list(value)
        else:
            body = None if value is None else value.text
        if body:
            parts.append(f"### {header}\n\n{body}")
    return "\n\n".join(parts)


def _render_meta(meta: MetaReview) -> str:
    parts = ["## Meta Review"]
    if meta.text:
        parts.append(meta.text)
    for name in ("justification_for_why_not_higher_score", "justification_for_why_not_lower_score"):
        if getattr(meta, name):
            parts.append(f"### {name}\n\n{getattr(meta, name)}")
    return "\n\n".join(parts)


def render_list(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


_RENDER_ORDER = (
    ("Summary", "summary"),
    ("Soundness", "soundness"),
    ("Presentation", "presentation"),
    ("Contribution", "contribution"),
    ("Strengths", "strengths"),
    ("Weaknesses", "weaknesses"),
    ("Questions", "questions"),
    ("Flag For Ethics Review", "ethics_text"),
    ("Rating", "rating"),
    ("Confidence", "confidence"),
)
