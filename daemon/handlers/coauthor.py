"""The co-author's requests: `draft.section`, `draft.paper`, `plan`, `rubric.extract`,
`rubric.grade`. Each prepares its generations with the engine (engine/draft.py, paper.py,
plan.py) and runs them through the road (jobs.py); the model is the request's, else the
project's `[review] researcher_model` / `grader_model`, else the first of that role."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from papercycle.daemon import requests, results
from papercycle.daemon.engine import draft, paper, plan
from papercycle.daemon.engine.prompting import ReviewError
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.protocol import RequestFailed
from papercycle.formats import cycleresearcher, rubric


async def _prepare(ctx: Context, prepare, *args: Any, **kwargs: Any) -> Any:
    """The engine's request; what it refuses as a plain ValueError (a draft kind it does not
    know, ...) is the client's to fix."""
    try:
        return await ctx.jobs.prepare(prepare, *args, **kwargs)
    except ReviewError:
        raise
    except ValueError as error:
        raise RequestFailed("bad-request", str(error)) from None


async def plan_request(ctx: Context, request: requests.Plan) -> results.PlanResult:
    if not request.goal.strip():
        raise RequestFailed("bad-request", "plan needs 'goal' (the research goal, as text)")
    model = ctx.jobs.model(None, request.model, "researcher")
    prepared = await _prepare(
        ctx, plan.prepare_plan, model, request.goal, request.constraints or ""
    )
    priority = ctx.jobs.priority(request.priority)
    planned = await ctx.jobs.generate(ctx.channel, None, prepared, priority, plan.finish_plan)
    return results.PlanResult.from_engine(planned)


async def rubric_extract(ctx: Context, request: requests.RubricExtract) -> results.RubricResult:
    project = await ctx.jobs.project(request.path, request.buffers)
    model = ctx.jobs.model(project.root_dir, request.model, "grader")
    prepared = await _prepare(ctx, plan.prepare_extract, project, model)
    priority = ctx.jobs.priority(request.priority)
    extracted = await ctx.jobs.generate(
        ctx.channel, project, prepared, priority, plan.finish_extract
    )
    return results.RubricResult.from_engine(extracted)


async def rubric_grade(ctx: Context, request: requests.RubricGrade) -> results.GradeResult:
    if not request.plan.strip():
        raise RequestFailed("bad-request", "rubric.grade needs 'plan' (the plan's text)")
    try:
        rubrics = rubric.rubrics_from_json(request.rubric)
    except ValueError as error:
        raise RequestFailed("bad-request", f"'rubric': {error}") from None
    model = ctx.jobs.model(None, request.model, "grader")
    priority = ctx.jobs.priority(request.priority)
    goals = []
    for goal in rubrics:
        prepared = await _prepare(ctx, plan.prepare_grade, model, request.plan, goal)
        goals.append(
            await ctx.jobs.generate(ctx.channel, None, prepared, priority, plan.finish_grade(goal))
        )
    return results.GradeResult(
        **plan.combine_grades(goals),
        model=model.name,
        # a grade read from a cut answer is not a whole grade
        complete=all(goal.get("complete", True) for goal in goals),
    )


async def draft_section(ctx: Context, request: requests.DraftSection) -> results.DraftResult:
    if request.section is None:
        raise RequestFailed(
            "bad-request", "draft.section needs 'section' (number, title or {path, offset})"
        )
    project = await ctx.jobs.project(request.path, request.buffers)
    model = ctx.jobs.model(project.root_dir, request.model, "researcher")
    prepared = await _prepare(
        ctx,
        draft.prepare_draft,
        project,
        model,
        request.section,
        request.kind,
        instruction=request.instruction or "",
        comment=request.comment or "",
        citation_mode=request.citations or "remove",
    )
    await ctx.progress(
        {
            "stage": "prepared",
            "kind": prepared.draft_kind,
            "section": prepared.section.node.display_name(),
        }
    )
    priority = ctx.jobs.priority(request.priority)
    drafted = await ctx.jobs.generate(ctx.channel, project, prepared, priority, draft.finish_draft)
    return results.DraftResult.from_engine(drafted)


async def draft_paper(ctx: Context, request: requests.DraftPaper) -> results.PaperDraftResult:
    if not Path(request.bib).is_file():
        raise RequestFailed("bad-request", "draft.paper needs 'bib': the path of a .bib file")
    entries = await asyncio.to_thread(paper.bib_entries, Path(request.bib))
    if not entries:
        raise RequestFailed("project", f"{request.bib} holds no BibTeX entry")
    keys = [e.key for e in entries]
    model = ctx.jobs.model(None, request.model, "researcher")
    prepared = await _prepare(ctx, paper.prepare_paper_draft, entries, model, request.topic or None)
    priority = ctx.jobs.priority(request.priority)
    first = await ctx.jobs.generate(
        ctx.channel,
        None,
        prepared,
        priority,
        lambda _p, req, out: paper.finish_paper_draft(req, out),
    )
    drafted = cycleresearcher.parse(first["output"])
    measured = request.results
    second = None
    if measured is not None:
        # The authors' own results: turn 4, and the model writes the remaining sections.
        turn = paper.prepare_results_turn(prepared, first["output"], measured)
        second = await ctx.jobs.generate(
            ctx.channel, None, turn, priority, lambda _p, _r, out: {"output": out}
        )
        drafted.results_latex = cycleresearcher.parse_results_turn(second["output"])
        drafted.experimental_results = None
    text, report = await asyncio.to_thread(paper.compose, drafted, keys, measured)
    return results.PaperDraftResult.from_engine(
        {
            **first,
            "paper": drafted.to_dict(),
            "results_output": second["output"] if second else None,
            "measured": measured,
            "main_tex": text,
            **report,
        }
    )
