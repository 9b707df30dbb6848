r"""`papercycle draft --paper`: a CycleResearcher generation as a LaTeX project on disk.

`prepare_paper_draft(bib, model, topic)` builds the generation (the references rendered as
training saw them); `finish_paper_draft` parses it; `write_project(paper, outdir, bib_text)`
writes `main.tex`, `refs.bib` and `idea.json` (motivation, main idea, scores, setup, and the
results flagged `"simulated": true`).

Honesty rules applied on the way to the file:
- citation keys not in the .bib are removed (engine/citations.py);
- every section the model wrote about results (its own continuation after the setup, and any
  results-like section in the first block) is a simulated block: framed, bannered, every
  number wrapped (engine/simulated.py); `simulated.ensure_marked` runs on each before writing;
- without a continuation, the experiments section lists the planned experiments of the setup
  JSON (a plan, not results) and says that no results exist yet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets, citations, simulated
from papercycle.daemon.engine.prompting import model_identity, render_prompt
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.store import cache_key
from papercycle.formats import cycleresearcher as cr
from papercycle.latex.bibliography import parse_bib

PREAMBLE = r"""\documentclass{article}
\usepackage[utf8]{inputenc}
\usepackage{amsmath,amssymb}
\usepackage{graphicx}
\usepackage{booktabs}
\usepackage{natbib}
\usepackage{xcolor}
"""
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SECTION = re.compile(r"\\section\*?\{([^{}]*)\}")
_DOCUMENT = re.compile(
    r"\\(?:documentclass|usepackage|title|author|date)\b[^\n]*\n?"
    r"|\\(?:begin|end)\{document\}|\\maketitle"
)


def bib_entries(bib_path: Path) -> list:
    text = bib_path.read_text(encoding="utf-8", errors="replace")
    return parse_bib(bib_path, text).entries


def prepare_paper_draft(
    entries: list, model: ModelConfig, topic: str | None = None
) -> GenerationRequest:
    from papercycle.daemon.engine.draft import safe_entries

    messages = cr.build_messages(cr.render_references(safe_entries(entries)), topic)
    keys = [e.key for e in entries]
    grammar = cr.grammar(keys) if model.structured else None
    # the defaults are the package's (temperature 0.4, top_p 0.95); a paper is ~19k tokens
    settings = budgets.settings_for(model, "cycleresearcher", "paper")
    return _request(model, "cycleresearcher", messages, grammar, settings)


def _strip_document(latex: str) -> str:
    return _DOCUMENT.sub("", latex).strip()


def _mark_results_sections(body: str) -> tuple[str, int]:
    """Results-like \\section blocks of `body` become simulated blocks."""
    heads = list(_SECTION.finditer(body))
    if not heads:
        return body, 0
    pieces, markers, last = [], 0, 0
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(body)
        if simulated.is_results_title(m.group(1)):
            block, n = simulated.mark_block(body[m.end() : end])
            pieces += [body[last : m.end()], "\n", block, "\n"]
            markers += n
            last = end
    pieces.append(body[last:])
    return "".join(pieces), markers


def _planned(setup: Any) -> str:
    lines = [
        "\\section{Experiments}",
        "% papercycle: no results exist yet; these are the planned experiments of the setup.",
        "No experiment has been run yet. Planned experiments:",
        "\\begin{itemize}",
    ]
    items = setup if isinstance(setup, list) else []
    for item in items:
        if isinstance(item, dict):
            name = _tex(str(item.get("name", "")))
            desc = _tex(str(item.get("description", "")))
            lines.append(f"  \\item \\textbf{{{name}}}: {desc}")
    if not items:
        lines.append("  \\item (the model gave no experimental setup)")
    lines.append("\\end{itemize}")
    return "\n".join(lines)


def _tex(text: str) -> str:
    return re.sub(r"([%&#_$])", r"\\\1", text)


def compose(
    paper: cr.ResearcherPaper, keys: list[str], measured: Any = None
) -> tuple[str, dict[str, Any]]:
    """main.tex for a parsed paper, and a report (citations, simulated markers).

    `measured`: the user's real results (turn 4), when `paper.results_latex` answers them;
    then only the numbers the results do not hold are marked, not the whole block."""
    body = _strip_document(paper.body)
    body, report = citations.check_citations(body, keys)
    body, markers = _mark_results_sections(body)
    if paper.results_latex:
        tail, tail_report = citations.check_citations(_strip_document(paper.results_latex), keys)
        report.removed += [k for k in tail_report.removed if k not in report.removed]
        report.kept += [k for k in tail_report.kept if k not in report.kept]
        if measured is None:
            # The whole continuation is simulated, Conclusion included: it rests on them.
            tail, n = simulated.mark_block(tail)
            simulated.ensure_marked(tail)
        else:
            allowed = _NUMBER.findall(json.dumps(measured)) + _NUMBER.findall(body)
            tail, n = simulated.mark_draft(tail, allowed)
            simulated.ensure_marked(tail, allowed, block=False)
        markers += n
    else:
        tail = _planned(paper.experimental_setup)
    abstract, abstract_report = citations.check_citations(paper.abstract, keys)
    report.removed += abstract_report.removed
    title = paper.title or "Untitled"
    text = (
        PREAMBLE
        + simulated.DEFINITION
        + "\n\n"
        + f"\\title{{{title}}}\n\\author{{Drafted with papercycle from a researcher model}}\n\n"
        + "\\begin{document}\n\\maketitle\n\n"
        + f"\\begin{{abstract}}\n{abstract}\n\\end{{abstract}}\n\n"
        + body
        + "\n\n"
        + tail
        + "\n\n\\bibliographystyle{plainnat}\n\\bibliography{refs}\n\n\\end{document}\n"
    )
    leftover = [k for k in citations.cited_keys(text) if k not in set(keys)]
    assert not leftover, f"invented citation keys left in the paper: {leftover}"
    return text, {"citations": report.to_dict(), "simulated_markers": markers}


def write_project(
    paper: cr.ResearcherPaper,
    outdir: Path,
    bib_text: str,
    keys: list[str],
    measured: Any = None,
) -> dict[str, Any]:
    """Write main.tex, refs.bib and idea.json into `outdir`; the report."""
    outdir.mkdir(parents=True, exist_ok=True)
    text, report = compose(paper, keys, measured)
    (outdir / "main.tex").write_text(text, encoding="utf-8")
    (outdir / "refs.bib").write_text(bib_text, encoding="utf-8")
    idea = {
        "motivation": paper.motivation,
        "main_idea": paper.main_idea,
        "interestingness": paper.interestingness,
        "feasibility": paper.feasibility,
        "novelty": paper.novelty,
        "experimental_setup": paper.experimental_setup,
        "experimental_results": (
            {"simulated": False, "note": "given by the authors", "data": measured}
            if measured is not None
            else {
                "simulated": paper.experimental_results is not None,
                "note": "invented by the model, never measured"
                if paper.experimental_results is not None
                else "none",
                "data": paper.experimental_results,
            }
        ),
        "warnings": paper.warnings,
    }
    (outdir / "idea.json").write_text(json.dumps(idea, indent=2, ensure_ascii=False) + "\n")
    return {**report, "files": ["main.tex", "refs.bib", "idea.json"]}


def prepare_results_turn(first: GenerationRequest, output: str, measured: Any) -> GenerationRequest:
    """Turns 4-5: the authors' real results after the model's setup; it writes the rest."""
    model = first.model
    messages = [
        *first.messages,
        {"role": "assistant", "content": cr.setup_turn(output)},
        cr.results_turn(measured),
    ]
    grammar = cr.results_grammar() if model.structured else None
    settings = dict(first.settings)
    if model.structured:  # its grammar writes a few dozen tokens; leave the context to the prompt
        settings["max_tokens"] = min(int(settings.get("max_tokens", 512)), 256)
    return _request(model, "cycleresearcher-results", messages, grammar, settings)


def _request(
    model: ModelConfig, fmt: str, messages: list, grammar: str | None, settings: dict[str, Any]
) -> GenerationRequest:
    prompt = render_prompt(model, messages)
    key = cache_key(
        model_identity(model), cr.PROMPT_VERSION, {**settings, "grammar": grammar}, prompt
    )
    return GenerationRequest(
        "paper-draft", model, fmt, messages, prompt, grammar, settings, cr.PROMPT_VERSION, key
    )


def finish_paper_draft(request: GenerationRequest, output: str) -> dict[str, Any]:
    paper = cr.parse(output)
    return {
        "kind": "paper-draft",
        "model": request.model.name,
        "format": "cycleresearcher",
        "output": output,
        "paper": paper.to_dict(),
        "warnings": paper.warnings,
    }
