"""The Markdown report layout shared by CycleReviewer and DeepReviewer.

Both write one report as headed fields: `### Rating` on its own line (CycleReviewer and
DeepReviewer's simulated reviewers) or `## Rating:` (DeepReviewer's final review), the value
in the following lines. Only known field names count as headers, so a reviewer's own
"### Minor issues" stays inside the field it belongs to and no text is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from papercycle.formats.review import MetaReview, ReviewerReport, Score

# Header name (lower case) -> field of ReviewerReport/MetaReview.
FIELD_NAMES = {
    "summary": "summary",
    "soundness": "soundness",
    "presentation": "presentation",
    "contribution": "contribution",
    "strengths": "strengths",
    "strength": "strengths",
    "weaknesses": "weaknesses",
    "weakness": "weaknesses",
    "suggestions": "suggestions",
    "questions": "questions",
    "rating": "rating",
    "confidence": "confidence",
    "flag for ethics review": "ethics",
    "decision": "decision",
    "justification_for_why_not_higher_score": "justification_for_why_not_higher_score",
    "justification_for_why_not_lower_score": "justification_for_why_not_lower_score",
}
LIST_FIELDS = ("strengths", "weaknesses", "suggestions", "questions")
SCORE_FIELDS = ReviewerReport.SCORE_FIELDS

# Valid ranges, to warn about a number no reviewer scale allows.
SCORE_RANGES = {
    "soundness": (1, 4),
    "presentation": (1, 4),
    "contribution": (1, 4),
    "rating": (1, 10),
    "confidence": (1, 5),
}

_NAMES_PATTERN = "|".join(sorted((re.escape(n) for n in FIELD_NAMES), key=len, reverse=True))
# "### Rating", "## Rating:", "## Rating: 5.67" (value on the header line after a colon).
_HEADER = re.compile(
    rf"^(?P<level>#{{2,4}})[ \t]*(?P<name>{_NAMES_PATTERN})[ \t]*(?::[ \t]*(?P<rest>.*))?$",
    re.IGNORECASE | re.MULTILINE,
)
_SEPARATOR_LINE = re.compile(r"^[ \t]*\*{5,}[ \t]*$", re.MULTILINE)
# a heading cut by the token budget before its name: the next field had begun, not this one's text
_CUT_HEADING = re.compile(r"\n[ \t]*#{1,6}[ \t]*\Z")
_LIST_MARKER = re.compile(r"^(?:\d{1,3}[.)]|[-*•])[ \t]+(?=\S)")
_WEAKNESS_PARTS = re.compile(
    r"^####[ \t]*(?P<name>Some Related Works|comment)[ \t]*:?[ \t]*$", re.I | re.M
)


@dataclass
class Field:
    name: str  # a FIELD_NAMES value
    header: str  # the header as written, for warnings
    body: str  # the raw text up to the next field header


def split_fields(text: str, levels: Iterable[int]) -> tuple[str, list[Field]]:
    """Split `text` at known field headers of the given `#` levels.

    Returns the text before the first header and the fields in order of appearance.
    """
    allowed = set(levels)
    headers = [m for m in _HEADER.finditer(text) if len(m["level"]) in allowed]
    lead = text[: headers[0].start()] if headers else text
    fields = []
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        body = text[match.end() : end]
        if match["rest"]:
            body = match["rest"] + body
        name = FIELD_NAMES[match["name"].lower()]
        fields.append(Field(name, match.group(0).strip(), body))
    return lead, fields


def clean(text: str) -> str:
    """Field text without surrounding blank lines, `**********` separator lines and a heading
    cut before its name."""
    return _CUT_HEADING.sub("", _SEPARATOR_LINE.sub("", text).rstrip()).strip()


def split_items(text: str) -> list[str]:
    """A written list as items.

    Numbered or bulleted lines start items (lines that follow, up to the next marker, belong
    to the item); text without markers is split into paragraphs.
    """
    text = clean(text)
    if not text:
        return []
    lines = text.split("\n")
    if any(_LIST_MARKER.match(line) for line in lines):
        items: list[list[str]] = []
        for line in lines:
            marker = _LIST_MARKER.match(line)
            if marker or not items:
                items.append([line[marker.end() :] if marker else line])
            else:
                items[-1].append(line)
        return [joined for item in items if (joined := "\n".join(item).strip())]
    return [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def split_lines(text: str) -> list[str]:
    """One item per non-empty line, list markers removed (DeepReviewer's questions)."""
    lines = (line.strip() for line in clean(text).split("\n"))
    return [_LIST_MARKER.sub("", line) for line in lines if line]


def read_report(
    text: str,
    levels: Iterable[int],
    *,
    label: str,
    warnings: list[str],
    meta: bool = False,
    expected: Iterable[str] = (),
) -> ReviewerReport:
    """Read one report's fields from `text`; problems go to `warnings`, prefixed by `label`.

    `expected` names fields whose absence deserves a warning. A `decision` field is left
    out of the report: callers read it with `decision_field`.
    """
    report: ReviewerReport = MetaReview() if meta else ReviewerReport()
    lead, fields = split_fields(text, levels)
    if meta and clean(lead):
        report.text = clean(lead)  # type: ignore[attr-defined]
    seen = set()
    for fld in fields:
        if fld.name in seen:
            warnings.append(f"{label}: '{fld.header}' repeated; kept the first")
            continue
        seen.add(fld.name)
        body = clean(fld.body)
        if not body and fld.name != "decision":
            warnings.append(f"{label}: '{fld.header}' is empty")
            continue
        if fld.name in SCORE_FIELDS:
            # A value that runs into the end of the text may have been cut by the token limit.
            may_be_cut = fld is fields[-1] and not fld.body[-1:].isspace()
            score = Score.read(body, may_be_cut=may_be_cut)
            if score.value is None:
                warnings.append(f"{label}: no number in '{fld.header}' ({body[:40]!r})")
            elif not _in_range(fld.name, score.value):
                warnings.append(f"{label}: {fld.name} {score.value:g} is outside its scale")
            setattr(report, fld.name, score)
        elif fld.name in LIST_FIELDS:
            if fld.name == "weaknesses":
                _read_weaknesses(report, fld.body)
            else:
                setattr(report, fld.name, split_items(fld.body))
        elif fld.name == "ethics":
            report.ethics_text = body
            report.ethics_flag = _ethics_flag(body)
        elif fld.name == "summary":
            report.summary = body
        elif fld.name.startswith("justification") and isinstance(report, MetaReview):
            setattr(report, fld.name, body)
    for name in expected:
        if name not in seen:
            warnings.append(f"{label}: no {name.capitalize()}")
    return report


def decision_field(text: str, levels: Iterable[int]) -> str | None:
    """The raw text of the first `Decision` field, or None."""
    for fld in split_fields(text, levels)[1]:
        if fld.name == "decision":
            return fld.body
    return None


def _in_range(name: str, value: float) -> bool:
    low, high = SCORE_RANGES[name]
    return low <= value <= high


def _read_weaknesses(report: ReviewerReport, body: str) -> None:
    parts = list(_WEAKNESS_PARTS.finditer(body))
    if not parts:
        report.weaknesses = split_items(body)
        return
    lead = body[: parts[0].start()]
    weaknesses = split_items(lead)
    for i, part in enumerate(parts):
        end = parts[i + 1].start() if i + 1 < len(parts) else len(body)
        content = body[part.end() : end]
        if part["name"].lower() == "comment":
            weaknesses += split_items(content)
        else:
            report.related_works = [
                line.strip() for line in clean(content).split("\n") if line.strip()
            ]
    report.weaknesses = weaknesses


def _ethics_flag(text: str) -> bool | None:
    lowered = text.lower()
    if re.search(r"\bno\b.*\b(needed|required|concerns?)\b|^no\b|\bnone\b|\bn/a\b", lowered):
        return False
    if lowered.startswith("yes") or "flag" in lowered or "needed" in lowered:
        return True
    return None
