r"""`papercycle draft`: a section draft, or a whole paper from a .bib (CycleResearcher format).

```
papercycle draft PATH --section "Related Work" [--kind KIND] [--instruction TEXT]
                 [--comment TEXT] [--citations remove|mark] [--apply] [--json]
papercycle draft --paper --bib refs.bib [--topic T] [--results results.json] -o outdir/
```

A section draft is printed (or, with `--apply`, written into the section's file at the range
the daemon chose: line endings, mode and BOM kept, refused when the file changed since the
draft was asked for, the previous text kept in the cache's `backups/` folder and named). A paper is written as a compilable project: `main.tex`, `refs.bib`,
`idea.json`. On both paths invented citation keys are removed (or marked) and simulated
results carry their markers: the text is checked again (`simulated.ensure_marked`) right
before it is written. `papercycle check` fails until the author has replaced them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from papercycle.cli.coauthor_common import request, tokens_stream
from papercycle.cli.errors import UserError


@click.command("draft")
@click.argument("path", required=False, type=click.Path(exists=True, path_type=str))
@click.option("--section", default=None, help="Section to draft: number, title, or 'abstract'.")
@click.option(
    "--kind",
    default=None,
    help="introduction, related-work, method, abstract, "
    "conclusion, limitations, experiments, section, continue, rewrite.",
)
@click.option(
    "--at",
    "at",
    type=int,
    default=None,
    help="continue/rewrite: character offset of the cursor in --file.",
)
@click.option(
    "--file",
    "file_",
    type=click.Path(exists=True, path_type=str),
    default=None,
    help="The file of --at (default: PATH).",
)
@click.option("--instruction", default="", help="Your own words for the model.")
@click.option("--comment", default="", help="rewrite: the reviewer comment to address.")
@click.option(
    "--citations",
    type=click.Choice(["remove", "mark"]),
    default="remove",
    show_default=True,
    help="What happens to citation keys not in the .bib.",
)
@click.option("--apply", is_flag=True, help="Write the draft into the section's file.")
@click.option("--paper", is_flag=True, help="Draft a whole paper from --bib (CycleResearcher).")
@click.option(
    "--bib",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    help="--paper: the bibliography the paper is drafted from.",
)
@click.option("--topic", default=None, help="--paper: the topic line of the prompt.")
@click.option(
    "--results",
    type=click.Path(exists=True, dir_okay=False, path_type=str),
    default=None,
    help="--paper: your measured results (JSON, CycleResearcher's turn 4); without them any "
    "results the model writes are marked simulated.",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(path_type=str),
    default=None,
    help="--paper: the directory to write the project into.",
)
@click.option("--model", default=None, help="A configured model name.")
@click.option("--json", "as_json", is_flag=True, help="Print the daemon's result as JSON.")
@click.option("--quiet", is_flag=True, help="No token count on stderr.")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def draft(
    path,
    section,
    kind,
    at,
    file_,
    instruction,
    comment,
    citations,
    apply,
    paper,
    bib,
    topic,
    results,
    outdir,
    model,
    as_json,
    quiet,
    timeout,
) -> None:
    """Draft a section of the paper at PATH, or (--paper) a whole paper from a .bib.

    \b
    Examples:
      papercycle draft paper/ --section Introduction
      papercycle draft paper/ --section 3 --instruction "shorter" --apply
      papercycle draft --paper --bib refs.bib --topic "TOPIC" -o new-paper/
    """
    if paper:
        _paper(bib, topic, results, outdir, model, as_json, quiet, timeout)
        return
    if path is None:
        raise UserError("give the paper's PATH (or --paper --bib refs.bib -o outdir/)")
    if section is None and at is None:
        raise UserError("say which section: --section TITLE|NUMBER (or --at OFFSET --file F)")
    params: dict = {"path": os.path.abspath(path), "citations": citations}
    if at is not None:
        target = os.path.abspath(file_ or path)
        if os.path.isdir(target):
            raise UserError("--at needs --file (the .tex file the offset is in)")
        params["section"] = {"path": target, "offset": at}
    else:
        params["section"] = section
    for name, value in (
        ("kind", kind),
        ("instruction", instruction),
        ("comment", comment),
        ("model", model),
    ):
        if value:
            params[name] = value
    result = request("draft.section", params, timeout, tokens_stream(quiet or as_json))
    if apply:
        _apply(result)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(result["draft"])
        for warning in result.get("warnings", []):
            click.echo(f"papercycle: {warning}", err=True)
        if not apply:
            click.echo(
                f"papercycle: nothing written; add --apply to write this draft into "
                f"{result['range']['path']} (the previous text is backed up)",
                err=True,
            )


def _apply(result: dict) -> None:
    from papercycle.daemon.engine import simulated
    from papercycle.daemon.paths import Paths
    from papercycle.latex.file_edit import EditRefused, apply_edit

    where = result["range"]
    target = Path(where["path"])
    insert = result["text"]
    if result.get("simulated", {}).get("results"):
        simulated.ensure_marked(insert)
    try:
        backup = apply_edit(
            target,
            where["start"],
            where["end"],
            insert,
            where.get("sha256"),
            Paths.for_user().cache / "backups",
        )
    except EditRefused as error:
        raise UserError(str(error)) from None
    click.echo(f"papercycle: wrote the draft into {target} (previous text: {backup})", err=True)


def _paper(bib, topic, results, outdir, model, as_json, quiet, timeout) -> None:
    from papercycle.daemon.engine import paper as paper_engine
    from papercycle.formats import cycleresearcher as cr

    if not bib or not outdir:
        raise UserError("--paper needs --bib refs.bib and -o outdir/")
    out = Path(outdir)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} is not empty: choose a new directory")
    params: dict = {"bib": os.path.abspath(bib)}
    if results:
        try:
            params["results"] = json.loads(Path(results).read_text(encoding="utf-8"))
        except ValueError as error:
            raise UserError(f"{results}: not JSON ({error})") from None
    if topic:
        params["topic"] = topic
    if model:
        params["model"] = model
    result = request("draft.paper", params, timeout, tokens_stream(quiet or as_json))
    entries = paper_engine.bib_entries(Path(bib))
    parsed = cr.ResearcherPaper(**result["paper"])
    report = paper_engine.write_project(
        parsed,
        out,
        Path(bib).read_text(encoding="utf-8"),
        [e.key for e in entries],
        result.get("measured"),
    )
    if as_json:
        click.echo(json.dumps({**result, "written": report}, indent=2, ensure_ascii=False))
        return
    click.echo(f"wrote {out / 'main.tex'}, {out / 'refs.bib'}, {out / 'idea.json'}")
    for warning in parsed.warnings:
        click.echo(f"papercycle: {warning}", err=True)
    if report["citations"]["removed"]:
        click.echo(
            "papercycle: citation keys not in the .bib were removed: "
            + ", ".join(report["citations"]["removed"]),
            err=True,
        )
    if report["simulated_markers"]:
        click.echo(
            f"papercycle: {report['simulated_markers']} simulated-result marker(s): the "
            "model invented those results; `papercycle check` fails until they are "
            "replaced",
            err=True,
        )
