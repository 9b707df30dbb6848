"""`papercycle rubric`: research goals and rubrics from a paper, and grading a plan.

```
papercycle rubric extract PAPER -o rubric.json     # goals + yes/no items (grader model)
papercycle rubric grade PLAN.md rubric.json         # satisfied/unsatisfied + reason per item
```
The plan's score is the fraction of items satisfied (the trainer's reward uses the same
grading format).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from papercycle.cli.coauthor_common import request
from papercycle.cli.errors import UserError


@click.group("rubric")
def rubric() -> None:
    """Rubrics: extract them from a paper, grade a research plan against them.

    \b
    Examples:
      papercycle rubric extract paper/ -o rubric.json
      papercycle rubric grade plan.md rubric.json
    """


@rubric.command("extract")
@click.argument("path", type=click.Path(exists=True, path_type=str))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the JSON here.")
@click.option("--model", default=None, help="The grader model (a configured name).")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def extract(path, output, model, timeout) -> None:
    """Goals and rubric items of the paper at PATH, as JSON.

    \b
    Examples:
      papercycle rubric extract paper/ -o rubric.json
    """
    params = {"path": os.path.abspath(path)}
    if model:
        params["model"] = model
    result = request("rubric.extract", params, timeout)
    data = {"goals": result["goals"]}
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)
    for warning in result.get("warnings", []):
        click.echo(f"papercycle: {warning}", err=True)
    if not result["goals"]:
        raise UserError("the model gave no usable rubric")


@rubric.command("grade")
@click.argument("plan_file", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.argument("rubric_file", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--model", default=None, help="The grader model (a configured name).")
@click.option("--json", "as_json", is_flag=True, help="Print the grade as JSON.")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def grade(plan_file, rubric_file, model, as_json, timeout) -> None:
    """Grade the plan in PLAN_FILE against RUBRIC_FILE.

    \b
    Examples:
      papercycle rubric grade plan.md rubric.json --json
    """
    try:
        rubric_data = json.loads(Path(rubric_file).read_text(encoding="utf-8"))
    except ValueError as error:
        raise UserError(f"{rubric_file}: not JSON ({error})") from None
    params = {"plan": Path(plan_file).read_text(encoding="utf-8"), "rubric": rubric_data}
    if model:
        params["model"] = model
    result = request("rubric.grade", params, timeout)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print_grade(result)


def print_grade(result: dict) -> None:
    for goal in result["goals"]:
        click.echo(f"Goal: {goal['goal']}")
        for item in goal["items"]:
            mark = {True: "satisfied", False: "unsatisfied", None: "not graded"}[item["satisfied"]]
            click.echo(f"  [{mark}] {item['item']} -- {item['reason']}")
    score = result.get("score")
    shown = "n/a" if score is None else f"{score:.2f}"
    click.echo(f"Score: {shown} ({result['satisfied']}/{result['graded']} items satisfied)")
