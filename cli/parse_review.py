"""`papercycle parse-review FILE`: a reviewer's raw output as normalized JSON."""

from __future__ import annotations

from pathlib import Path

import click
from papercycle.cli.errors import UserError
from papercycle.cli.vocabulary import old_spelling

FORMATS = ("auto", "cyclereviewer", "deepreviewer", "aiscientist", "openreviewer", "section")


@click.command("parse-review")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--review-format",
    "format_name",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="The output's format; auto detects it.",
)
@old_spelling("--format", "--review-format", "format_name", type=click.Choice(FORMATS))
def parse_review(file: Path, format_name: str) -> None:
    """Print the review in FILE (a model's raw output) as normalized JSON.

    \b
    Examples:
      papercycle parse-review answer.txt
      papercycle parse-review answer.txt --review-format deepreviewer

    Exit status 0 when a review was read (warnings about unreadable parts go to stderr),
    2 when nothing review-like was found.
    """
    from papercycle.formats import parse_review as parse

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{file}: no such file") from None
    except UnicodeDecodeError:
        raise UserError(f"{file}: not UTF-8 text") from None
    except OSError as error:
        raise UserError(f"{file}: {error.strerror or error}") from None
    review = parse(text, format_name)
    if review.is_empty():
        reason = review.warnings[0] if review.warnings else f"format {format_name}"
        raise UserError(f"{file}: no review found: {reason}")
    for warning in review.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(review.to_json(indent=2))
