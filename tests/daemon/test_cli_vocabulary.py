"""One vocabulary across commands (cli/vocabulary.py): every `--help` shows an example, and
the previous release's spellings still work, saying what replaces them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from papercycle.cli.main import cli


def papercycle(home, *args, cwd=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli.main", *args],
        env=home.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _commands(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, click.Context(command, parent=ctx), (*prefix, name))


def test_every_help_shows_an_example_and_no_retired_spelling():
    runner = CliRunner()
    commands = list(_commands(cli, click.Context(cli)))
    assert ("models", "add") in commands and ("review",) in commands
    missing, retired = [], []
    for path in commands:
        out = runner.invoke(cli, [*path, "--help"]).output
        command = " ".join(path)
        if "Examples:" not in out or f"papercycle {command}" not in out:
            missing.append(command)
        if re.search(r"--format\b|--threads\b|--gpu-layers\b|--out\b", out):
            retired.append(command)
    assert not missing, f"no example in --help of: {missing}"
    assert not retired, f"an old spelling shown in --help of: {retired}"


def test_every_option_says_what_it_does():
    undocumented = []
    for path in _commands(cli, click.Context(cli)):
        ctx, command = click.Context(cli), cli
        for name in path:
            command = command.get_command(ctx, name)
            ctx = click.Context(command, parent=ctx)
        undocumented += [
            f"{' '.join(path)} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.hidden and not param.help
        ]
    assert not undocumented, undocumented


def test_old_spellings_still_work(shared_home, tiny_gguf, paper, tmp_path):
    added = papercycle(
        shared_home,
        "models",
        "add",
        "old-words",
        str(tiny_gguf),
        "--n-ctx",
        "512",
        "--format",
        "section",
        "--threads",
        "1",
        "--gpu-layers",
        "0",
    )
    assert added.returncode == 0, added.stderr
    assert "--format is now --review-format" in added.stderr
    assert "--threads is now --n-threads" in added.stderr
    listed = json.loads(papercycle(shared_home, "models", "list", "--json").stdout)
    model = next(m for m in listed if m["name"] == "old-words")
    assert model["format"] == "section" and model["n_threads"] == 1

    review = papercycle(
        shared_home, "review", str(paper), "--section", "Method", "--model", "tiny-section",
        "--format", "json",
    )  # fmt: skip
    assert review.returncode == 0, review.stderr
    assert json.loads(review.stdout)["kind"] == "section"
    assert "--format is now --json or --sarif" in review.stderr

    answer = tmp_path / "answer.txt"
    answer.write_text('{"comments": [], "scores": {"soundness": 3}}')
    parsed = papercycle(shared_home, "parse-review", str(answer), "--format", "section")
    assert parsed.returncode == 0, parsed.stderr
    assert json.loads(parsed.stdout)["scores"] == {"soundness": 3}


@pytest.mark.parametrize("both", [["--json", "--sarif"]])
def test_review_refuses_two_output_formats(shared_home, paper, both):
    result = papercycle(shared_home, "review", str(paper), *both)
    assert result.returncode == 2
    assert "--json and --sarif: choose one" in result.stderr
