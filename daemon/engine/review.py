"""Reviews as data: build the generation a review needs, and turn the model's output into a
result (parsed review, scores, decision, anchored comments, hidden-text findings).

The daemon runs the generation in between (queue, cache, streaming); `review_paper` and
`review_section` at the bottom run all three steps directly, for scripts and benchmarks.
"""

from __future__ import annotations

from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets, section_in_own_format, simulated, skeleton
from papercycle.daemon.engine.anchoring import Anchorer
from papercycle.daemon.engine.prompting import (
    PROMPT_VERSIONS,
    ReviewError,
    TokenCounter,
    combined_scores,
    fit_prompt,
    hidden_findings,
    key_and_tokens,
    render_prompt,
)
from papercycle.daemon.engine.review_units import shown_name, units
from papercycle.daemon.models import trained_for
from papercycle.daemon.models.request import GenerationRequest
from papercycle.formats import (
    aiscientist,
    cyclereviewer,
    deepreviewer,
    openreviewer,
    section,
)
from papercycle.formats.parse import parse_review
from papercycle.formats.review import Review, SectionReview
from papercycle.latex import Project
from papercycle.latex.injection import injection_matches
from papercycle.latex.model import SectionSlice

MODES = ("fast", "standard", "best", "sections")
# The whole-paper modes each format has; another mode asked of it is reviewed in its one
# mode and the result says so (mode_asked and a warning), never labelled with the mode asked.
# A fine-tuned reviewer's GGUF may narrow them to the modes it was trained for (trained_for).
FORMAT_MODES = {
    "deepreviewer": ("fast", "standard", "best"),
    "cyclereviewer": ("standard",),
    "aiscientist": ("standard",),
    "openreviewer": ("standard",),
}
REMOVED = "[instruction to reviewers removed by papercycle]"


def check_context(request: GenerationRequest, count: TokenCounter) -> None:
    """ReviewError when the prompt and the answer do not fit the model's context. The daemon
    calls it only on a cache miss (counting tokens costs more than a cached answer)."""
    what = (
        "the paper"
        if request.section is None
        else f"section {request.section.node.display_name()!r}"
    )
    request.prompt_tokens = fit_prompt(
        request.model, what, request.prompt, request.settings, count, request.mode
    )


def strip_instructions(
    project: Project, start: int = 0, end: int | None = None
) -> tuple[str, list[str]]:
    """The visible text in [start, end) with instructions to reviewers taken out. Hidden text is
    never in the visible text; visible instructions are (a reader sees them), but the model must
    not: each sentence holding an instruction-like phrase inside a finding's span is replaced."""
    visible = project.visible
    end = len(visible.text) if end is None else end
    cuts: list[tuple[int, int]] = []
    for finding in project.hidden:
        if not finding.injection:
            continue
        # the whole visible span of the finding: its source may end on a newline or markup
        # that produces no character of its own
        span = visible.source_map.from_source_span(
            finding.range.path, finding.range.start, finding.range.end
        )
        if span is None or span[1] <= start or span[0] >= end:
            continue
        a, b = span
        segment = visible.text[a:b]
        for m_start, m_end in injection_matches(segment) or [(0, len(segment))]:
            s_from = max(segment.rfind(". ", 0, m_start) + 2, 0) if ". " in segment[:m_start] else 0
            s_to = segment.find(". ", m_end)
            s_to = len(segment) if s_to == -1 else s_to + 1
            cuts.append((a + s_from, a + s_to))
    text = visible.text
    removed = []
    merged: list[tuple[int, int]] = []
    for a, b in sorted(cuts):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    pieces, last = [], start
    for a, b in merged:
        a, b = max(a, start), min(b, end)
        if a >= b:
            continue
        pieces += [text[last:a], REMOVED]
        removed.append(text[a:b])
        last = b
    pieces.append(text[last:end])
    return "".join(pieces), removed


def paper_input(project: Project) -> tuple[str, list[str]]:
    return strip_instructions(project)


def prepare_paper(
    project: Project, model: ModelConfig, mode: str, count: TokenCounter | None = None
) -> GenerationRequest:
    if mode not in MODES or mode == "sections":
        raise ReviewError("bad-request", f"mode {mode!r} is not one of fast, standard, best")
    text, removed = paper_input(project)
    fmt = model.format
    asked = None
    offered = trained_for.offered_modes(model, FORMAT_MODES.get(fmt))
    if offered and mode not in offered:
        asked, mode = mode, offered[0]
    if fmt == "cyclereviewer":
        messages = cyclereviewer.build_messages(text)
    elif fmt == "deepreviewer":
        messages = deepreviewer.build_messages(
            text, mode, reviewer_num=1 if model.structured else 4
        )
    elif fmt == "aiscientist":
        messages = aiscientist.build_messages(text)
    elif fmt == "openreviewer":
        messages = openreviewer.build_messages(text)
    else:
        raise ReviewError(
            "bad-request",
            f"model {model.name!r} writes section reviews (format section): use mode 'sections'",
        )
    settings = budgets.settings_for(model, fmt, mode)
    grammar = skeleton.grammar_for(fmt) if model.structured else None
    prompt = render_prompt(model, messages)
    version = PROMPT_VERSIONS[fmt]
    key, tokens = key_and_tokens(
        model, version, settings, grammar, prompt, "the paper", mode, count
    )
    return GenerationRequest(
        "paper",
        model,
        mode,
        messages,
        prompt,
        grammar,
        settings,
        version,
        key,
        tokens,
        removed_instructions=removed,
        mode_asked=asked,
    )


def reviewable_sections(project: Project) -> list[SectionSlice]:
    """The review units (engine/incremental.py): each section's own text, up to its first
    subsection, number left out. The one definition for the CLI and the editors, so both
    review the same sections of a paper and share their cached reviews.
    (A unit's section review is `prepare_section(project, model, unit.part)`: its own text,
    the title without its number.)"""
    return [unit.part for unit in units(project)]


def find_section(project: Project, selector: str | dict[str, Any]) -> SectionSlice:
    """A section by number ("3.1"), title ("Method", case-insensitive) or position, e.g. the
    editor's cursor: {"path", "offset"} (character offset) or {"path", "line", "character"}."""
    slices = reviewable_sections(project)
    if isinstance(selector, dict):
        path = str(selector.get("path", ""))
        if "line" in selector:  # an LSP position (0-based line, UTF-16 character)
            from papercycle.latex.positions import Position

            position = Position(int(selector["line"]), int(selector.get("character", 0)))
            offset = project.line_index(path).offset(position)
        else:
            offset = int(selector.get("offset", 0))
        node = project.section_at(path, offset)
        for s in slices:
            if node is not None and s.node.original is node:
                return s
        raise ReviewError("project", f"no reviewable section at {selector}")
    wanted = str(selector).strip().lower()
    for s in slices:
        if (s.node.number or "").lower() == wanted or s.node.title.strip().lower() == wanted:
            return s
    known = ", ".join(f"{s.node.number or ''} {s.node.title}".strip() for s in slices)
    raise ReviewError("project", f"no section {selector!r} (sections: {known})")


def prepare_section(
    project: Project, model: ModelConfig, part: SectionSlice, count: TokenCounter | None = None
) -> GenerationRequest:
    text, removed = strip_instructions(project, part.prose_start, part.prose_end)
    title = part.node.display_name()
    if model.format != "section":
        return section_in_own_format.prepare(project, model, part, text, removed, count)
    # A structured (tiny/untrained) model is made to write at least one comment, so the
    # anchoring path always runs; a real model may find nothing to say.
    limits = (
        section.SectionLimits(
            min_comments=1, max_comments=2, max_comment_chars=100, max_rewrite_chars=60
        )
        if model.structured
        else section.SectionLimits()
    )
    messages = section.build_messages(text, title, limits)
    # The heading is in the text the model reads, but it is no sentence to comment on.
    body, _ = strip_instructions(project, part.body_start, part.prose_end)
    sentences = [s for s in section.quotable_sentences(body, limits) if REMOVED not in s]
    # Quotes forced to be sentences of the section: every comment anchors exactly. Free text
    # is any Unicode a paper holds; ASCII only for random-weight models (gbnf.py says why).
    grammar = section.grammar(limits, sentences or None, ascii_only=model.structured)
    settings = budgets.settings_for(model, "section", "section")
    prompt = render_prompt(model, messages)
    key, tokens = key_and_tokens(
        model,
        section.PROMPT_VERSION,
        settings,
        grammar,
        prompt,
        f"section {title!r}",
        "section",
        count,
    )
    return GenerationRequest(
        "section",
        model,
        "section",
        messages,
        prompt,
        grammar,
        settings,
        section.PROMPT_VERSION,
        key,
        tokens,
        part,
        removed,
    )


def finish(project: Project, request: GenerationRequest, output: str) -> dict[str, Any]:
    """The result of a generation's output: parsed, scored, anchored."""
    anchorer = Anchorer(project)
    if request.kind == "section":
        return _finish_section(project, anchorer, request, output)
    review = parse_review(output, request.model.format, model=request.model.name)
    assert isinstance(review, Review)
    return review_result(project, request, review, anchorer)


def finish_review(project: Project, request: GenerationRequest, output: str) -> dict[str, Any]:
    """A review request's result: `finish`, with the simulated-result markers as findings."""
    result = finish(project, request, output)
    result["simulated"] = simulated.findings(project)
    return result


def review_result(
    project: Project,
    request: GenerationRequest,
    review: Review,
    anchorer: Anchorer | None = None,
) -> dict[str, Any]:
    """The result of a whole-paper review already read (one answer's, or several combined:
    engine/aiscientist_run.py): scored, its comments anchored."""
    anchorer = anchorer or Anchorer(project)
    comments = []
    reports = list(enumerate(review.reports, 1))
    for reviewer, report in reports:
        for kind, items, severity in (
            ("weakness", report.weaknesses, "major"),
            ("question", report.questions, "minor"),
        ):
            for text in items:
                anchor = anchorer.anchor(text)
                comments.append(
                    {
                        "kind": kind,
                        "reviewer": reviewer,
                        "category": kind,
                        "severity": severity,
                        "text": text,
                        "anchor": anchor.to_dict(project),
                    }
                )
    if review.meta is not None:
        for text in review.meta.weaknesses:
            comments.append(
                {
                    "kind": "weakness",
                    "reviewer": 0,
                    "category": "meta-review",
                    "severity": "major",
                    "text": text,
                    "anchor": anchorer.anchor(text).to_dict(project),
                }
            )
    warnings = list(review.warnings)
    mode_note = (
        trained_for.mode_note(request.model, request.mode_asked, request.mode)
        if request.mode_asked
        else None
    )
    if mode_note:
        warnings.insert(0, mode_note)
    return {
        "kind": "paper",
        "model": request.model.name,
        "format": request.model.format,
        "mode": request.mode,
        **({"mode_asked": request.mode_asked, "mode_note": mode_note} if mode_note else {}),
        "scores": combined_scores(review),
        "decision": review.decision.verdict if review.decision else None,
        "comments": comments,
        "hidden": hidden_findings(project),
        "removed_instructions": request.removed_instructions,
        "warnings": warnings,
        "review": review.to_dict(),
    }


def _finish_section(
    project: Project, anchorer: Anchorer, request: GenerationRequest, output: str
) -> dict[str, Any]:
    part = request.section
    assert part is not None
    heading = part.node.range
    if request.model.format != "section":
        return section_in_own_format.finish(project, anchorer, request, output)
    review = section.parse(output, part.text)
    comments = []
    for item in review.comments:
        anchor = anchorer.anchor(
            item.comment,
            quote=item.quote or None,
            within=(part.prose_start, part.prose_end),
            fallback=heading,
        )
        comments.append(
            {
                "kind": "comment",
                "category": item.category,
                "severity": item.severity,
                "text": item.comment,
                "quote": item.quote,
                "suggested_rewrite": item.suggested_rewrite,
                "anchor": anchor.to_dict(project),
            }
        )
    return {
        "kind": "section",
        "model": request.model.name,
        "format": "section",
        "section": {
            "title": part.node.title,
            "number": part.node.number,
            "name": shown_name(part.node),
            "range": project.range_dict(heading),
        },
        "scores": dict(review.scores),
        "decision": None,
        "comments": comments,
        "hidden": hidden_findings(project),
        "removed_instructions": request.removed_instructions,
        "warnings": review.warnings,
        "review": review.to_dict(),
    }


def run_directly(request: GenerationRequest, registry: Any, on_token=None, cancel=None) -> str:
    from papercycle.daemon.models.backend import Cancellation

    entry = registry.acquire(request.model, lambda *_: None)
    try:
        generation = entry.backend.generate(
            request.prompt,
            request.messages,
            request.settings,
            request.grammar,
            on_token or (lambda _t: None),
            cancel or Cancellation(),
        )
    finally:
        registry.release(entry)
    return generation.text


def review_paper(project: Project, mode: str, model: ModelConfig, registry: Any) -> dict:
    """Flatten, prompt, generate, parse and anchor a whole-paper review (no daemon, no cache)."""
    request = prepare_paper(project, model, mode, registry.count_tokens)
    return finish(project, request, run_directly(request, registry))


def review_section(
    project: Project, selector: str | dict, model: ModelConfig, registry: Any
) -> dict:
    """Our grammar-constrained anchored review of one section (no daemon, no cache)."""
    request = prepare_section(
        project, model, find_section(project, selector), registry.count_tokens
    )
    return finish(project, request, run_directly(request, registry))


__all__ = [
    "GenerationRequest",
    "ReviewError",
    "SectionReview",
    "find_section",
    "finish",
    "finish_review",
    "prepare_paper",
    "prepare_section",
    "review_paper",
    "review_result",
    "review_section",
]
