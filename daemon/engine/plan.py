"""Research plans and rubrics as generations: the plan (researcher model), rubric extraction
from a paper and grading a plan against it (grader model). Each is a GenerationRequest the
daemon queues like a review, and a finisher that turns the output into the result.

Structured (untrained) models get small limits and ASCII-only strings, so their grammar-bound
JSON is short; real models get the defaults (up to 3 goals, 10 items each).
"""

from __future__ import annotations

from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine.prompting import model_identity, render_prompt
from papercycle.daemon.engine.review import paper_input
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.store import cache_key
from papercycle.formats import plan as plan_fmt
from papercycle.formats import rubric as rg
from papercycle.formats.rubric import Rubric
from papercycle.latex import Project

TINY_LIMITS = rg.RubricLimits(
    max_goals=1, max_items=3, max_goal_chars=40, max_item_chars=30, max_reason_chars=30
)


def limits_for(model: ModelConfig) -> rg.RubricLimits:
    return TINY_LIMITS if model.structured else rg.RubricLimits()


def _request(kind: str, model: ModelConfig, messages, grammar, version: str) -> GenerationRequest:
    settings = model.settings()
    prompt = render_prompt(model, messages)
    key = cache_key(model_identity(model), version, {**settings, "grammar": grammar}, prompt)
    return GenerationRequest(kind, model, kind, messages, prompt, grammar, settings, version, key)


def prepare_plan(model: ModelConfig, goal: str, constraints: str = "") -> GenerationRequest:
    messages = plan_fmt.build_messages(goal, constraints)
    grammar = plan_fmt.grammar() if model.structured else None
    return _request("plan", model, messages, grammar, plan_fmt.PROMPT_VERSION)


def finish_plan(_project, request: GenerationRequest, output: str) -> dict[str, Any]:
    plan = plan_fmt.parse(output)
    return {"kind": "plan", "model": request.model.name, **plan.to_dict()}


def prepare_extract(project: Project, model: ModelConfig) -> GenerationRequest:
    text, _removed = paper_input(project)  # instructions to models are cut here too
    limits = limits_for(model)
    messages = rg.build_extraction_messages(text, limits, several=True)
    grammar = rg.extraction_grammar(limits, several=True, ascii_only=model.structured)
    return _request("rubric.extract", model, messages, grammar, rg.PROMPT_VERSION)


def finish_extract(_project, request: GenerationRequest, output: str) -> dict[str, Any]:
    rubrics, warnings = rg.parse_goals(output, limits_for(request.model))
    return {
        "kind": "rubric",
        "model": request.model.name,
        **rg.rubrics_to_json(rubrics),
        "warnings": warnings,
    }


def prepare_grade(model: ModelConfig, plan: str, rubric: Rubric) -> GenerationRequest:
    limits = limits_for(model)
    messages = rg.build_grading_messages(plan, rubric, limits, reasons=True)
    grammar = rg.grading_grammar(
        len(rubric.items), limits, reasons=True, ascii_only=model.structured
    )
    return _request("rubric.grade", model, messages, grammar, rg.PROMPT_VERSION)


def finish_grade(rubric: Rubric):
    def finish(_project, request: GenerationRequest, output: str) -> dict[str, Any]:
        grade = rg.parse_grading(output, len(rubric.items))
        return {
            "goal": rubric.goal,
            "score": grade.score,
            "items": grade.items(rubric),
            "warnings": grade.warnings,
        }

    return finish


def combine_grades(goals: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's score: the fraction of all graded items satisfied (over every goal)."""
    verdicts = [i["satisfied"] for g in goals for i in g["items"] if i["satisfied"] is not None]
    score = sum(verdicts) / len(verdicts) if verdicts else None
    return {
        "kind": "grade",
        "score": score,
        "satisfied": sum(verdicts),
        "graded": len(verdicts),
        "goals": goals,
    }
