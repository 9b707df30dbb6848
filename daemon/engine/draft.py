r"""Drafting a section as data: build the generation (`prepare_draft`), and turn the model's
output into a result the editor can insert (`finish_draft`).

The result never carries an invented citation key unreported (engine/citations.py) or an
unmarked simulated number (engine/simulated.py): `finish_draft` post-processes every output,
and `simulated.ensure_marked` is the last check before the text leaves the engine.

Where the draft goes (`range` of the result, in the section's own file):

- a section (`introduction`, `method`, ...): inserted at the end of the section's own text,
  before the next heading (the notes already under the heading stay; the author deletes them);
- `abstract`: replaces the text of the abstract environment;
- `continue`: inserted at the end of the paragraph under the cursor;
- `rewrite`: replaces the paragraph under the cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import citations, simulated
from papercycle.daemon.engine.prompting import ReviewError, model_identity, render_prompt
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.store import cache_key
from papercycle.formats import draft as fmt
from papercycle.latex import Project
from papercycle.latex.file_edit import text_digest
from papercycle.latex.model import SectionSlice
from papercycle.latex.positions import Range

_HEADING = re.compile(
    r"\\(?:part|chapter|section|subsection|subsubsection)\*?\s*[\[{]|\\appendix\b"
    r"|\\begin\s*\{thebibliography\}|\\bibliography\s*\{|\\printbibliography|\\end\s*\{document\}"
    # The next section may sit in an included file: a draft goes before the inclusion.
    r"|\\(?:input|include)\s*\{"
)
# Lines that are not prose: a paragraph to continue or rewrite never spans them.
_STRUCTURE_LINE = re.compile(
    r"^[ \t]*(?:\\(?:part|chapter|section|subsection|subsubsection|paragraph|label|maketitle"
    r"|input|include)\b|%)[^\n]*$",
    re.M,
)
_ANY_HEADING = re.compile(r"\\(?:section|subsection|subsubsection|paragraph)\*?\{([^{}]*)\}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE = " \t\r\n"


DRAFTABLE = {"abstract", "part", "chapter", "section", "subsection", "subsubsection"}


class DraftError(ReviewError):
    pass


@dataclass
class DraftTarget:
    path: Path
    start: int
    end: int
    mode: str  # "insert" | "replace"
    before: str = ""  # text put before the draft (a newline where needed)
    after: str = ""
    source_digest: str = ""  # of the file's text the offsets count in (file_edit.text_digest)


@dataclass
class DraftRequest(GenerationRequest):
    draft_kind: str = "section"
    target: DraftTarget | None = None
    keys: list[str] = field(default_factory=list)
    allowed_numbers: list[str] = field(default_factory=list)
    citation_mode: str = "remove"
    results: bool = False
    notes: list[str] = field(default_factory=list)  # warnings known before generating


def _slices(project: Project) -> list[SectionSlice]:
    return [
        s for s in project.section_slices() if s.node.kind in DRAFTABLE and s.node.range is not None
    ]


def _cursor_offset(project: Project, selector: dict[str, Any]) -> tuple[str, int]:
    path = str(selector.get("path", ""))
    if "line" in selector:
        from papercycle.latex.positions import Position

        position = Position(int(selector["line"]), int(selector.get("character", 0)))
        return path, project.line_index(path).offset(position)
    return path, int(selector.get("offset", 0))


def find_section(project: Project, selector: str | dict[str, Any]) -> SectionSlice:
    """Like the review's selector (number, title, {path, offset}, {path, line, character}),
    but empty sections count: they are the ones worth drafting."""
    slices = _slices(project)
    if isinstance(selector, dict):
        path, offset = _cursor_offset(project, selector)
        node = project.section_at(path, offset)
        # The closest heading at or before the cursor in the same file wins (an empty section
        # has no visible text for the source map to land on).
        p = Path(path).resolve()
        best = None
        for s in slices:
            r = s.node.range
            if (
                r is not None
                and r.path == p
                and r.start <= offset
                and (best is None or r.start >= best.node.range.start)
            ):
                best = s
        if best is not None:
            return best
        for s in slices:
            if node is not None and s.node is node:
                return s
        raise DraftError("project", f"no section at {selector}")
    wanted = str(selector).strip().lower()
    for s in slices:
        if (s.node.number or "").lower() == wanted or s.node.title.strip().lower() == wanted:
            return s
        if s.node.kind == "abstract" and wanted == "abstract":
            return s
    known = ", ".join(f"{s.node.number or ''} {s.node.title}".strip() for s in slices)
    raise DraftError("project", f"no section {selector!r} (sections: {known})")


def _body_span(project: Project, part: SectionSlice) -> tuple[Path, int, int, str, bool]:
    """(file, start, end, text, inside an abstract environment) of the section's own source
    text, heading excluded."""
    r = part.node.range
    assert r is not None
    text = project.file_text(r.path) or ""
    if part.node.kind == "abstract":
        m = re.compile(r"\\begin\s*\{abstract\}").match(text, r.start)
        end = text.find("\\end{abstract}", m.end()) if m else -1
        if m and end != -1:
            return r.path, m.end(), end, text, True
        # \abstract{...} or an unclosed environment: treated like a heading (insert after).
    line_end = text.find("\n", r.end)
    start = len(text) if line_end == -1 else line_end + 1
    m = _HEADING.search(text, start)
    end = m.start() if m else len(text)
    # Back over the whitespace before the next heading (a CRLF's \r too: a draft never goes
    # between \r and \n)
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    return r.path, start, end, text, False


def _paragraph_at(text: str, offset: int) -> tuple[int, int]:
    """The paragraph (between blank lines) holding `offset`, without its surrounding space."""
    breaks = [m for m in re.finditer(r"\n[ \t\r]*\n", text)]
    start, end = 0, len(text)
    for m in breaks:
        if m.end() <= offset:
            start = m.end()
        elif m.start() >= offset:
            end = m.start()
            break
    for m in _STRUCTURE_LINE.finditer(text, start, end):
        if m.end() <= offset:
            start = m.end()
        elif m.start() > offset:
            end = m.start()
            break
    while start < end and text[start] in _SPACE:
        start += 1
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    return start, end


def _target(
    project: Project, part: SectionSlice, kind: str, cursor: tuple[str, int] | None
) -> tuple[DraftTarget, str, str]:
    """Where the draft goes, the notes under the heading and the paragraph to work on."""
    path, start, end, text, environment = _body_span(project, part)
    notes = text[start:end]
    if kind in ("continue", "rewrite"):
        if cursor is None:
            raise DraftError(
                "bad-request", f"draft kind {kind!r} needs a cursor: section {{path, offset}}"
            )
        cpath, offset = cursor
        path = Path(cpath).resolve()
        text = project.file_text(path) or ""
        a, b = _paragraph_at(text, offset)
        if a >= b:
            raise DraftError("project", "no paragraph at the cursor")
        if kind == "continue":
            return DraftTarget(path, b, b, "insert", before=" "), notes, text[a:b]
        return DraftTarget(path, a, b, "replace"), notes, text[a:b]
    if kind == "abstract" and environment:
        return DraftTarget(path, start, end, "replace", before="\n", after="\n"), notes, ""
    before = "\n\n" if notes.strip() else ""
    if end == start and start > 0 and text[start - 1] != "\n":
        before = "\n"
    return DraftTarget(path, end, end, "insert", before=before, after="\n\n"), notes, ""


WITHHELD = "[withheld by papercycle: this field holds instructions to AI models]"


def safe_entries(entries) -> list:
    """Bibliography entries with every field that reads like an instruction to a model (the
    project model reports them as `bib-field` findings) replaced by a marker: the researcher
    model reads abstracts, so a planted one must not steer it."""
    from dataclasses import replace

    from papercycle.latex.injection import looks_like_injection

    out = []
    for e in entries:
        bad = {k for k, v in e.fields.items() if isinstance(v, str) and looks_like_injection(v)}
        out.append(
            replace(e, fields={k: (WITHHELD if k in bad else v) for k, v in e.fields.items()})
            if bad
            else e
        )
    return out


def draft_context(project: Project, part: SectionSlice) -> fmt.DraftContext:
    slices = [s for s in _slices(project) if s.node.kind != "abstract"]
    abstract = next((s.text for s in project.section_slices() if s.node.kind == "abstract"), "")
    title = next((s.node.title for s in project.section_slices() if s.node.kind == "title"), "")
    index = next((i for i, s in enumerate(slices) if s.node is part.node), None)
    previous = slices[index - 1].text if index else ""
    following = slices[index + 1].text if index is not None and index + 1 < len(slices) else ""
    return fmt.DraftContext(
        title=title,
        abstract=abstract,
        outline=[s.node.display_name() for s in slices],
        heading=part.node.display_name(),
        previous=previous,
        following=following,
    )


def prepare_draft(
    project: Project,
    model: ModelConfig,
    selector: str | dict[str, Any],
    kind: str | None = None,
    *,
    instruction: str = "",
    comment: str = "",
    citation_mode: str = "remove",
) -> DraftRequest:
    part = find_section(project, selector)
    try:
        kind = fmt.normal_kind(kind) if kind else None
    except ValueError as error:
        raise DraftError("bad-request", str(error)) from None
    if kind is None:
        kind = "abstract" if part.node.kind == "abstract" else fmt.kind_for_title(part.node.title)
    if citation_mode not in citations.MODES:
        raise DraftError("bad-request", f"citations must be one of {citations.MODES}")
    cursor = _cursor_offset(project, selector) if isinstance(selector, dict) else None
    target, notes, paragraph = _target(project, part, kind, cursor)
    # what the file was when asked: a writer refuses the draft if it changed meanwhile
    target.source_digest = text_digest(project.file_text(target.path) or "")
    ctx = draft_context(project, part)
    # The bibliography gets about half of the context left after the answer (~3 characters a
    # token); keys left out of the prompt stay citable.
    room = max(0, model.n_ctx - int(model.settings().get("max_tokens", 512)))
    ctx.bibliography, left_out = fmt.bibliography_lines(
        safe_entries(project.bibliography.entries.values()), budget=max(1500, room * 3 // 2)
    )
    ctx.notes, ctx.target, ctx.comment, ctx.instruction = notes, paragraph, comment, instruction
    keys = sorted(project.bibliography.entries)
    messages = fmt.build_messages(kind, ctx)
    grammar = fmt.grammar(kind, keys) if model.structured else None
    settings = model.settings()
    prompt = render_prompt(model, messages)
    allowed = set(_NUMBER.findall(project.visible.text)) | set(_NUMBER.findall(notes))
    allowed |= {e.year for e in project.bibliography.entries.values() if e.year}
    results = kind == "experiments" or (
        kind in ("section", "continue", "rewrite") and simulated.is_results_title(part.node.title)
    )
    key = cache_key(
        model_identity(model),
        fmt.PROMPT_VERSION,
        {**settings, "grammar": grammar, "kind": kind},
        prompt,
    )
    request = DraftRequest(
        "draft",
        model,
        kind,
        messages,
        prompt,
        grammar,
        settings,
        fmt.PROMPT_VERSION,
        key,
        None,
        part,
        draft_kind=kind,
        target=target,
        keys=keys,
        allowed_numbers=sorted(allowed),
        citation_mode=citation_mode,
        results=results,
    )
    if left_out:
        request.notes.append(
            f"{left_out} bibliography entries did not fit the model's context and were left "
            "out of the prompt"
        )
    return request


_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?|\n?```\s*$")
_LEADING_HEADING = re.compile(
    r"^\s*\\(?:section|subsection|subsubsection|chapter)\*?\{[^{}]*\}[^\n]*\n"
)
_DOCUMENT = re.compile(r"\\(?:documentclass|usepackage)[^\n]*\n|\\(?:begin|end)\{document\}")


def clean_output(text: str, kind: str) -> str:
    """The model's LaTeX body: fences, a repeated heading and document wrappers taken off."""
    text = _FENCE.sub("", text.strip())
    text = _DOCUMENT.sub("", text)
    if kind not in ("continue", "rewrite"):
        text = _LEADING_HEADING.sub("", text, count=1)
    if kind == "abstract":
        text = re.sub(r"\\(?:begin|end)\{abstract\}", "", text)
    return text.strip()


def postprocess(
    text: str,
    kind: str,
    keys: list[str],
    *,
    results: bool,
    allowed_numbers: list[str] = (),
    citation_mode: str = "remove",
) -> tuple[str, citations.CitationReport, int]:
    """Clean, check citations, label simulated numbers; (text, citation report, markers)."""
    body = clean_output(text, kind)
    body, report = citations.check_citations(body, keys, citation_mode)
    if report.marked:
        body = citations.PREAMBLE + "\n" + body
    # A draft of another section that opens a results section of its own is results too.
    results = results or any(
        simulated.is_results_title(m.group(1)) for m in _ANY_HEADING.finditer(body)
    )
    if results:
        body, markers = simulated.mark_block(body)
        simulated.ensure_marked(body)
    else:
        body, markers = simulated.mark_draft(body, allowed_numbers)
        simulated.ensure_marked(body, allowed_numbers, block=False)
    leftover = [k for k in citations.cited_keys(body) if k not in set(keys)]
    assert not leftover, f"invented citation keys left in a draft: {leftover}"
    return body, report, markers


def finish_draft(project: Project, request: DraftRequest, output: str) -> dict[str, Any]:
    target = request.target
    assert target is not None and request.section is not None
    body, report, markers = postprocess(
        output,
        request.draft_kind,
        request.keys,
        results=request.results,
        allowed_numbers=request.allowed_numbers,
        citation_mode=request.citation_mode,
    )
    warnings = list(request.notes)
    if not body:
        warnings.append("the model wrote nothing usable")
    if report.invented:
        warnings.append(
            f"{len(report.invented)} citation key(s) not in the bibliography were "
            f"{'marked' if request.citation_mode == 'mark' else 'removed'}: "
            + ", ".join(report.invented)
        )
    if markers:
        warnings.append(f"{markers} simulated-result marker(s): replace them before submitting")
    insert = target.before + body + target.after if body else ""
    rng = Range(target.path, target.start, target.end)
    node = request.section.node
    return {
        "kind": "draft",
        "draft_kind": request.draft_kind,
        "model": request.model.name,
        "section": {
            "title": node.title,
            "number": node.number,
            "name": node.display_name(),
            "range": project.range_dict(node.range),
        },
        "text": insert,
        "draft": body,
        "mode": target.mode,
        "range": {**project.range_dict(rng), "sha256": target.source_digest},
        "citations": report.to_dict(),
        "simulated": {"markers": markers, "results": request.results},
        "warnings": warnings,
    }


def run_draft(project: Project, model: ModelConfig, registry: Any, selector, kind=None, **kw):
    """Prepare, generate and finish a draft directly (no daemon, no cache)."""
    from papercycle.daemon.engine.review import run_directly

    request = prepare_draft(project, model, selector, kind, **kw)
    return finish_draft(project, request, run_directly(request, registry))
