"""The AI Scientist's NeurIPS review form (SakanaAI/AI-Scientist `perform_review.py`):
prompts, reflection rounds, N-way ensembling with a meta review, parser and renderer.

The model answers `THOUGHT: ... REVIEW JSON: ```json {...} ```` with the form's fields.
Outputs in the wild put the JSON in a fenced block or bare, with raw control characters
inside strings, or cut off by the token limit; the parser reads each field it can.
"""

from __future__ import annotations

import copy
import json
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from papercycle.formats import gbnf, jsontext, markdown
from papercycle.formats.chat import Message, prompt_version
from papercycle.formats.review import (
    Decision,
    MetaReview,
    Review,
    ReviewerReport,
    Score,
)

REVIEWER_SYSTEM_PROMPT_BASE = (
    "You are an AI researcher who is reviewing a paper that was submitted to a prestigious ML "
    "venue.Be critical and cautious in your decision."
)
# The package's default reviewer is the negative one.
REVIEWER_SYSTEM_PROMPTS = {
    "neg": REVIEWER_SYSTEM_PROMPT_BASE
    + "If a paper is bad or you are unsure, give it bad scores and reject it.",
    "pos": REVIEWER_SYSTEM_PROMPT_BASE
    + "If a paper is good or you are unsure, give it good scores and accept it.",
    "base": REVIEWER_SYSTEM_PROMPT_BASE,
}

TEMPLATE_INSTRUCTIONS = """
Respond in the following format:

THOUGHT:
<THOUGHT>

REVIEW JSON:
```json
<JSON>
```

In <THOUGHT>, first briefly discuss your intuitions and reasoning for the evaluation.
Detail your high-level arguments, necessary choices and desired outcomes of the review.
Do not make generic comments here, but be specific to your current paper.
Treat this as the note-taking phase of your review.

In <JSON>, provide the review in JSON format with the following fields in the order:
- "Summary": A summary of the paper content and its contributions.
- "Strengths": A list of strengths of the paper.
- "Weaknesses": A list of weaknesses of the paper.
- "Originality": A rating from 1 to 4 (low, medium, high, very high).
- "Quality": A rating from 1 to 4 (low, medium, high, very high).
- "Clarity": A rating from 1 to 4 (low, medium, high, very high).
- "Significance": A rating from 1 to 4 (low, medium, high, very high).
- "Questions": A set of clarifying questions to be answered by the paper authors.
- "Limitations": A set of limitations and potential negative societal impacts of the work.
- "Ethical Concerns": A boolean value indicating whether there are ethical concerns.
- "Soundness": A rating from 1 to 4 (poor, fair, good, excellent).
- "Presentation": A rating from 1 to 4 (poor, fair, good, excellent).
- "Contribution": A rating from 1 to 4 (poor, fair, good, excellent).
- "Overall": A rating from 1 to 10 (very strong reject to award quality).
- "Confidence": A rating from 1 to 5 (low, medium, high, very high, absolute).
- "Decision": A decision that has to be one of the following: Accept, Reject.

For the "Decision" field, don't use Weak Accept, Borderline Accept, Borderline Reject, or Strong Reject. Instead, only use Accept or Reject.
This JSON will be automatically parsed, so ensure the format is precise.
"""

NEURIPS_FORM = (
    """
## Review Form
Below is a description of the questions you will be asked on the review form for each paper and some guidelines on what to consider when answering these questions.
When writing your review, please keep in mind that after decisions have been made, reviews and meta-reviews of accepted papers and opted-in rejected papers will be made public.

1. Summary: Briefly summarize the paper and its contributions. This is not the place to critique the paper; the authors should generally agree with a well-written summary.
  - Strengths and Weaknesses: Please provide a thorough assessment of the strengths and weaknesses of the paper, touching on each of the following dimensions:
  - Originality: Are the tasks or methods new? Is the work a novel combination of well-known techniques? (This can be valuable!) Is it clear how this work differs from previous contributions? Is related work adequately cited
  - Quality: Is the submission technically sound? Are claims well supported (e.g., by theoretical analysis or experimental results)? Are the methods used appropriate? Is this a complete piece of work or work in progress? Are the authors careful and honest about evaluating both the strengths and weaknesses of their work
  - Clarity: Is the submission clearly written? Is it well organized? (If not, please make constructive suggestions for improving its clarity.) Does it adequately inform the reader? (Note that a superbly written paper provides enough information for an expert reader to reproduce its results.)
  - Significance: Are the results important? Are others (researchers or practitioners) likely to use the ideas or build on them? Does the submission address a difficult task in a better way than previous work? Does it advance the state of the art in a demonstrable way? Does it provide unique data, unique conclusions about existing data, or a unique theoretical or experimental approach?

2. Questions: Please list up and carefully describe any questions and suggestions for the authors. Think of the things where a response from the author can change your opinion, clarify a confusion or address a limitation. This can be very important for a productive rebuttal and discussion phase with the authors.

3. Limitations: Have the authors adequately addressed the limitations and potential negative societal impact of their work? If not, please include constructive suggestions for improvement.
In general, authors should be rewarded rather than punished for being up front about the limitations of their work and any potential negative societal impact. You are encouraged to think through whether any critical points are missing and provide these as feedback for the authors.

4. Ethical concerns: If there are ethical issues with this paper, please flag the paper for an ethics review. For guidance on when this is appropriate, please review the NeurIPS ethics guidelines.

5. Soundness: Please assign the paper a numerical rating on the following scale to indicate the soundness of the technical claims, experimental and research methodology and on whether the central claims of the paper are adequately supported with evidence.
  4: excellent
  3: good
  2: fair
  1: poor

6. Presentation: Please assign the paper a numerical rating on the following scale to indicate the quality of the presentation. This should take into account the writing style and clarity, as well as contextualization relative to prior work.
  4: excellent
  3: good
  2: fair
  1: poor

7. Contribution: Please assign the paper a numerical rating on the following scale to indicate the quality of the overall contribution this paper makes to the research area being studied. Are the questions being asked important? Does the paper bring a significant originality of ideas and/or execution? Are the results valuable to share with the broader NeurIPS community.
  4: excellent
  3: good
  2: fair
  1: poor

8. Overall: Please provide an "overall score" for this submission. Choices:
  10: Award quality: Technically flawless paper with groundbreaking impact on one or more areas of AI, with exceptionally strong evaluation, reproducibility, and resources, and no unaddressed ethical considerations.
  9: Very Strong Accept: Technically flawless paper with groundbreaking impact on at least one area of AI and excellent impact on multiple areas of AI, with flawless evaluation, resources, and reproducibility, and no unaddressed ethical considerations.
  8: Strong Accept: Technically strong paper with, with novel ideas, excellent impact on at least one area of AI or high-to-excellent impact on multiple areas of AI, with excellent evaluation, resources, and reproducibility, and no unaddressed ethical considerations.
  7: Accept: Technically solid paper, with high impact on at least one sub-area of AI or moderate-to-high impact on more than one area of AI, with good-to-excellent evaluation, resources, reproducibility, and no unaddressed ethical considerations.
  6: Weak Accept: Technically solid, moderate-to-high impact paper, with no major concerns with respect to evaluation, resources, reproducibility, ethical considerations.
  5: Borderline accept: Technically solid paper where reasons to accept outweigh reasons to reject, e.g., limited evaluation. Please use sparingly.
  4: Borderline reject: Technically solid paper where reasons to reject, e.g., limited evaluation, outweigh reasons to accept, e.g., good evaluation. Please use sparingly.
  3: Reject: For instance, a paper with technical flaws, weak evaluation, inadequate reproducibility and incompletely addressed ethical considerations.
  2: Strong Reject: For instance, a paper with major technical flaws, and/or poor evaluation, limited impact, poor reproducibility and mostly unaddressed ethical considerations.
  1: Very Strong Reject: For instance, a paper with trivial results or unaddressed ethical considerations

9. Confidence:  Please provide a "confidence score" for your assessment of this submission to indicate how confident you are in your evaluation. Choices:
  5: You are absolutely certain about your assessment. You are very familiar with the related work and checked the math/other details carefully.
  4: You are confident in your assessment, but not absolutely certain. It is unlikely, but not impossible, that you did not understand some parts of the submission or that you are unfamiliar with some pieces of related work.
  3: You are fairly confident in your assessment. It is possible that you did not understand some parts of the submission or that you are unfamiliar with some pieces of related work. Math/other details were not carefully checked.
  2: You are willing to defend your assessment, but it is quite likely that you did not understand the central parts of the submission or that you are unfamiliar with some pieces of related work. Math/other details were not carefully checked.
  1: Your assessment is an educated guess. The submission is not in your area or the submission was difficult to understand. Math/other details were not carefully checked.
"""
    + TEMPLATE_INSTRUCTIONS
)

FEWSHOT_INTRO = """
Below are some sample reviews, copied from previous machine learning conferences.
Note that while each review is formatted differently according to each reviewer's style, the reviews are well-structured and therefore easy to navigate.
"""
FEWSHOT_EXAMPLE = """
Paper:

```
{paper}
```

Review:

```
{review}
```
"""
PAPER_TEMPLATE = """
Here is the paper you are asked to review:
```
{paper}
```"""

# The package sends this text without filling in the round numbers (literal braces);
# `reflection_message(..., literal=True)` reproduces that.
REFLECTION_PROMPT = """Round {current_round}/{num_reflections}.
In your thoughts, first carefully consider the accuracy and soundness of the review you just created.
Include any other factors that you think are important in evaluating the paper.
Ensure the review is clear and concise, and the JSON is in the correct format.
Do not make things overly complicated.
In the next attempt, try and refine and improve your review.
Stick to the spirit of the original review unless there are glaring issues.

Respond in the same format as before:
THOUGHT:
<THOUGHT>

REVIEW JSON:
```json
<JSON>
```

If there is nothing to improve, simply repeat the previous JSON EXACTLY after the thought and include "I am done" at the end of the thoughts but before the JSON.
ONLY INCLUDE "I am done" IF YOU ARE MAKING NO MORE CHANGES."""
REFLECTION_DONE = "I am done"

META_REVIEWER_SYSTEM_PROMPT = """You are an Area Chair at a machine learning conference.
You are in charge of meta-reviewing a paper that was reviewed by {reviewer_count} reviewers.
Your job is to aggregate the reviews into a single meta-review in the same format.
Be critical and cautious in your decision, find consensus, and respect the opinion of all the reviewers."""
META_REVIEW_ITEM = """
Review {index}/{count}:
```
{review}
```
"""

PROMPT_VERSION = prompt_version(
    *REVIEWER_SYSTEM_PROMPTS.values(),
    NEURIPS_FORM,
    FEWSHOT_INTRO,
    FEWSHOT_EXAMPLE,
    PAPER_TEMPLATE,
    REFLECTION_PROMPT,
    META_REVIEWER_SYSTEM_PROMPT,
    META_REVIEW_ITEM,
)

# Form score -> (report attribute or other_scores key, scale). The ensemble averages these.
FORM_SCORES = {
    "Originality": ("originality", (1, 4)),
    "Quality": ("quality", (1, 4)),
    "Clarity": ("clarity", (1, 4)),
    "Significance": ("significance", (1, 4)),
    "Soundness": ("soundness", (1, 4)),
    "Presentation": ("presentation", (1, 4)),
    "Contribution": ("contribution", (1, 4)),
    "Overall": ("rating", (1, 10)),
    "Confidence": ("confidence", (1, 5)),
}
FORM_LISTS = {
    "Strengths": "strengths",
    "Weaknesses": "weaknesses",
    "Questions": "questions",
    "Limitations": "limitations",
}
FORM_FIELDS = (
    "Summary",
    "Strengths",
    "Weaknesses",
    "Originality",
    "Quality",
    "Clarity",
    "Significance",
    "Questions",
    "Limitations",
    "Ethical Concerns",
    "Soundness",
    "Presentation",
    "Contribution",
    "Overall",
    "Confidence",
    "Decision",
)
_REPORT_ATTRIBUTES = {"soundness", "presentation", "contribution", "rating", "confidence"}


@dataclass(frozen=True)
class FormLimits:
    """Bounds of a grammar-constrained answer (the form itself sets none)."""

    max_thought_chars: int = 3000
    max_summary_chars: int = 2000
    max_items: int = 10
    max_item_chars: int = 500


def form_schema(limits: FormLimits = FormLimits()) -> dict[str, Any]:
    """The JSON Schema of the form: every field, in the prompt's order, with its scale."""
    properties: dict[str, Any] = {}
    for name in FORM_FIELDS:
        if name == "Summary":
            properties[name] = {
                "type": "string",
                "minLength": 1,
                "maxLength": limits.max_summary_chars,
            }
        elif name in FORM_LISTS:
            item = {"type": "string", "minLength": 1, "maxLength": limits.max_item_chars}
            properties[name] = {"type": "array", "items": item, "maxItems": limits.max_items}
        elif name in FORM_SCORES:
            low, high = FORM_SCORES[name][1]
            properties[name] = {"type": "integer", "minimum": low, "maximum": high}
        elif name == "Ethical Concerns":
            properties[name] = {"type": "boolean"}
        elif name == "Decision":
            properties[name] = {"type": "string", "enum": ["Accept", "Reject"]}
    return {
        "type": "object",
        "properties": properties,
        "required": list(FORM_FIELDS),
        "additionalProperties": False,
    }


# THOUGHT text: printable characters and line breaks, but no backtick, so that it cannot
# open the fence the JSON goes in (ranges as in gbnf.JSON_CHAR).
_THOUGHT_CHAR = r"[\x09\x0A\x20-\x5F\x61-\x7E\u00A0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]"
_THOUGHT_ASCII_CHAR = r"[\x09\x0A\x20-\x5F\x61-\x7E]"


def grammar(limits: FormLimits = FormLimits(), *, ascii_only: bool = False) -> str:
    """A GBNF grammar of the answer layout the prompt asks for, with the form's JSON in it."""
    form = gbnf.grammar_from_schema(form_schema(limits), ascii_only=ascii_only, root="form")
    layout = " ".join(
        [
            gbnf.literal("THOUGHT:\n"),
            "thought",
            gbnf.literal("\n\nREVIEW JSON:\n```json\n"),
            "form",
            gbnf.literal("\n```"),
        ]
    )
    return (
        f"root ::= {layout}\n"
        f"thought ::= thought-char{{1,{limits.max_thought_chars}}}\n"
        f"thought-char ::= {_THOUGHT_ASCII_CHAR if ascii_only else _THOUGHT_CHAR}\n" + form
    )


def build_messages(
    paper_text: str, reviewer: str = "neg", fewshot: Sequence[tuple[str, str]] = ()
) -> list[Message]:
    """The review request: the form, optional few-shot (paper text, review text) pairs,
    then the paper in a fenced block."""
    prompt = NEURIPS_FORM
    if fewshot:
        prompt += FEWSHOT_INTRO + "".join(
            FEWSHOT_EXAMPLE.format(paper=paper, review=review) for paper, review in fewshot
        )
    prompt += PAPER_TEMPLATE.format(paper=paper_text)
    return [
        {"role": "system", "content": REVIEWER_SYSTEM_PROMPTS[reviewer]},
        {"role": "user", "content": prompt},
    ]


def reflection_message(current_round: int, num_reflections: int, literal: bool = False) -> Message:
    """The user turn of a reflection round (append it after the model's last answer)."""
    text = REFLECTION_PROMPT
    if not literal:
        text = text.format(current_round=current_round, num_reflections=num_reflections)
    return {"role": "user", "content": text}


def reflection_done(output: str) -> bool:
    return REFLECTION_DONE in output


def meta_review_messages(reviews: Sequence[Review]) -> list[Message]:
    """The area chair's request: the form, then each review's JSON."""
    items = "".join(
        META_REVIEW_ITEM.format(index=i, count=len(reviews), review=json.dumps(to_form(r)))
        for i, r in enumerate(reviews, 1)
    )
    return [
        {
            "role": "system",
            "content": META_REVIEWER_SYSTEM_PROMPT.format(reviewer_count=len(reviews)),
        },
        {"role": "user", "content": NEURIPS_FORM + items},
    ]


def ensemble(reviews: Sequence[Review], meta_output: Review | None = None) -> Review:
    """N reviews and the area chair's review as one Review.

    As in the package, the meta review is the area chair's (or, when that failed, the first
    review) with every score replaced by the rounded mean of the in-scale scores of the
    reviews (Python's round: halves go to the even number).
    """
    reports = [r.reports[0] for r in reviews if r.reports]
    if not reports:
        raise ValueError("no readable review to ensemble")
    source = meta_output.reports[0] if meta_output and meta_output.reports else reports[0]
    meta = MetaReview(**copy.deepcopy(vars(source)))
    warnings = [] if meta_output and meta_output.reports else ["no meta review; used the first"]
    for form_name, (name, (low, high)) in FORM_SCORES.items():
        values = [
            s.value
            for report in reports
            if (s := _get_score(report, name)) is not None
            and s.value is not None
            and low <= s.value <= high
        ]
        if not values:
            warnings.append(f"no in-scale {form_name} to average")
            continue
        mean = round(statistics.fmean(values))
        _set_score(meta, name, Score.of(mean))
    decision_source = meta_output if meta_output and meta_output.decision else reviews[0]
    return Review(
        format="aiscientist",
        reports=reports,
        meta=meta,
        decision=decision_source.decision,
        model=reviews[0].model,
        raw_text="",
        warnings=warnings,
    )


def _get_score(report: ReviewerReport, name: str) -> Score | None:
    if name in _REPORT_ATTRIBUTES:
        return getattr(report, name)
    return report.other_scores.get(name)


def _set_score(report: ReviewerReport, name: str, score: Score) -> None:
    if name in _REPORT_ATTRIBUTES:
        setattr(report, name, score)
    else:
        report.other_scores[name] = score


_THOUGHT = re.compile(r"THOUGHT:\s*(.*?)(?=REVIEW JSON:|```|\Z)", re.DOTALL)


def looks_like(text: str) -> bool:
    return bool(re.search(r'"(Overall|Soundness|Decision)"\s*:', text))


def has_form(text: str) -> bool:
    """Whether `text` holds a complete JSON object with the form's fields."""
    return jsontext.find_object(text, FORM_FIELDS) is not None


def parse(text: str) -> Review:
    review = Review(format="aiscientist", raw_text=text)
    form = jsontext.find_object(text, FORM_FIELDS)
    if form is None:
        form = jsontext.salvage_fields(text, FORM_FIELDS)
        if form:
            review.warnings.append(
                f"the review JSON is incomplete (output cut off?); read {len(form)} fields"
            )
        else:
            review.warnings.append("no review JSON found")
            return review
    thought = _THOUGHT.search(text)
    if thought and thought[1].strip():
        review.notes["thought"] = thought[1].strip()
    report, decision = from_form(form, review.warnings)
    review.reports.append(report)
    review.decision = decision
    return review


def from_form(form: dict[str, Any], warnings: list[str]) -> tuple[ReviewerReport, Decision | None]:
    """A report and decision from the form's JSON object."""
    report = ReviewerReport()
    if isinstance(form.get("Summary"), str):
        report.summary = form["Summary"]
    for form_name, name in FORM_LISTS.items():
        value = form.get(form_name)
        if isinstance(value, list):
            setattr(report, name, [str(item) for item in value])
        elif isinstance(value, str):
            setattr(report, name, markdown.split_items(value))
    for form_name, (name, (low, high)) in FORM_SCORES.items():
        if form_name not in form:
            warnings.append(f"no {form_name}")
            continue
        value = form[form_name]
        # bool is an int to Python, and json reads NaN/Infinity: neither is a score.
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float | str)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            warnings.append(f"{form_name} is not a number: {value!r}")
            continue
        score = Score.of(value) if not isinstance(value, str) else Score.read(value)
        if score.value is None:
            warnings.append(f"no number in {form_name} ({value!r})")
        elif not low <= score.value <= high:
            warnings.append(f"{form_name} {score.value:g} is outside its scale {low}-{high}")
        _set_score(report, name, score)
    concerns = form.get("Ethical Concerns")
    if isinstance(concerns, bool):
        report.ethics_flag = concerns
    elif concerns is not None:
        report.ethics_text = str(concerns)
        report.ethics_flag = str(concerns).strip().lower() in ("true", "yes")
    decision = None
    if isinstance(form.get("Decision"), str):
        decision = Decision.read(form["Decision"])
    else:
        warnings.append("no Decision")
    return report, decision


def to_form(review: Review) -> dict[str, Any]:
    """The form's JSON object for the first report (or the meta review) and decision."""
    report = review.meta or (review.reports[0] if review.reports else ReviewerReport())
    form: dict[str, Any] = {}
    for form_name in FORM_FIELDS:
        if form_name == "Summary" and report.summary is not None:
            form[form_name] = report.summary
        elif form_name in FORM_LISTS:
            form[form_name] = getattr(report, FORM_LISTS[form_name])
        elif form_name in FORM_SCORES:
            score = _get_score(report, FORM_SCORES[form_name][0])
            if score is not None and score.value is not None:
                form[form_name] = int(score.value) if score.value.is_integer() else score.value
        elif form_name == "Ethical Concerns" and report.ethics_flag is not None:
            form[form_name] = report.ethics_flag
        elif form_name == "Decision" and review.decision is not None:
            form[form_name] = review.decision.text
    return form


def render(review: Review) -> str:
    """The answer layout the prompt asks for."""
    thought = review.notes.get("thought", "")
    return f"THOUGHT:\n{thought}\n\nREVIEW JSON:\n```json\n{json.dumps(to_form(review), indent=4)}\n```\n"
