r"""CycleResearcher's generation format (review-formats.md §3): prompt, references as training
saw them, output parser, grammar for untrained models, and the paper as a LaTeX project.

Prompt: the exact system prompt of the authors' package and training data (trailing space
after "References.", the stray "/" after "Methods"); the user turn is an optional topic line,
the references, and the fixed tail. References are BibTeX entries separated by blank lines,
each entry's abstract on a line `Abstract: ...` before it (and taken out of the entry).

Output (turn 3 of the 5-turn sample, and what the model writes on when it goes past its turn):
`## Motivation`, `## Main Idea`, `## Interestingness`, `## Feasibility`, `## Novelty` (scores),
a ```latex block (title, abstract, introduction, related work, methods), `## Experimental
Setup` with a ```json list of {name, description}; then, when the model goes on by itself,
`## Experimental_results` (```json) and a second ```latex block with the remaining sections.
Those results were never measured: `write_project` labels every one of them as simulated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from papercycle.formats import gbnf
from papercycle.formats.chat import Message, prompt_version

SYSTEM_PROMPT = (
    "You are a research assistant AI tasked with generating a scientific paper based on "
    "provided literature. Follow these steps:\n\n1. Analyze the given References. \n2. Identify "
    "gaps in existing research to establish the motivation for a new study.\n3. Propose a main "
    "idea for a new research work.\n4. Write the paper's main content in LaTeX format, "
    "including:\n   - Title\n   - Abstract\n   - Introduction\n   - Related Work\n   - "
    "Methods/\n5. Generate experimental setup details in JSON format to guide researchers.\n6. "
    "After receiving experimental results in JSON format, analyze them.\n7. Complete the paper "
    "by writing:\n   - Results\n   - Discussion\n   - Conclusion\n   - Contributions\n\nEnsure "
    "all content is original, academically rigorous, and follows standard scientific writing "
    "conventions."
)
TOPIC_TEMPLATE = "Generate a research paper on the topic: {topic}\n\n"
USER_TAIL = (
    "The above content represents the relevant literature in this field. Please analyze it and "
    "provide the motivation and main idea. Then, provide the Title, Abstract, Introduction, "
    "Related Work, and Methods sections in LaTeX format."
)
RESULTS_TEMPLATE = "## Experimental_results\n\n```json\n{results}\n```"
PROMPT_VERSION = prompt_version(SYSTEM_PROMPT, TOPIC_TEMPLATE, USER_TAIL, "cr-grammar-2")
SAMPLING = {"temperature": 0.4, "top_p": 0.95}  # the package's settings
STOP = ["\\clearpage", "\\clear", "clearpage"]

SCORE_FIELDS = ("interestingness", "feasibility", "novelty")


# --- references ----------------------------------------------------------------------------


def render_entry(key: str, entry_type: str, fields: dict[str, str]) -> str:
    """One reference as in training: `Abstract: ...` line, then the entry without it."""
    lines = [f"@{entry_type}{{{key},"]
    items = [(k, v) for k, v in fields.items() if k.lower() != "abstract"]
    for i, (name, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        lines.append(f"  {name}={{{value}}}{comma}")
    lines.append("}")
    abstract = next((v for k, v in fields.items() if k.lower() == "abstract"), None)
    head = f"Abstract: {' '.join(abstract.split())}\n" if abstract else ""
    return head + "\n".join(lines)


def render_references(entries: Iterable) -> str:
    """BibEntry objects (project.bibliography) as the training data's reference list."""
    return "\n\n".join(render_entry(e.key, e.entry_type, e.fields) for e in entries)


def build_messages(references: str, topic: str | None = None) -> list[Message]:
    user = (TOPIC_TEMPLATE.format(topic=topic) if topic else "") + references + "\n\n" + USER_TAIL
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def results_turn(results: list[dict[str, Any]]) -> Message:
    """Turn 4: real results, in the training layout (the way to avoid simulated ones)."""
    return {"role": "user", "content": RESULTS_TEMPLATE.format(results=json.dumps(results))}


def setup_turn(output: str) -> str:
    """Turn 3 as the model's own message before real results: cut after the setup JSON (a
    model that went on by itself invented results; they are dropped)."""
    at = output.find("## Experimental Setup")
    if at == -1:
        return output
    m = _BLOCK.search(output, at)
    return output[: m.end()].rstrip() if m else output


def parse_results_turn(text: str) -> str:
    """Turn 5: the LaTeX of the remaining sections (its ```latex block, else the text)."""
    blocks = [
        b.group(2).strip() for b in _BLOCK.finditer(text) if b.group(1) in ("latex", "tex", None)
    ]
    return _cut_after_conclusion("\n\n".join(blocks) if blocks else text.strip())


def results_grammar() -> str:
    """Turn 5 for untrained models: experiments (with a number) and a conclusion."""
    L = gbnf.literal
    return (
        "root ::= "
        + L("```latex\n\\section{Experiments}\n")
        + " nsentence "
        + L("\n\n\\section{Conclusion}\n")
        + " sentence "
        + L("\n```")
        + "\n"
        + 'sentence ::= cap (" " word){2,6} "."\n'
        + 'nsentence ::= cap (" " word){1,4} " " number (" " word){1,3} "."\n'
        + "cap ::= [A-Z] [a-z]{1,7}\nword ::= [a-z]{1,8}\n"
        + 'number ::= [1-9] [0-9]{0,1} "." [0-9]\n'
    )


# --- parsing -------------------------------------------------------------------------------


@dataclass
class ResearcherPaper:
    motivation: str = ""
    main_idea: str = ""
    interestingness: float | None = None
    feasibility: float | None = None
    novelty: float | None = None
    title: str = ""
    abstract: str = ""
    latex: str = ""  # the first ```latex block: title to methods
    experimental_setup: Any = None  # parsed JSON (a list) or the raw text
    experimental_results: Any = None  # simulated unless given by the user
    results_latex: str = ""  # what the model wrote after the setup: results, conclusion...
    warnings: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        """The LaTeX after the abstract: introduction to methods."""
        text = self.latex
        end = text.find("\\end{abstract}")
        if end != -1:
            text = text[end + len("\\end{abstract}") :]
        return text.strip()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_HEAD = re.compile(r"^##\s+(.+?)\s*$", re.M)
_BLOCK = re.compile(r"```(latex|json|tex)?[ \t]*\n(.*?)(?:\n```|\Z)", re.S)


def _sections(text: str) -> dict[str, tuple[int, int]]:
    heads = list(_HEAD.finditer(text))
    out: dict[str, tuple[int, int]] = {}
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        name = m.group(1).strip().lower().replace("_", " ")
        out.setdefault(name, (m.end(), end))
    return out


def _score(text: str) -> float | None:
    m = re.search(r"\d+(?:\.\d+)?", text)
    return float(m.group()) if m else None


def _braced(text: str, start: int) -> tuple[str, int]:
    """The balanced {...} group starting at text[start] == "{"."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return text[start + 1 :], len(text)


def parse(text: str) -> ResearcherPaper:
    """Every part of a CycleResearcher output; missing parts are warnings, never an error."""
    paper = ResearcherPaper()
    parts = _sections(text)

    def part(name: str) -> str:
        span = parts.get(name)
        return text[span[0] : span[1]].strip() if span else ""

    paper.motivation = part("motivation")
    paper.main_idea = part("main idea")
    for name in SCORE_FIELDS:
        value = _score(part(name)[:20]) if part(name) else None
        setattr(paper, name, value)
        if value is None:
            paper.warnings.append(f"no {name} score")
    for name, label in (("motivation", "motivation"), ("main_idea", "main idea")):
        if not getattr(paper, name):
            paper.warnings.append(f"no {label}")
    blocks = list(_BLOCK.finditer(text))
    latex_blocks = [b for b in blocks if (b.group(1) or "latex") in ("latex", "tex")]
    setup_at = parts.get("experimental setup", (len(text), len(text)))[0]
    results_at = parts.get("experimental results")
    first = next((b for b in latex_blocks if b.start() < setup_at), None)
    if first is None and latex_blocks:
        first = latex_blocks[0]
    if first is None:
        paper.warnings.append("no ```latex block")
    else:
        # A block cut off by the token limit ends the text: the "\n```" is optional.
        paper.latex = first.group(2).strip()
        m = re.search(r"\\title\s*\{", paper.latex)
        if m:
            paper.title = " ".join(_braced(paper.latex, m.end() - 1)[0].split())
        else:
            paper.warnings.append("no \\title in the LaTeX block")
        m = re.search(r"\\begin\{abstract\}(.*?)\\end\{abstract\}", paper.latex, re.S)
        if m:
            paper.abstract = m.group(1).strip()
        else:
            paper.warnings.append("no abstract in the LaTeX block")
    jsons = [b for b in blocks if b.group(1) == "json"]
    setup = next((b for b in jsons if b.start() >= setup_at), None)
    if setup is None:
        paper.warnings.append("no experimental setup JSON")
    else:
        paper.experimental_setup = _json(setup.group(2), paper.warnings, "experimental setup")
    if results_at is not None:
        res = next((b for b in jsons if b.start() >= results_at[0]), None)
        if res is not None:
            paper.experimental_results = _json(res.group(2), paper.warnings, "results")
    # Everything in a latex block after the setup is the model's own continuation.
    tail = [b.group(2).strip() for b in latex_blocks if b is not first and b.start() > setup_at]
    paper.results_latex = "\n\n".join(t for t in tail if t)
    if paper.results_latex:
        paper.results_latex = _cut_after_conclusion(paper.results_latex)
    return paper


def _json(text: str, warnings: list[str], what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        warnings.append(f"the {what} JSON does not parse; kept as text")
        return text.strip()


def _cut_after_conclusion(latex: str) -> str:
    """The package's cut: stop at `\\clearpage` or the section after the conclusion."""
    latex = re.split(r"\\clear(?:page)?", latex)[0]
    heads = list(re.finditer(r"\\section\*?\{([^{}]*)\}", latex))
    for i, m in enumerate(heads):
        if re.search(r"conclusion|disclosure|acknowledg", m.group(1), re.I) and i + 1 < len(heads):
            return latex[: heads[i + 1].start()].rstrip()
    return latex.rstrip()


def render(paper: ResearcherPaper) -> str:
    """The output text of a parsed paper (turn 3), in the training layout."""
    scores = {n: getattr(paper, n) for n in SCORE_FIELDS}
    parts = [
        f"## Motivation\n\n{paper.motivation}\n",
        f"## Main Idea\n\n{paper.main_idea}\n",
        *(f"## {n.capitalize()}\n\n{_num(scores[n])}\n" for n in SCORE_FIELDS),
        f"```latex\n{paper.latex}\n```\n",
        "## Experimental Setup\n\n```json\n"
        + (
            json.dumps(paper.experimental_setup)
            if not isinstance(paper.experimental_setup, str)
            else paper.experimental_setup
        )
        + "\n```",
    ]
    return "\n".join(parts)


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


# --- grammar for untrained models ----------------------------------------------------------


def grammar(keys: Iterable[str] = (), *, results: bool = True) -> str:
    r"""The whole layout forced, words free: scores 1-10, a LaTeX block with title, abstract,
    introduction, related work (citing only `keys`) and method, the setup JSON, and (with
    `results`) the continuation a real model writes by itself: results JSON and experiments."""
    keys = sorted(set(keys))
    cite = " | ".join(gbnf.literal(f"\\cite{{{k}}}") for k in keys) if keys else None
    L = gbnf.literal
    rules = [
        "root ::= "
        + " ".join(
            [
                L("## Motivation\n\n"),
                "text",
                L("\n\n## Main Idea\n\n"),
                "text",
                L("\n\n## Interestingness\n\n"),
                "score",
                L("\n\n## Feasibility\n\n"),
                "score",
                L("\n\n## Novelty\n\n"),
                "score",
                L("\n\n```latex\n\\title{"),
                "words",
                L("}\n\n\\begin{abstract}\n"),
                "text",
                L("\n\\end{abstract}\n\n\\section{Introduction}\n"),
                "ctext",
                L("\n\n\\section{Related Work}\n"),
                "rtext",
                L("\n\n\\section{Method}\n"),
                "text",
                L('\n```\n\n## Experimental Setup\n\n```json\n[{"name": "'),
                "words",
                L('", "description": "'),
                "words",
                L('"}]\n```'),
                "tail" if results else "",
            ]
        ),
        "score ::= [1-9] | " + L("10"),
        'text ::= sentence (" " sentence){0,1}',
        'ctext ::= csentence (" " csentence){0,1}',
        'sentence ::= cap (" " word){2,6} "."',
        'csentence ::= cap (" " citem){2,6} "."',
        "citem ::= word" + (" | cite" if cite else ""),
        # related work cites at least once when there is a .bib to cite
        "rtext ::= " + ('rsentence (" " csentence){0,1}' if cite else "ctext"),
        'words ::= cap (" " word){1,3}',
        "cap ::= [A-Z] [a-z]{1,7}",
        "word ::= [a-z]{1,8}",
        'number ::= [1-9] [0-9]{0,1} "." [0-9]',
    ]
    if cite:
        rules.append(f"cite ::= {cite}")
        rules.append('rsentence ::= cap (" " citem){1,5} " " cite "."')
    if results:
        rules.append(
            "tail ::= "
            + " ".join(
                [
                    L('\n\n## Experimental_results\n\n```json\n[{"name": "'),
                    "words",
                    L('", "result": {"table": [["Method", "Score"], ["Ours", '),
                    "number",
                    L(']], "description": "'),
                    "words",
                    L('"}}]\n```\n\n```latex\n\\section{Experiments}\n'),
                    "nsentence",
                    L("\n\n\\section{Conclusion}\n"),
                    "text",
                    L("\n```"),
                ]
            )
        )
        rules.append('nsentence ::= cap (" " word){1,4} " " number (" " word){1,3} "."')
    return "\n".join(r for r in rules) + "\n"
