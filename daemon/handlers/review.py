"""`review.paper`, `review.section`, `review.sections`: a fresh project per request, its
reviewer model, then one generation through the road (jobs.py), or several: every section
(`review.sections`, `review.paper` mode `sections`), DeepReviewer's Best Mode
(engine/best_mode.py) or the AI Scientist's rounds (engine/aiscientist_run.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from papercycle.daemon import requests, results
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import aiscientist_run, best_mode, review, simulated
from papercycle.daemon.engine.review_units import shown_name
from papercycle.daemon.handlers.context import Context
from papercycle.daemon.models import trained_for
from papercycle.daemon.protocol import RequestFailed
from papercycle.latex import Project, SectionSlice

Reviewed = results.ReviewResult | results.SectionsResult


async def review_paper(ctx: Context, request: requests.ReviewPaper) -> Reviewed:
    if request.mode == "sections":
        return await _reviewed(ctx, request, "section", _sections)
    return await _reviewed(ctx, request, None, _paper)


async def review_section(ctx: Context, request: requests.ReviewSection) -> Reviewed:
    return await _reviewed(ctx, request, "section", _section)


async def review_sections(ctx: Context, request: requests.ReviewSections) -> Reviewed:
    return await _reviewed(ctx, request, "section", _sections)


async def _reviewed(ctx: Context, request: Any, fmt: str | None, run) -> Reviewed:
    """The project, its reviewer (a section reviewer unless a whole paper is reviewed) and the
    review; a project's own [[models]] ignored (an untrusted folder) is said in the warnings."""
    project = await ctx.jobs.project(request.path, request.buffers)
    config = ctx.jobs.project_config(project.root_dir)
    model = ctx.jobs.model(project.root_dir, request.model, "reviewer", fmt=fmt)
    if fmt is not None and any(v is not None for v in request.aiscientist_params.values()):
        raise RequestFailed(
            "bad-request", "reflections, ensemble and few_shot apply to whole-paper reviews"
        )
    result = await run(ctx, request, project, model)
    return dataclasses.replace(result, warnings=[*config.warnings, *result.warnings])


async def _paper(
    ctx: Context, request: requests.ReviewPaper, project: Project, model: ModelConfig
) -> results.ReviewResult:
    return results.ReviewResult.from_engine(await _paper_review(ctx, request, project, model))


async def _paper_review(ctx: Context, request: requests.ReviewPaper, project: Project, model):
    """The engine's result: one generation, Best Mode or the AI Scientist's rounds."""
    priority = ctx.jobs.priority(request.priority)
    options = aiscientist_run.read_options(request.aiscientist_params)
    aiscientist_run.check_model(options, model)
    generate = ctx.generate_with(project, priority)
    if not options.plain:  # the AI Scientist's rounds
        trusts = ctx.jobs.config().trusts
        run = aiscientist_run.Run(
            lambda turn: generate(turn, _output), ctx.progress, trusts, project, model, options
        )
        return await run.run(request.mode)
    if request.mode == "best" and model.format == "deepreviewer" and _offers_best(model):
        trusted = ctx.jobs.config().trusts(project.root_dir)
        return await best_mode.run(generate, ctx.progress, trusted, project, model)
    prepared = await ctx.jobs.prepare(review.prepare_paper, project, model, request.mode)
    return await ctx.jobs.generate(ctx.channel, project, prepared, priority)


def _offers_best(model: ModelConfig) -> bool:
    """A fine-tuned DeepReviewer not trained for Best is reviewed in a mode it was
    (prepare_paper, with the warning), not run through Best Mode's two turns."""
    return "best" in trained_for.offered_modes(model, review.FORMAT_MODES["deepreviewer"])


async def _section(
    ctx: Context, request: requests.ReviewSection, project: Project, model: ModelConfig
) -> results.ReviewResult:
    part = review.find_section(project, request.section)
    prepared = await ctx.jobs.prepare(review.prepare_section, project, model, part)
    priority = ctx.jobs.priority(request.priority)
    return results.ReviewResult.from_engine(
        await ctx.jobs.generate(ctx.channel, project, prepared, priority)
    )


async def _sections(
    ctx: Context, request: Any, project: Project, model: ModelConfig
) -> results.SectionsResult:
    """Every section, the one under the cursor first; a `partial` event as each is done."""
    priority = ctx.jobs.priority(request.priority)
    parts = review.reviewable_sections(project)
    done: dict[int, results.ReviewResult] = {}
    skipped: dict[int, results.SkippedSection] = {}  # sections too long for the model's context
    for index, (at, part) in enumerate(_cursor_first(project, parts, request.cursor), 1):
        prepared = await ctx.jobs.prepare(review.prepare_section, project, model, part)
        try:
            result = await ctx.jobs.generate(ctx.channel, project, prepared, priority)
        except review.ReviewError as error:
            if "too_long" not in error.data:
                raise
            # one section too long must not cost the others their review
            skipped[at] = results.SkippedSection(
                section=shown_name(part.node), message=str(error), too_long=error.data["too_long"]
            )
            continue
        done[at] = results.ReviewResult.from_engine(result)
        await ctx.channel.event("partial", {"index": index, "of": len(parts), "result": result})
    reviewed = [done[at] for at in sorted(done)]  # reading order
    too_long = [skipped[at] for at in sorted(skipped)]
    if too_long and not reviewed:
        raise RequestFailed(
            "model",
            f"no section fits the context of model {model.name!r}: {too_long[0].message}",
            skipped=results.wire(too_long),  # an error's data, not a result: wired here
        )
    return results.SectionsResult(
        skipped=too_long,
        model=model.name,
        sections=reviewed,
        comments=[c for r in reviewed for c in r.comments],
        hidden=review.hidden_findings(project),
        simulated=simulated.findings(project),
        removed_instructions=sorted({s for r in reviewed for s in r.removed_instructions}),
        warnings=[w for r in reviewed for w in r.warnings],
        complete=all(r.complete for r in reviewed),
        cached=all(r.cached for r in reviewed),
    )


def _output(_project: Any, _request: Any, output: str) -> dict[str, Any]:
    return {"output": output}


def _cursor_first(
    project: Project, parts: list[SectionSlice], cursor: Any
) -> list[tuple[int, SectionSlice]]:
    """(reading position, section) in review order: the section under the editor's cursor
    first (the one being written, whose comments the author waits for), then reading order."""
    order = list(enumerate(parts))
    if not isinstance(cursor, dict):
        return order
    try:
        first = review.find_section(project, cursor)
    except (review.ReviewError, ValueError, TypeError, KeyError, IndexError):
        return order  # outside every section (preamble, a file not in the project)
    return sorted(order, key=lambda item: item[1].node.original is not first.node.original)
