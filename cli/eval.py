"""`papercycle eval reviewer|researcher|baselines`: measure models the way the papers do."""

from __future__ import annotations

from pathlib import Path

import click
from papercycle.cli.errors import UserError
from papercycle.cli.vocabulary import old_spelling

ADAPTERS = ("iclr2017", "iclr2022", "review-5k", "deepreview-13k")
FORMATS = ("cyclereviewer", "deepreviewer")


def _output_folder(command):
    """`-o/--output FOLDER` of every evaluation (and the retired `--out`)."""
    command = old_spelling("--out", "--output", "out", type=click.Path(path_type=Path))(command)
    return click.option(
        "-o",
        "--output",
        "out",
        type=click.Path(path_type=Path),
        default=Path("eval-out"),
        show_default=True,
        help="Folder of the results.",
    )(command)


@click.group("eval")
def eval_() -> None:
    """Evaluate reviewers and researchers; writes JSON, a Markdown table and plots.

    \b
    Examples:
      papercycle eval reviewer --data data/iclr2022 --adapter iclr2022 --model reviewer.gguf
      papercycle eval baselines --data data/iclr2022 --adapter iclr2022
    """


def _guard(call):
    from papercycle.trainer.data.records import DataError
    from papercycle.trainer.generation.client import GenerationError

    try:
        return call()
    except (DataError, GenerationError, ValueError) as error:
        raise UserError(str(error)) from None


def _show(written: list[Path]) -> None:
    click.echo(written[1].read_text())
    click.echo("wrote " + ", ".join(str(p) for p in written))


@eval_.command("baselines")
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The review dataset's folder.",
)
@click.option(
    "--adapter", type=click.Choice(ADAPTERS), required=True, help="How to read the dataset."
)
@click.option(
    "--split",
    type=click.Choice(["train", "test", "all"]),
    default="all",
    show_default=True,
    help="Papers to use.",
)
@_output_folder
def eval_baselines(data, adapter, split, out):
    """Human leave-one-out and constant-predictor baselines of a review dataset.

    \b
    Examples:
      papercycle eval baselines --data data/iclr2022 --adapter iclr2022 -o eval-out/baselines
    """
    from papercycle.trainer.eval.run import run_baselines

    _, written = _guard(lambda: run_baselines(data, adapter, out, split))
    _show(written)


@eval_.command("reviewer")
@click.option(
    "--data",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The review dataset's folder.",
)
@click.option(
    "--adapter", type=click.Choice(ADAPTERS), required=True, help="How to read the dataset."
)
@click.option(
    "--model", type=click.Path(exists=True, path_type=Path), help="A GGUF or an HF checkpoint."
)
@click.option(
    "--predictions", type=click.Path(exists=True, path_type=Path), help="jsonl of {id, text}."
)
@click.option(
    "--review-format",
    "fmt",
    type=click.Choice(FORMATS),
    default="cyclereviewer",
    show_default=True,
    help="The reviewer's prompt format (config key `format`).",
)
@old_spelling("--format", "--review-format", "fmt", type=click.Choice(FORMATS))
@click.option(
    "--split",
    type=click.Choice(["train", "test", "all"]),
    default="test",
    show_default=True,
    help="Papers to evaluate on.",
)
@click.option("--limit", type=int, help="Evaluate the first N papers of the split.")
@click.option(
    "--samples", type=int, default=1, show_default=True, help="Reviews per paper, averaged."
)
@click.option(
    "--grammar", is_flag=True, help="Constrain to the CycleReviewer skeleton (untrained models)."
)
@click.option(
    "--grammar-reviewers",
    type=int,
    default=4,
    show_default=True,
    help="Reports the grammar asks for.",
)
@click.option(
    "--max-paper-chars",
    type=int,
    default=48000,
    show_default=True,
    help="Papers are cut to this many characters.",
)
@click.option("--n-ctx", type=int, default=16384, show_default=True, help="Context length.")
@click.option(
    "--max-tokens", type=int, default=7000, show_default=True, help="Answer budget per review."
)
@click.option(
    "--temperature", type=float, default=0.4, show_default=True, help="Sampling temperature."
)
@_output_folder
def eval_reviewer(data, adapter, model, predictions, fmt, split, limit, samples, grammar, grammar_reviewers,
                  max_paper_chars, n_ctx, max_tokens, temperature, out):  # fmt: skip
    """Score, decision and ranking metrics of a reviewer against human reviews.

    \b
    Examples:
      papercycle eval reviewer --data data/iclr2022 --adapter iclr2022 --model reviewer.gguf
      papercycle eval reviewer --data data/iclr2022 --adapter iclr2022 \\
          --predictions answers.jsonl --review-format deepreviewer -o eval-out/mine
    """
    from papercycle.trainer.eval.run import run_reviewer_eval

    if (model is None) == (predictions is None):
        raise UserError("give exactly one of --model and --predictions")
    _, written = _guard(
        lambda: run_reviewer_eval(
            data,
            adapter,
            out,
            model=model,
            predictions=predictions,
            format=fmt,
            split=split,
            limit=limit,
            samples=samples,
            grammar=grammar,
            grammar_reviewers=grammar_reviewers,
            max_paper_chars=max_paper_chars,
            n_ctx=n_ctx,
            max_tokens=max_tokens,
            temperature=temperature,
            say=click.echo,
        )
    )
    _show(written)


@eval_.command("researcher")
@click.option(
    "--prompts",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="jsonl of the researcher's prompts.",
)
@click.option(
    "--model",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="The researcher GGUF.",
)
@click.option(
    "--reviewer", type=click.Path(exists=True, path_type=Path), required=True, help="Reviewer GGUF."
)
@click.option(
    "--reviewer-format",
    type=click.Choice(FORMATS),
    default="cyclereviewer",
    show_default=True,
    help="The reviewer's prompt format.",
)
@click.option(
    "--reviewer-samples", type=int, default=3, show_default=True, help="Reviews per paper."
)
@click.option("--grammar", is_flag=True, help="Constrain the reviewer to its skeleton.")
@click.option("--limit", type=int, help="Evaluate the first N prompts.")
@click.option(
    "--max-tokens", type=int, default=19000, show_default=True, help="Answer budget per paper."
)
@click.option(
    "--reviewer-max-tokens",
    type=int,
    default=7000,
    show_default=True,
    help="Answer budget per review.",
)
@click.option("--n-ctx", type=int, default=32768, show_default=True, help="Context length.")
@_output_folder
def eval_researcher(prompts, model, reviewer, reviewer_format, reviewer_samples, grammar, limit,
                    max_tokens, reviewer_max_tokens, n_ctx, out):  # fmt: skip
    """Average simulated review score and acceptance rate of generated papers.

    \b
    Examples:
      papercycle eval researcher --prompts prompts.jsonl --model researcher.gguf \\
          --reviewer reviewer.gguf --reviewer-format cyclereviewer
    """
    from papercycle.trainer.eval.run import run_researcher_eval

    _, written = _guard(
        lambda: run_researcher_eval(
            prompts,
            model,
            reviewer,
            out,
            reviewer_format=reviewer_format,
            reviewer_samples=reviewer_samples,
            reviewer_grammar=grammar,
            limit=limit,
            max_tokens=max_tokens,
            reviewer_max_tokens=reviewer_max_tokens,
            n_ctx=n_ctx,
            say=click.echo,
        )
    )
    _show(written)
