"""OpenReviewer (maxidl/Llama-OpenReviewer-8B): prompt, parser, renderer.

One reviewer, one report, written as Markdown: `# Review`, then one `## <Field Title>` section
per field of the venue's review form (ICLR 2025: Summary, Soundness, Presentation,
Contribution, Strengths, Weaknesses, Questions, Flag For Ethics Review, Details Of Ethics
Concerns, Rating, Confidence), scores as the form's bare numbers. There is no meta review and
no decision: the rating is the reviewer's recommendation.

Every string is the authors' (github.com/maxidl/openreviewer @ 8b41cff, quoted as the data
format their model was trained on, as review-formats.md quotes the other reviewers'): the system
template of `llm_training/generate.py` (with its typo "Your write reviews" and its final line
break), the field descriptions of `openreview_dataset_creation/note_parsers/iclr_2025.py`, and
the layout of `llm_training/prepare_data.py`: the template's `{review_fields}` is
`## {Title}\n{description}\n` per field joined by `\n`, the target `# Review\n\n` then
`## {Title}\n{content}\n` per field joined by `\n`, every field present (empty ones too).
"""

from __future__ import annotations

import re

from papercycle.formats import markdown
from papercycle.formats.chat import Message, prompt_version
from papercycle.formats.review import Review, ReviewerReport, Score

SYSTEM_TEMPLATE = """You are an expert reviewer for AI conferences. You follow best practices and review papers according to the reviewer guidelines.

Reviewer guidelines:
1. Read the paper: It’s important to carefully read through the entire paper, and to look up any related work and citations that will help you comprehensively evaluate it. Be sure to give yourself sufficient time for this step.
2. While reading, consider the following:
    - Objective of the work: What is the goal of the paper? Is it to better address a known application or problem, draw attention to a new application or problem, or to introduce and/or explain a new theoretical finding? A combination of these? Different objectives will require different considerations as to potential value and impact.
    - Strong points: is the submission clear, technically correct, experimentally rigorous, reproducible, does it present novel findings (e.g. theoretically, algorithmically, etc.)?
    - Weak points: is it weak in any of the aspects listed in b.?
    - Be mindful of potential biases and try to be open-minded about the value and interest a paper can hold for the community, even if it may not be very interesting for you.
3. Answer four key questions for yourself, to make a recommendation to Accept or Reject:
    - What is the specific question and/or problem tackled by the paper?
    - Is the approach well motivated, including being well-placed in the literature?
    - Does the paper support the claims? This includes determining if results, whether theoretical or empirical, are correct and if they are scientifically rigorous.
    - What is the significance of the work? Does it contribute new knowledge and sufficient value to the community? Note, this does not necessarily require state-of-the-art results. Submissions bring value to the community when they convincingly demonstrate new, relevant, impactful knowledge (incl., empirical, theoretical, for practitioners, etc).
4. Write your review including the following information:
    - Summarize what the paper claims to contribute. Be positive and constructive.
    - List strong and weak points of the paper. Be as comprehensive as possible.
    - Clearly state your initial recommendation (accept or reject) with one or two key reasons for this choice.
    - Provide supporting arguments for your recommendation.
    - Ask questions you would like answered by the authors to help you clarify your understanding of the paper and provide the additional evidence you need to be confident in your assessment.
    - Provide additional feedback with the aim to improve the paper. Make it clear that these points are here to help, and not necessarily part of your decision assessment.

Your write reviews in markdown format. Your reviews contain the following sections:

# Review

{review_fields}

Your response must only contain the review in markdown format with sections as defined above.
""".replace(
    # the authors' line ends with a space; a literal trailing space would be stripped by linters
    "the following information:\n",
    "the following information: \n",
)

USER_TEMPLATE = "Review the following paper:\n\n{paper_text}\n"

_SCALE_1_4 = "Choose from the following:\n4: excellent\n3: good\n2: fair\n1: poor"

# ICLR 2025's review form as the authors stored it (`content_meta` of iclr_2025.py): each field
# and its description, in the form's order. Their model was trained with these texts.
ICLR_2025_FIELDS: tuple[tuple[str, str], ...] = (
    (
        "summary",
        "Briefly summarize the paper and its contributions. This is not the place to critique "
        "the paper; the authors should generally agree with a well-written summary.",
    ),
    (
        "soundness",
        "Please assign the paper a numerical rating on the following scale to indicate the "
        "soundness of the technical claims, experimental and research methodology and on "
        "whether the central claims of the paper are adequately supported with evidence. "
        + _SCALE_1_4,
    ),
    (
        "presentation",
        "Please assign the paper a numerical rating on the following scale to indicate the "
        "quality of the presentation. This should take into account the writing style and "
        "clarity, as well as contextualization relative to prior work. " + _SCALE_1_4,
    ),
    (
        "contribution",
        "Please assign the paper a numerical rating on the following scale to indicate the "
        "quality of the overall contribution this paper makes to the research area being "
        "studied. Are the questions being asked important? Does the paper bring a significant "
        "originality of ideas and/or execution? Are the results valuable to share with the "
        "broader ICLR community? " + _SCALE_1_4,
    ),
    (
        "strengths",
        "A substantive assessment of the strengths of the paper, touching on each of the "
        "following dimensions: originality, quality, clarity, and significance. We encourage "
        "reviewers to be broad in their definitions of originality and significance. For "
        "example, originality may arise from a new definition or problem formulation, creative "
        "combinations of existing ideas, application to a new domain, or removing limitations "
        "from prior results.",
    ),
    (
        "weaknesses",
        "A substantive assessment of the weaknesses of the paper. Focus on constructive and "
        "actionable insights on how the work could improve towards its stated goals. Be "
        "specific, avoid generic remarks. For example, if you believe the contribution lacks "
        "novelty, provide references and an explanation as evidence; if you believe "
        "experiments are insufficient, explain why and exactly what is missing, etc.",
    ),
    (
        "questions",
        "Please list up and carefully describe any questions and suggestions for the authors. "
        "Think of the things where a response from the author can change your opinion, clarify "
        "a confusion or address a limitation. This is important for a productive rebuttal and "
        "discussion phase with the authors.",
    ),
    (
        "flag_for_ethics_review",
        "If there are ethical issues with this paper, please flag the paper for an ethics "
        "review and select area of expertise that would be most useful for the ethics reviewer "
        "to have. Please select all that apply. Choose from the following:\n"
        "No ethics review needed.\n"
        "Yes, Discrimination / bias / fairness concerns\n"
        "Yes, Privacy, security and safety\n"
        "Yes, Legal compliance (e.g., GDPR, copyright, terms of use)\n"
        "Yes, Potentially harmful insights, methodologies and applications\n"
        "Yes, Responsible research practice (e.g., human subjects, data release)\n"
        "Yes, Research integrity issues (e.g., plagiarism, dual submission)\n"
        "Yes, Unprofessional behaviors (e.g., unprofessional exchange between authors and "
        "reviewers)\n"
        "Yes, Other reasons (please specify below)",
    ),
    ("details_of_ethics_concerns", "Please provide details of your concerns."),
    (
        "rating",
        'Please provide an "overall score" for this submission. Choose from the following:\n'
        "1: strong reject\n3: reject, not good enough\n5: marginally below the acceptance "
        "threshold\n6: marginally above the acceptance threshold\n8: accept, good paper\n"
        "10: strong accept, should be highlighted at the conference",
    ),
    (
        "confidence",
        'Please provide a "confidence score" for your assessment of this submission to '
        "indicate how confident you are in your evaluation. Choose from the following:\n"
        "1: You are unable to assess this paper and have alerted the ACs to seek an opinion "
        "from different reviewers.\n"
        "2: You are willing to defend your assessment, but it is quite likely that you did not "
        "understand the central parts of the submission or that you are unfamiliar with some "
        "pieces of related work. Math/other details were not carefully checked.\n"
        "3: You are fairly confident in your assessment. It is possible that you did not "
        "understand some parts of the submission or that you are unfamiliar with some pieces "
        "of related work. Math/other details were not carefully checked.\n"
        "4: You are confident in your assessment, but not absolutely certain. It is unlikely, "
        "but not impossible, that you did not understand some parts of the submission or that "
        "you are unfamiliar with some pieces of related work.\n"
        "5: You are absolutely certain about your assessment. You are very familiar with the "
        "related work and checked the math/other details carefully.",
    ),
)
FIELD_KEYS = tuple(key for key, _ in ICLR_2025_FIELDS)
SCORE_KEYS = ("soundness", "presentation", "contribution", "rating", "confidence")
LIST_KEYS = ("strengths", "weaknesses", "questions")
# Fields whose absence deserves a warning (the ethics details are empty unless flagged).
EXPECTED = ("summary", *SCORE_KEYS[:3], *LIST_KEYS, "rating", "confidence")
# The rating values ICLR 2025's form offers.
RATING_CHOICES = (1, 3, 5, 6, 8, 10)
# Where the ethics details go: the report has no field for them.
DETAILS_NOTE = "details_of_ethics_concerns"


def field_title(key: str) -> str:
    """The authors' section title of a form field: `flag_for_ethics_review` →
    `Flag For Ethics Review`."""
    return key.replace("_", " ").title()


def review_fields(fields: tuple[tuple[str, str], ...] = ICLR_2025_FIELDS) -> str:
    return "\n".join(f"## {field_title(key)}\n{description}\n" for key, description in fields)


SYSTEM_PROMPT = SYSTEM_TEMPLATE.replace("{review_fields}", review_fields())
PROMPT_VERSION = prompt_version(SYSTEM_PROMPT, USER_TEMPLATE)

_TITLES = {field_title(key).lower(): key for key in FIELD_KEYS}
_TITLES_PATTERN = "|".join(sorted((re.escape(t) for t in _TITLES), key=len, reverse=True))
# "## Rating", "## Rating:", "## Rating: 6" (a value on the heading line after a colon). Only
# the form's titles count: a reviewer's own "## Minor points" stays inside its field.
_FIELD_HEADING = re.compile(
    rf"^##[ \t]*(?P<title>{_TITLES_PATTERN})[ \t]*(?::[ \t]*(?P<rest>.*))?$",
    re.IGNORECASE | re.MULTILINE,
)
_REVIEW_HEADING = re.compile(r"^#[ \t]*Review[ \t]*$", re.IGNORECASE | re.MULTILINE)


def build_messages(paper_text: str) -> list[Message]:
    """The chat OpenReviewer was trained on: the venue template, then the paper (Markdown)."""
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": USER_TEMPLATE.format(paper_text=paper_text)},
    ]


def looks_like(text: str) -> bool:
    """`# Review` with a form field, or at least two `## <Field>` headings of the form."""
    headings = {m["title"].lower() for m in _FIELD_HEADING.finditer(text)}
    return len(headings) >= 2 or (bool(headings) and _REVIEW_HEADING.search(text) is not None)


def parse(text: str) -> Review:
    review = Review(format="openreviewer", raw_text=text)
    warnings = review.warnings
    headings = list(_FIELD_HEADING.finditer(text))
    if not headings:
        warnings.append(
            "no OpenReviewer field heading ('## Summary', '## Soundness', ..., '## Rating') found"
        )
        return review
    if _REVIEW_HEADING.search(text[: headings[0].start()]) is None:
        warnings.append("no '# Review' heading before the first field")
    report = ReviewerReport()
    seen: set[str] = set()
    for i, heading in enumerate(headings):
        key = _TITLES[heading["title"].lower()]
        label = f"'## {field_title(key)}'"
        if key in seen:
            warnings.append(f"{label} repeated; kept the first")
            continue
        seen.add(key)
        last = i + 1 == len(headings)
        raw = text[heading.end() : len(text) if last else headings[i + 1].start()]
        if heading["rest"]:
            raw = heading["rest"] + raw
        body = markdown.clean(raw)
        if not body:
            if key != DETAILS_NOTE:  # empty unless the paper is flagged
                warnings.append(f"{label} is empty" + (" (output cut off?)" if last else ""))
            continue
        if key in SCORE_KEYS:
            # a number that runs into the end of the output may be cut: "1" of "10"
            _read_score(
                report, key, body, label, warnings, may_be_cut=last and not raw[-1:].isspace()
            )
        elif key in LIST_KEYS:
            setattr(report, key, markdown.split_items(body))
        elif key == "flag_for_ethics_review":
            report.ethics_text = body
            report.ethics_flag = _ethics_flag(body)
        elif key == DETAILS_NOTE:
            review.notes[DETAILS_NOTE] = body
        else:
            report.summary = body
    for key in EXPECTED:
        if key not in seen:
            warnings.append(f"no '## {field_title(key)}'")
    review.reports.append(report)
    return review


def _read_score(
    report: ReviewerReport,
    key: str,
    body: str,
    label: str,
    warnings: list[str],
    *,
    may_be_cut: bool,
) -> None:
    score = Score.read(body, may_be_cut=may_be_cut)
    low, high = markdown.SCORE_RANGES[key]
    if score.value is None:
        warnings.append(f"no number in {label} ({body[:40]!r})")
    elif not low <= score.value <= high:
        warnings.append(f"{key} {score.value:g} is outside its scale {low}-{high}")
    elif key == "rating" and score.value not in RATING_CHOICES:
        choices = ", ".join(map(str, RATING_CHOICES))
        warnings.append(f"rating {score.value:g} is not one of the form's choices ({choices})")
    setattr(report, key, score)


def _ethics_flag(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered.startswith("no"):
        return False
    if lowered.startswith("yes"):
        return True
    return None


def render(review: Review) -> str:
    """The first report as OpenReviewer's training target: `# Review`, then `## Title` and the
    field's content for every field of the form, in its order (empty where the report has
    nothing, as the authors' targets are)."""
    report = review.reports[0] if review.reports else ReviewerReport()
    sections = [
        f"## {field_title(key)}\n{_field_text(review, report, key) or ''}\n" for key in FIELD_KEYS
    ]
    return "# Review\n\n" + "\n".join(sections)


def _field_text(review: Review, report: ReviewerReport, key: str) -> str | None:
    if key in SCORE_KEYS:
        score = getattr(report, key)
        return None if score is None else score.text
    if key in LIST_KEYS:
        return render_list(getattr(report, key))
    if key == "flag_for_ethics_review":
        return report.ethics_text
    if key == DETAILS_NOTE:
        return review.notes.get(DETAILS_NOTE)
    return report.summary


def render_list(items: list[str]) -> str:
    """Items as a bulleted list, which `markdown.split_items` reads back item for item."""
    return "\n".join(f"- {item}" for item in items)


def target_review(report: ReviewerReport) -> Review:
    """A human report as the review an OpenReviewer target is rendered from: its scores as the
    form's bare numbers (the authors' targets carry "6", not "6: marginally above ...")."""
    bare = ReviewerReport(
        summary=report.summary,
        strengths=list(report.strengths),
        weaknesses=list(report.weaknesses),
        questions=list(report.questions),
        ethics_text=report.ethics_text,
        ethics_flag=report.ethics_flag,
    )
    for key in SCORE_KEYS:
        score = getattr(report, key)
        if score is not None and score.value is not None:
            setattr(bare, key, Score(score.value, f"{score.value:g}"))
    return Review(format="openreviewer", reports=[bare])
