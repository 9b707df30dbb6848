"""`papercycle review|models|daemon|cache` as a user runs them (subprocesses, a real daemon)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

LINE = re.compile(
    r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<level>error|warning|note): \[(?P<category>[a-z-]+)\] .+$"
)


@pytest.fixture(scope="module")
def home(shared_home):
    return shared_home


def papercycle(home, *args, cwd=None, timeout=180):
    return subprocess.run(
        [sys.executable, "-m", "papercycle.cli.main", *args],
        env=home.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_review_prints_compiler_style_lines(home, paper):
    result = papercycle(home, "review", "main.tex", "--model", "tiny", cwd=paper.parent)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("model tiny (cyclereviewer)")
    assert re.match(r"scores: .*rating \d+", lines[1])
    assert re.match(r"decision: (Accept|Reject)", lines[2])
    located = [LINE.match(line) for line in lines[3:]]
    assert located and all(located), lines
    assert {m["path"] for m in located} == {"main.tex"}
    hidden = [m for m in located if m["category"] == "hidden-injection"]
    assert hidden and hidden[0]["level"] == "error" and hidden[0]["line"] == "11"


def test_review_section_json_and_sarif(home, paper):
    as_json = papercycle(
        home,
        "review",
        str(paper),
        "--section",
        "Method",
        "--model",
        "tiny-section",
        "--json",
    )
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["kind"] == "section" and data["comments"]
    sarif = json.loads(
        papercycle(
            home,
            "review",
            str(paper),
            "--section",
            "Method",
            "--model",
            "tiny-section",
            "--sarif",
            cwd=paper.parent,
        ).stdout
    )
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "papercycle" and "informationUri" not in driver  # no placeholder
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == paper.parent.as_uri() + "/"
    assert len(run["results"]) == len(data["comments"]) + len(data["hidden"])
    for item in run["results"]:
        location = item["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "main.tex", "uriBaseId": "%SRCROOT%"}
        assert driver["rules"][item["ruleIndex"]]["id"] == item["ruleId"]
        assert location["region"]["startLine"] >= 1
        assert item["level"] in ("error", "warning", "note")


def test_fail_on_threshold_sets_exit_status_1(home, paper):
    # the paper hides an instruction to AI reviewers: a critical finding
    result = papercycle(home, "review", str(paper), "--model", "tiny", "--fail-on", "critical")
    assert result.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--model", "nope"],
            "papercycle: error: no model named 'nope' (known: tiny, tiny-section)",
        ),
        (
            ["--section", "Results", "--model", "tiny-section"],
            "papercycle: error: no section 'Results' (sections:",
        ),
    ],
)
def test_review_errors_exit_2(home, paper, args, message):
    result = papercycle(home, "review", str(paper), *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_review_of_a_directory_without_latex(home, tmp_path):
    result = papercycle(home, "review", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("papercycle: error:")


def test_models_add_checks_the_file(home, tmp_path, tiny_gguf):
    missing = papercycle(home, "models", "add", "ghost", str(tmp_path / "ghost.gguf"))
    assert (
        missing.returncode == 2
        and "model 'ghost'" in missing.stderr
        and "no such file" in missing.stderr
    )
    (tmp_path / "junk.gguf").write_bytes(b"junk" * 10)
    corrupt = papercycle(home, "models", "add", "junk", str(tmp_path / "junk.gguf"))
    assert corrupt.returncode == 2 and "not a GGUF file (bad magic)" in corrupt.stderr
    too_long = papercycle(home, "models", "add", "long", str(tiny_gguf), "--n-ctx", "8192")
    assert too_long.returncode == 2
    assert (
        "model 'long': n_ctx 8192 tokens is more than the 2048 tokens it was trained for"
        in too_long.stderr
    )

    added = papercycle(
        home,
        "models",
        "add",
        "small",
        str(tiny_gguf),
        "--n-ctx",
        "512",
        "--review-format",
        "cyclereviewer",
    )
    assert added.returncode == 0 and "added small (llama" in added.stdout
    listed = papercycle(home, "models", "list")
    assert re.search(
        r"^small\s+reviewer\s+cyclereviewer\s+n_ctx 512 .*\[ok\]$", listed.stdout, re.M
    )
    info = json.loads(papercycle(home, "models", "info", "small", "--json").stdout)
    assert info["architecture"] == "llama" and info["context_length"] == 2048

    # the paper does not fit 512 tokens: the review says so, with the numbers
    paper = tmp_path / "p" / "main.tex"
    from daemon_helpers import make_paper

    make_paper(paper.parent)
    small = papercycle(home, "review", str(paper), "--model", "small")
    assert small.returncode == 2
    assert re.search(
        r"model 'small': the paper needs \d+ tokens \(\d+ of prompt \+ \d+ for the answer\) but its context holds 512",
        small.stderr,
    )

    assert papercycle(home, "models", "remove", "small").returncode == 0
    gone = papercycle(home, "models", "remove", "small")
    assert gone.returncode == 2 and "no model named 'small'" in gone.stderr


def test_daemon_status_cache_and_stop(home, paper):
    home.start()
    status = papercycle(home, "daemon", "status")
    assert status.returncode == 0
    for label in ("uptime", "socket   ipc://", "loaded", "queue", "running", "cache"):
        assert label in status.stdout
    stats = papercycle(home, "cache", "stats")
    assert re.search(r"\d+ results, \d+ KiB on disk", stats.stdout)
    stopped = papercycle(home, "daemon", "stop")
    assert stopped.stdout.startswith("stopped (pid ")
    assert papercycle(home, "daemon", "status").returncode == 3
    cleared = papercycle(home, "cache", "clear")  # no daemon: straight on the database
    assert re.match(r"removed \d+ cached results", cleared.stdout)
    started = papercycle(home, "daemon", "start")
    assert started.stdout.startswith("started (pid ")
    assert papercycle(home, "daemon", "start").stdout.startswith("already running")


def test_model_file_deleted_after_add(home, paper, tmp_path, tiny_gguf):
    import shutil

    copy = tmp_path / "later-deleted.gguf"
    shutil.copy(tiny_gguf, copy)
    assert (
        papercycle(
            home, "models", "add", "brief", str(copy), "--review-format", "section"
        ).returncode
        == 0
    )
    copy.unlink()
    result = papercycle(home, "review", str(paper), "--section", "Method", "--model", "brief")
    assert result.returncode == 2
    assert "papercycle: error: model 'brief':" in result.stderr and "No such file" in result.stderr
    listed = papercycle(home, "models", "list")
    assert re.search(r"^brief .*\[BROKEN: model 'brief': .*no such file\]$", listed.stdout, re.M)
    papercycle(home, "models", "remove", "brief")
