"""`papercycle review PATH`: a review through the daemon, printed the way compilers and linters
print diagnostics (`file:line:col: severity: [category] message`), as JSON, or as SARIF.

Exit status: 0 reviewed, 1 findings at or above `--fail-on`, 2 an error.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
from papercycle.cli.errors import UserError
from papercycle.cli.vocabulary import old_spelling
from papercycle.daemon.severity import COMPILER_WORD

SEVERITY_RANK = {"minor": 1, "major": 2, "critical": 3}
# SARIF rules: what each category of finding is about
RULES = {
    "soundness": "A claim or result that may not hold as written.",
    "clarity": "Text a reader may not follow.",
    "novelty": "What is new over prior work is unclear or overstated.",
    "evidence": "A claim without enough experimental support.",
    "related-work": "Missing or misrepresented prior work.",
    "reproducibility": "Details another group would need to reproduce the work.",
    "ethics": "An ethical concern.",
    "presentation": "Figures, tables, notation or structure.",
    "weakness": "A weakness a whole-paper reviewer found.",
    "question": "A question a whole-paper reviewer asks the authors.",
    "hidden-injection": "Text that instructs AI reviewers, hidden from human readers.",
    "hidden-text": "Text a reader cannot see (white, tiny, clipped or commented out).",
    "simulated-results": "Results the model simulated, not yet replaced by measured ones.",
}


@click.command("review")
@click.argument("path", type=click.Path(exists=True, path_type=str))
@click.option(
    "--mode",
    type=click.Choice(["fast", "standard", "best", "sections"]),
    default="standard",
    show_default=True,
    help="Whole-paper review mode, or one section review per section.",
)
@click.option("--section", default=None, help="Review only this section (number or title).")
@click.option("--model", default=None, help="A configured model name (papercycle models list).")
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON.")
@click.option(
    "--sarif", is_flag=True, help="Print the findings as SARIF 2.1.0 (code-scanning UIs)."
)
@click.option(
    "--fail-on",
    type=click.Choice(["none", "minor", "major", "critical"]),
    default="none",
    show_default=True,
    help="Exit 1 when a comment or finding is at least this severe, or the review is incomplete.",
)
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
@click.option(
    "--reflections",
    type=click.IntRange(0, 5),
    default=None,
    help="AI Scientist reviewer: further rounds in which the model refines its review.",
)
@click.option(
    "--ensemble",
    type=click.IntRange(1, 8),
    default=None,
    help="AI Scientist reviewer: N independent reviews combined by a meta review.",
)
@click.option(
    "--few-shot",
    "few_shot",
    multiple=True,
    type=click.Path(exists=True),
    help="AI Scientist reviewer: a folder of example papers with their reviews "
    "(<name>.txt|.tex + <name>.json), or one example; repeatable.",
)
@old_spelling(
    "--format",
    "--json or --sarif",
    "as_json",
    type=click.Choice(["text", "json", "sarif"]),
    convert=lambda value: {"as_json": value == "json", "sarif": value == "sarif"},
)
def review(
    path, mode, section, model, as_json, sarif, fail_on, timeout, reflections, ensemble, few_shot
) -> None:
    """Review the LaTeX paper at PATH (a .tex file or its directory) through the daemon,
    starting the daemon if needed.

    \b
    Examples:
      papercycle review paper/
      papercycle review paper/main.tex --mode sections --fail-on major
      papercycle review paper/ --section Introduction --json
      papercycle review paper/ --sarif > review.sarif
    """
    from papercycle.daemon.client import DaemonError

    if as_json and sarif:
        raise click.UsageError("--json and --sarif: choose one")
    output = "json" if as_json else "sarif" if sarif else "text"

    _first_run_model()
    params: dict[str, Any] = {"path": os.path.abspath(path), "priority": "interactive"}
    if model:
        params["model"] = model
    ai_scientist = {
        "reflections": reflections,
        "ensemble": ensemble,
        "few_shot": [os.path.abspath(p) for p in few_shot] or None,
    }
    ai_scientist = {k: v for k, v in ai_scientist.items() if v is not None}
    if ai_scientist and (section is not None or mode == "sections"):
        raise UserError("--reflections, --ensemble and --few-shot apply to whole-paper reviews")
    if section is not None:
        kind, params["section"] = "review.section", section
    elif mode == "sections":
        kind = "review.sections"
    else:
        kind, params["mode"] = "review.paper", mode
        params.update(ai_scientist)  # the daemon refuses them for another format, in one line
    try:
        result = asyncio.run(_run(kind, params, timeout))
    except DaemonError as error:
        if error.code == "gone":
            raise UserError(
                f"{error.message}; run the command again (a new daemon starts by itself, "
                "finished results are cached)"
            ) from None
        raise UserError(error.message) from None
    except TimeoutError:
        raise UserError(f"no result within {timeout:.0f} s") from None
    if output == "json":
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    elif output == "sarif":
        root = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
        click.echo(json.dumps(to_sarif(result, root), indent=2, ensure_ascii=False))
    else:
        _print_text(result)
    incomplete = result.get("complete") is False
    if incomplete and output != "text":  # the text output prints it with the warnings
        click.echo(f"warning: {_incomplete_line(result)}", err=True)
    skipped = result.get("skipped") or []
    for part in skipped:
        click.echo(f"skipped: {_skipped_line(part)}", err=True)
    if skipped:
        reviewed = len(result.get("sections") or [])
        click.echo(
            f"papercycle: reviewed {reviewed} of {reviewed + len(skipped)} sections; "
            f"{len(skipped)} did not fit the context",
            err=True,
        )
        sys.exit(1)  # a partial review is not a pass
    if fail_on != "none" and (
        incomplete
        or any(
            SEVERITY_RANK.get(f["severity"], 0) >= SEVERITY_RANK[fail_on] for f in findings(result)
        )
    ):
        sys.exit(1)


def _skipped_line(part: dict[str, Any]) -> str:
    if "tokens" in part and "n_ctx" in part:
        return (
            f"section {part['section']!r} needs {part['tokens']} tokens "
            f"({part.get('prompt_tokens')} of prompt), the context holds {part['n_ctx']}"
        )
    return f"section {part.get('section')!r}: {part.get('message')}"


def _incomplete_line(result: dict[str, Any]) -> str:
    cut = result.get("incomplete") or {}
    return cut.get("message") or "review incomplete: the model's answer was cut off"


def _first_run_model() -> None:
    """A first run with no model: the catalogue's default is registered, and the user told."""
    from papercycle.daemon.config import Config, ConfigError
    from papercycle.daemon.models.catalogue import register_default
    from papercycle.daemon.paths import Paths

    try:
        notice = register_default(Config.load(Paths.for_user().config_file))
    except ConfigError:
        return  # the daemon names the broken file
    if notice:
        click.echo(f"papercycle: {notice}", err=True)


async def _run(kind: str, params: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    from papercycle.cli.progress import token_bar
    from papercycle.daemon.client import Client

    async with Client() as client:
        stream = client.stream(kind, params)
        with token_bar("reviewing") as bar:

            async def consume() -> None:
                async for event in stream:
                    name = event["event"]
                    if name == "token":
                        bar.update(1)
                    elif name == "queued" and event["position"]:
                        bar.set_description(f"queued behind {event['position']} job(s)")
                    elif name == "loading":
                        bar.set_description(f"loading {event['model']}")
                    elif name == "started":
                        bar.set_description(f"reviewing with {event['model']}")
                    elif name == "progress":
                        bar.set_description(_progress_line(event))
                    elif name == "partial":
                        bar.set_description(f"section {event['index']}/{event['of']} done")

            try:
                await asyncio.wait_for(consume(), timeout)
            except (TimeoutError, asyncio.CancelledError):
                await client.cancel(stream.id)
                raise
        assert stream.result is not None
        return stream.result


def _progress_line(event: dict[str, Any]) -> str:
    stage = event.get("stage")
    if stage == "prompt":
        return f"reading the paper {event.get('done')}/{event.get('total')} tokens"
    if stage == "aiscientist":
        read = "read" if event.get("readable") else "unreadable"
        return f"{event.get('step')} {event.get('index')}/{event.get('of')} done ({read})"
    return str(stage or "working")


def findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Comments and hidden-text findings, in one shape: range, severity, category, message,
    and the level (daemon/severity.py: the editors' mapping, `[severities]` of config.toml)."""
    from papercycle.daemon.severity import level_of

    overrides = configured_severities()
    out = []
    for comment in result.get("comments", []):
        message = comment["text"]
        if comment.get("quote"):
            message += f' (on: "{comment["quote"]}")'
        out.append(
            {
                "range": comment["anchor"]["range"],
                "severity": comment["severity"],
                "category": comment.get("category") or comment["kind"],
                "message": message,
                "anchor": comment["anchor"]["method"],
            }
        )
        out[-1]["level"] = level_of(out[-1]["category"], comment["severity"], overrides)
    for finding in result.get("hidden", []):
        what = "instruction to AI reviewers" if finding["injection"] else "text a reader cannot see"
        out.append(
            {
                "range": finding["range"],
                "severity": finding["severity"],
                "category": "hidden-injection" if finding["injection"] else "hidden-text",
                "message": f"{what} ({finding['method']}): {finding['text'][:200]!r}",
                "anchor": "source",
            }
        )
        # the project model's own level, as the editor shows it
        own = "error" if finding["severity"] == "critical" else "information"
        out[-1]["level"] = level_of(out[-1]["category"], finding["severity"], overrides, own)
    return out


_CONFIGURED: dict[str, str] | None = None


def configured_severities() -> dict[str, str]:
    """`[severities]` of the user's config.toml, read once; a bad value said once on stderr."""
    global _CONFIGURED
    if _CONFIGURED is None:
        from papercycle.daemon.paths import Paths
        from papercycle.daemon.severity import configured

        problems: list[str] = []
        _CONFIGURED = configured(Paths.for_user().config_file, problems)
        for problem in problems:
            click.echo(f"warning: {problem}", err=True)
    return _CONFIGURED


def _where(r: dict[str, Any] | None) -> tuple[str, int, int]:
    if r is None:
        return "?", 1, 1
    path = os.path.relpath(r["path"]) if not r["path"].startswith("..") else r["path"]
    lsp = r.get("lsp") or {"start": {"line": 0, "character": 0}}
    return path, lsp["start"]["line"] + 1, lsp["start"]["character"] + 1


def _print_text(result: dict[str, Any]) -> None:
    header = f"model {result['model']} ({result['format']})"
    if result.get("mode_asked"):
        header += f", {result['mode']} mode ({result['mode_asked']} asked: the format has none)"
    if result.get("cached"):
        header += ", from cache"
    if result.get("complete") is False:
        header += ", INCOMPLETE"
    click.echo(header)
    for part in result.get("sections", [result] if result["kind"] == "section" else []):
        scores = ", ".join(f"{k} {v}" for k, v in part["scores"].items())
        click.echo(f"section {part['section']['name']}: {scores or 'no scores'}")
    rounds = result.get("aiscientist")
    if rounds:
        click.echo(
            f"AI Scientist: {rounds['answers_read']} of {rounds['ensemble']} answers read"
            + (f", meta review {rounds['meta_review']}" if rounds["ensemble"] > 1 else "")
            + f", {rounds['reflections_run']} of {rounds['reflections']} reflection round(s)"
            + (" (the model said it was done)" if rounds["converged"] else "")
            + (f", examples: {', '.join(rounds['few_shot'])}" if rounds["few_shot"] else "")
        )
    if result["kind"] == "paper":
        scores = ", ".join(f"{k} {v:g}" for k, v in result["scores"].items())
        click.echo(f"scores: {scores or 'none readable'}")
        click.echo(f"decision: {result['decision'] or 'none readable'}")
    for finding in findings(result):
        path, line, col = _where(finding["range"])
        message = " ".join(finding["message"].split())
        click.echo(
            f"{path}:{line}:{col}: {COMPILER_WORD[finding['level']]}: "
            f"[{finding['category']}] {message}"
        )
    for warning in result.get("warnings", []):
        # the parser's, and the review's own: a cut answer, a mode the format does not have
        click.echo(f"warning: {warning}", err=True)


def to_sarif(result: dict[str, Any], root: str) -> dict[str, Any]:
    """SARIF 2.1.0, for code-scanning UIs (GitHub, GitLab, VS Code's SARIF viewer). File URIs
    are relative to `%SRCROOT%`, the project folder `root`, as code-scanning uploads expect."""
    from urllib.parse import quote

    items = findings(result)
    rules = sorted({f["category"] for f in items})
    results = []
    for f in items:
        r = f["range"] or {}
        lsp = r.get("lsp") or {
            "start": {"line": 0, "character": 0},
            "end": {"line": 0, "character": 0},
        }
        relative = os.path.relpath(r.get("path") or root, root).replace(os.sep, "/")
        results.append(
            {
                "ruleId": f["category"],
                "ruleIndex": rules.index(f["category"]),
                "level": COMPILER_WORD[f["level"]],
                "message": {"text": f["message"]},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": quote(relative), "uriBaseId": "%SRCROOT%"},
                            "region": {
                                "startLine": lsp["start"]["line"] + 1,
                                "startColumn": lsp["start"]["character"] + 1,
                                "endLine": lsp["end"]["line"] + 1,
                                "endColumn": lsp["end"]["character"] + 1,
                            },
                        }
                    }
                ],
                "properties": {"severity": f["severity"], "anchor": f["anchor"]},
            }
        )
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [
            {
                "tool": {
                    "driver": {
                        # no informationUri: papercycle has no public home page yet
                        "name": "papercycle",
                        "version": version("papercycle"),
                        "rules": [
                            {
                                "id": rule,
                                "name": rule,
                                "shortDescription": {
                                    "text": RULES.get(rule, f"A {rule} comment of a reviewer.")
                                },
                            }
                            for rule in rules
                        ],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(root).absolute().as_uri() + "/"}},
                "results": results,
                "properties": {
                    "model": result.get("model"),
                    "scores": result.get("scores"),
                    "decision": result.get("decision"),
                },
            }
        ],
    }
