"""`papercycle plan "<research goal>" [--constraints FILE]`: a research plan (problem,
hypotheses, method, experiments, baselines, metrics, risks, timeline) from the researcher
model, through the daemon. `--rubric rubric.json` grades it too (see `papercycle rubric`)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from papercycle.cli.coauthor_common import request, tokens_stream
from papercycle.cli.errors import UserError


@click.command("plan")
@click.argument("goal")
@click.option(
    "--constraints",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="A text file of constraints (compute, data, time).",
)
@click.option(
    "--rubric",
    "rubric_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Grade the plan against this rubric JSON (papercycle rubric extract).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the plan here.")
@click.option("--model", default=None, help="The researcher model (a configured name).")
@click.option("--grader", default=None, help="The grader model for --rubric.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", is_flag=True, help="No token count on stderr.")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def plan(goal, constraints, rubric_file, output, model, grader, as_json, quiet, timeout):
    """Write a research plan for GOAL.

    \b
    Examples:
      papercycle plan "sparse attention for long documents" -o plan.md
      papercycle plan "GOAL" --constraints limits.txt --rubric rubric.json --json
    """
    params = {"goal": goal}
    if constraints:
        params["constraints"] = Path(constraints).read_text(encoding="utf-8")
    if model:
        params["model"] = model
    result = request("plan", params, timeout, tokens_stream(quiet or as_json))
    if output:
        Path(output).write_text(result["text"] + "\n", encoding="utf-8")
    grade = None
    if rubric_file:
        try:
            rubric = json.loads(Path(rubric_file).read_text(encoding="utf-8"))
        except ValueError as error:
            raise UserError(f"{rubric_file}: not JSON ({error})") from None
        grade_params = {"plan": result["text"], "rubric": rubric}
        if grader:
            grade_params["model"] = grader
        grade = request("rubric.grade", grade_params, timeout)
    if as_json:
        click.echo(json.dumps({"plan": result, "grade": grade}, indent=2, ensure_ascii=False))
        return
    click.echo(result["text"])
    for warning in result.get("warnings", []):
        click.echo(f"papercycle: {warning}", err=True)
    if grade is not None:
        from papercycle.cli.rubric import print_grade

        print_grade(grade)
