r"""DeepReviewer's Best Mode (`review.paper`, mode `best`, a `deepreviewer` model): two turns
with local retrieval in between.

1. turn 1: the Best-Mode system prompt and the paper; the model asks three questions in
   `\boxed_questions{...}` and stops ("Now, please tell me the answers ...");
2. the questions are answered offline from the project's bibliography (titles + abstracts)
   and the `[retrieval] folder` of `.papercycle.toml` (BM25), plus an online resolver only when
   `[retrieval] online` names a registered one;
3. turn 2: [system, paper, turn-1 output, answers in the authors' evaluation-data layout]; its
   output is the review, parsed and anchored like any other.
Untrained (structured) models get grammars for both turns; turn 1's questions then use words
from the bibliography's titles, so retrieval has something to find.

Both turns go through the daemon's cache, queue, streaming and cancellation: the `generate`
the request handler passes in (jobs.py); nothing here knows sockets or queues.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets, review, skeleton
from papercycle.daemon.engine.prompting import ReviewError, model_identity, render_prompt
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.retrieval import Index, answer_questions, resolver
from papercycle.daemon.store import cache_key
from papercycle.formats import deepreviewer, gbnf
from papercycle.latex import Project
from papercycle.latex.folder import is_within

BEST_TURN1_END = "Now, please tell me the answers to the three questions from the recent search."
BEST_TURN1_START = (
    "I will use Best Mode for comprehensive thinking. As a professional reviewer, I need to do "
    "my best! According to the user's instructions, I am now allowed to use external search "
    "tools to obtain background knowledge about the paper. I will write down three questions:"
)
# (request, finish) -> the finished result of its generation (jobs.Jobs.generate)
Generate = Callable[[GenerationRequest, Callable[..., dict[str, Any]]], Awaitable[dict[str, Any]]]
Progress = Callable[[dict[str, Any]], Awaitable[None]]  # a `progress` event's data


def _output(_project: Any, _request: Any, output: str) -> dict[str, Any]:
    return {"output": output}


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
    prompt = render_prompt(model, messages)
    version = deepreviewer.PROMPT_VERSION + "-best"
    key = cache_key(model_identity(model), version, {**settings, "grammar": grammar}, prompt)
    return GenerationRequest(kind, model, mode, messages, prompt, grammar, settings, version, key)


def _clip_answer(answer, limit: int):
    def clip(text):
        return text if text is None or len(text) <= limit else text[:limit].rsplit(" ", 1)[0]

    return type(answer)(answer.question, clip(answer.passages), clip(answer.answer))


async def run(
    generate: Generate, progress: Progress, trusted: bool, project: Project, model: ModelConfig
) -> dict[str, Any]:
    """Best Mode's result (`trusted`: the user trusts the project's folder, config.py)."""
    if model.format != "deepreviewer":
        raise ReviewError(
            "bad-request", f"Best Mode needs a deepreviewer model; {model.name!r} is {model.format}"
        )
    text, removed = review.paper_input(project)
    first = deepreviewer.build_messages(text, "best", reviewer_num=1 if model.structured else 4)
    grammar1 = turn1_grammar(project) if model.structured else None
    turn1 = _turn("paper", model, first, grammar1, "best-1")
    step1 = await generate(turn1, _output)
    output1 = step1["output"]
    # Turn 1 ends with the request for answers; a model that runs on past it (no stop string
    # in the backend) is cut there, as the authors' data cuts it.
    end = output1.find(BEST_TURN1_END)
    if end != -1:
        output1 = output1[: end + len(BEST_TURN1_END)]
    questions = deepreviewer.extract_questions(output1)[:3]
    settings = retrieval_settings(project, trusted)
    index = await asyncio.to_thread(Index.for_project, project, settings.get("folder"))
    try:
        online = resolver(settings.get("online"))
    except KeyError as error:
        raise ReviewError("bad-request", str(error)) from None
    # Three passages per question (OpenScholar gave more; they cost context). An untrained
    # model's 2k context holds one.
    k = 1 if model.structured else 3
    answers = await asyncio.to_thread(answer_questions, questions, index, k, online)
    if model.structured:
        answers = [_clip_answer(a, 160) for a in answers]
    await progress(
        {
            "stage": "retrieved",
            "questions": questions,
            "passages": sum(bool(a.passages) for a in answers),
        }
    )
    second = deepreviewer.best_mode_followup(first, output1, answers, style="eval")
    grammar2 = skeleton.grammar_for("deepreviewer") if model.structured else None
    turn2 = _turn("paper", model, second, grammar2, "best")
    turn2.removed_instructions = removed
    result = await generate(turn2, review.finish_review)
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
