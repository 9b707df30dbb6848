r"""The co-author's daemon requests: `draft.section`, `draft.paper`, `plan`, `rubric.extract`,
`rubric.grade`, and DeepReviewer Best Mode for `review.paper` (two turns with local
retrieval). The server dispatches here; each handler builds GenerationRequests and runs them
through the server's own queue, cache, streaming and cancellation (`server._generate`).

Best Mode (`review.paper`, mode `best`, a `deepreviewer` model):
1. turn 1: the Best-Mode system prompt and the paper; the model asks three questions in
   `\boxed_questions{...}` and stops ("Now, please tell me the answers ...");
2. the questions are answered offline from the project's bibliography (titles + abstracts)
   and the `[retrieval] folder` of `.papercycle.toml` (BM25), plus an online resolver only when
   `[retrieval] online` names a registered one;
3. turn 2: [system, paper, turn-1 output, answers in the authors' evaluation-data layout]; its
   output is the review, parsed and anchored like any other.
Untrained (structured) models get grammars for both turns; turn 1's questions then use words
from the bibliography's titles, so retrieval has something to find.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from pathlib import Path
from typing import Any

from papercycle.daemon import protocol
from papercycle.daemon.config import ConfigError, ModelConfig
from papercycle.daemon.engine import budgets, simulated, skeleton
from papercycle.daemon.engine import draft as draft_engine
from papercycle.daemon.engine import paper as paper_engine
from papercycle.daemon.engine import plan as plan_engine
from papercycle.daemon.engine import review as review_engine
from papercycle.daemon.engine.review import GenerationRequest, ReviewError
from papercycle.daemon.formats import deepreviewer, gbnf
from papercycle.daemon.formats import rubric as rg
from papercycle.daemon.project import Project
from papercycle.daemon.project.folder import is_within
from papercycle.daemon.retrieval import Index, answer_questions, resolver
from papercycle.daemon.store import cache_key

REQUEST_TYPES = ("draft.section", "draft.paper", "plan", "rubric.extract", "rubric.grade")
DEFAULT_PRIORITY = {
    "draft.section": "interactive",
    "draft.paper": "interactive",
    "plan": "interactive",
    "rubric.extract": "background",
    "rubric.grade": "background",
}
BEST_TURN1_END = "Now, please tell me the answers to the three questions from the recent search."
BEST_TURN1_START = (
    "I will use Best Mode for comprehensive thinking. As a professional reviewer, I need to do "
    "my best! According to the user's instructions, I am now allowed to use external search "
    "tools to obtain background knowledge about the paper. I will write down three questions:"
)


def _failed(code: str, message: str, **data: Any) -> Exception:
    from papercycle.daemon.server import RequestFailed

    return RequestFailed(code, message, **data)


def _priority(kind: str, params: dict) -> int:
    from papercycle.daemon.scheduler import PRIORITIES

    name = params.get("priority", DEFAULT_PRIORITY.get(kind, "interactive"))
    if name not in PRIORITIES:
        raise _failed("bad-request", f"priority {name!r} is not one of {list(PRIORITIES)}")
    return PRIORITIES[name]


def _model(server, project_dir: Path | None, wanted: str | None, role: str) -> ModelConfig:
    """The named model; else the project's `[review] researcher_model` / `grader_model`; else
    the first model of `role`; else (none of that role) the default reviewer."""
    try:
        config = server.current_config().with_project(project_dir)
        if wanted:
            return config.model_for(wanted, role)
        chosen = config.review.get(f"{role}_model")
        if isinstance(chosen, str) and chosen:
            return config.model_for(chosen, role)
        of_role = [m for m in config.models.values() if m.role == role]
        if of_role:
            return of_role[0]
        return config.model_for(None, "reviewer")
    except ConfigError as error:
        raise _failed("model", str(error)) from None


async def _prepare(fn, *args, **kwargs):
    from papercycle.daemon.models.registry import ModelError

    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except ReviewError as error:
        raise _failed(error.code, str(error)) from None
    except ModelError as error:
        raise _failed("model", str(error)) from None
    except ValueError as error:
        raise _failed("bad-request", str(error)) from None


async def handle(server, peer: bytes, request_id: str, kind: str, params: dict) -> dict:
    priority = _priority(kind, params)
    if kind == "draft.section":
        return await _draft_section(server, peer, request_id, params, priority)
    if kind == "draft.paper":
        return await _draft_paper(server, peer, request_id, params, priority)
    if kind == "plan":
        goal = params.get("goal")
        if not isinstance(goal, str) or not goal.strip():
            raise _failed("bad-request", "plan needs 'goal' (the research goal, as text)")
        model = _model(server, None, params.get("model"), "researcher")
        constraints = str(params.get("constraints") or "")
        request = await _prepare(plan_engine.prepare_plan, model, goal, constraints)
        return await server._generate(
            peer, request_id, None, request, priority, finish=plan_engine.finish_plan
        )
    if kind == "rubric.extract":
        project = await asyncio.to_thread(
            server._project, _path(params), params.get("buffers") or {}
        )
        model = _model(server, project.root_dir, params.get("model"), "grader")
        request = await _prepare(plan_engine.prepare_extract, project, model)
        return await server._generate(
            peer, request_id, project, request, priority, finish=plan_engine.finish_extract
        )
    if kind == "rubric.grade":
        return await _grade(server, peer, request_id, params, priority)
    raise _failed("bad-request", f"unknown request type {kind!r}")


def _path(params: dict) -> str:
    path = params.get("path")
    if not isinstance(path, str) or not path:
        raise _failed("bad-request", "this request needs 'path' (a .tex file or directory)")
    return path


async def _draft_section(server, peer, request_id, params, priority) -> dict:
    path = _path(params)
    buffers = params.get("buffers") or {}
    if not isinstance(buffers, dict):
        raise _failed("bad-request", "'buffers' must map file paths to their text")
    selector = params.get("section")
    if selector is None:
        raise _failed(
            "bad-request", "draft.section needs 'section' (number, title or {path, offset})"
        )
    project = await asyncio.to_thread(server._project, path, buffers)
    model = _model(server, project.root_dir, params.get("model"), "researcher")
    request = await _prepare(
        draft_engine.prepare_draft,
        project,
        model,
        selector,
        params.get("kind"),
        instruction=str(params.get("instruction") or ""),
        comment=str(params.get("comment") or ""),
        citation_mode=str(params.get("citations") or "remove"),
    )
    await server._send(
        peer,
        protocol.event(
            request_id,
            "progress",
            {
                "stage": "prepared",
                "kind": request.draft_kind,
                "section": request.section.node.display_name(),
            },
        ),
    )
    return await server._generate(
        peer, request_id, project, request, priority, finish=draft_engine.finish_draft
    )


async def _draft_paper(server, peer, request_id, params, priority) -> dict:
    bib = params.get("bib")
    if not isinstance(bib, str) or not Path(bib).is_file():
        raise _failed("bad-request", "draft.paper needs 'bib': the path of a .bib file")
    measured = params.get("results")
    if measured is not None and not isinstance(measured, list | dict):
        raise _failed("bad-request", "'results' must be the experiments' results as JSON")
    entries = await asyncio.to_thread(paper_engine.bib_entries, Path(bib))
    if not entries:
        raise _failed("project", f"{bib} holds no BibTeX entry")
    keys = [e.key for e in entries]
    model = _model(server, None, params.get("model"), "researcher")
    topic = params.get("topic") or None
    request = await _prepare(paper_engine.prepare_paper_draft, entries, model, topic)
    first = await server._generate(
        peer,
        request_id,
        None,
        request,
        priority,
        finish=lambda _p, req, out: paper_engine.finish_paper_draft(req, out),
    )
    from papercycle.daemon.formats import cycleresearcher as cr

    paper = cr.parse(first["output"])
    second = None
    if measured is not None:
        # The authors' own results: turn 4, and the model writes the remaining sections.
        turn = paper_engine.prepare_results_turn(request, first["output"], measured)
        second = await server._generate(
            peer, request_id, None, turn, priority, finish=lambda _p, _r, out: {"output": out}
        )
        paper.results_latex = cr.parse_results_turn(second["output"])
        paper.experimental_results = None
    text, report = await asyncio.to_thread(paper_engine.compose, paper, keys, measured)
    return {
        **first,
        "paper": paper.to_dict(),
        "results_output": second["output"] if second else None,
        "measured": measured,
        "main_tex": text,
        **report,
    }


async def _grade(server, peer, request_id, params, priority) -> dict:
    plan = params.get("plan")
    if not isinstance(plan, str) or not plan.strip():
        raise _failed("bad-request", "rubric.grade needs 'plan' (the plan's text)")
    try:
        rubrics = rg.rubrics_from_json(params.get("rubric"))
    except ValueError as error:
        raise _failed("bad-request", f"'rubric': {error}") from None
    model = _model(server, None, params.get("model"), "grader")
    goals = []
    for rubric in rubrics:
        request = await _prepare(plan_engine.prepare_grade, model, plan, rubric)
        goals.append(
            await server._generate(
                peer, request_id, None, request, priority, finish=plan_engine.finish_grade(rubric)
            )
        )
    combined = {**plan_engine.combine_grades(goals), "model": model.name}
    # a grade read from a cut answer is not a whole grade
    combined["complete"] = all(goal.get("complete", True) for goal in goals)
    return combined


# --- reviews: simulated-result findings and Best Mode ---------------------------------------


def finish_review(project: Project, request: GenerationRequest, output: str) -> dict:
    """The review engine's result, with the simulated-result markers as Error findings."""
    result = review_engine.finish(project, request, output)
    result["simulated"] = simulated.findings(project)
    return result


def retrieval_settings(project: Project, trusted: bool = False) -> dict[str, Any]:
    """`[retrieval]` of the project's `.papercycle.toml` (folder relative to it). A folder
    outside the project is read only when the user trusts the project's folder (config.py):
    otherwise a cloned paper could index any of the user's files into the model's prompt;
    `refused` then says so."""
    root = project.root_dir
    file = None if root is None else root / ".papercycle.toml"
    if file is None or not file.is_file():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8")).get("retrieval", {})
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    out = dict(data) if isinstance(data, dict) else {}
    if out.get("folder"):
        out["folder"] = str((root / str(out["folder"])).resolve())
        if not trusted and not is_within(Path(out["folder"]), root):
            out["refused"] = (
                f"{file}: [retrieval] folder {out.pop('folder')} is outside the project and "
                f"not read; if you trust this folder, run `papercycle trust {root}`"
            )
    return out


def _vocabulary(project: Project, limit: int = 40) -> list[str]:
    words: list[str] = []
    for entry in project.bibliography.entries.values():
        for w in re.findall(r"[a-z]{4,10}", entry.title.lower()):
            if w not in words:
                words.append(w)
    return words[:limit] or ["method", "results", "baseline"]


def turn1_grammar(project: Project) -> str:
    alts = " | ".join(gbnf.literal(w) for w in _vocabulary(project))
    L = gbnf.literal
    return (
        "root ::= "
        + L(BEST_TURN1_START + "\n\\boxed_questions{\n")
        + ' q "\\n" q "\\n" q '
        + L("\n}\n\n" + BEST_TURN1_END)
        + "\n"
        + 'q ::= [A-Z] [a-z]{2,6} (" " w){2,5} "?"\n'
        + f"w ::= {alts}\n"
    )


def _turn(kind: str, model: ModelConfig, messages, grammar, mode: str) -> GenerationRequest:
    settings = budgets.settings_for(model, "deepreviewer", mode)
    prompt = review_engine._render(model, messages)
    version = deepreviewer.PROMPT_VERSION + "-best"
    key = cache_key(
        review_engine._identity(model), version, {**settings, "grammar": grammar}, prompt
    )
    return GenerationRequest(kind, model, mode, messages, prompt, grammar, settings, version, key)


def _clip_answer(answer, limit: int):
    def clip(text):
        return text if text is None or len(text) <= limit else text[:limit].rsplit(" ", 1)[0]

    return type(answer)(answer.question, clip(answer.passages), clip(answer.answer))


async def best_mode(server, peer, request_id, project: Project, model, priority: int) -> dict:
    if model.format != "deepreviewer":
        raise _failed(
            "bad-request", f"Best Mode needs a deepreviewer model; {model.name!r} is {model.format}"
        )
    text, removed = review_engine.paper_input(project)
    first = deepreviewer.build_messages(text, "best", reviewer_num=1 if model.structured else 4)
    grammar1 = turn1_grammar(project) if model.structured else None
    turn1 = _turn("paper", model, first, grammar1, "best-1")
    step1 = await server._generate(
        peer, request_id, project, turn1, priority, finish=lambda _p, _r, out: {"output": out}
    )
    output1 = step1["output"]
    # Turn 1 ends with the request for answers; a model that runs on past it (no stop string
    # in the backend) is cut there, as the authors' data cuts it.
    end = output1.find(BEST_TURN1_END)
    if end != -1:
        output1 = output1[: end + len(BEST_TURN1_END)]
    questions = deepreviewer.extract_questions(output1)[:3]
    settings = retrieval_settings(project, server.current_config().trusts(project.root_dir))
    index = await asyncio.to_thread(Index.for_project, project, settings.get("folder"))
    try:
        online = resolver(settings.get("online"))
    except KeyError as error:
        raise _failed("bad-request", str(error)) from None
    # Three passages per question (OpenScholar gave more; they cost context). An untrained
    # model's 2k context holds one.
    k = 1 if model.structured else 3
    answers = await asyncio.to_thread(answer_questions, questions, index, k, online)
    if model.structured:
        answers = [_clip_answer(a, 160) for a in answers]
    await server._send(
        peer,
        protocol.event(
            request_id,
            "progress",
            {
                "stage": "retrieved",
                "questions": questions,
                "passages": sum(bool(a.passages) for a in answers),
            },
        ),
    )
    second = deepreviewer.best_mode_followup(first, output1, answers, style="eval")
    grammar2 = skeleton.grammar_for("deepreviewer") if model.structured else None
    turn2 = _turn("paper", model, second, grammar2, "best")
    turn2.removed_instructions = removed
    result = await server._generate(
        peer, request_id, project, turn2, priority, finish=finish_review
    )
    if step1.get("complete") is False:  # questions cut: the review built on them is not whole
        result["complete"] = False
        result.setdefault("incomplete", step1["incomplete"])
        turn1_cut = f"Best Mode turn 1 (questions): {step1['incomplete']['message']}"
        result["warnings"] = [turn1_cut, *result.get("warnings", [])]
    return {
        **result,
        "warnings": [*result.get("warnings", []), *filter(None, [settings.get("refused")])],
        "mode": "best",
        "best": {
            "questions": questions,
            "answers": [
                {"question": a.question, "passages": a.passages, "answer": a.answer}
                for a in answers
            ],
            "turn1": {"output": output1, "generation": step1.get("generation")},
            "retrieval": {
                "passages_indexed": len(index.passages),
                "folder": settings.get("folder"),
                "online": settings.get("online") or None,
                "warnings": index.warnings,
            },
        },
    }
