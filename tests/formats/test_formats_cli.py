"""`papercycle parse-review`: JSON on stdout, warnings on stderr, exit 2 when nothing
review-like was found or the file cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from papercycle.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["parse-review", *args])


@pytest.fixture
def r1zero(shared_dir: Path, tmp_path: Path) -> Path:
    source = shared_dir / "data/reviewer-outputs/cyclereviewer_format_r1zero.txt"
    path = tmp_path / "r1zero.txt"
    path.write_text(source.read_text(encoding="utf-8").split("\n", 1)[1], encoding="utf-8")
    return path


def test_complete_output_prints_normalized_json(r1zero: Path) -> None:
    result = run(str(r1zero))
    assert result.exit_code == 0, result.stderr
    review = json.loads(result.stdout)
    assert review["format"] == "cyclereviewer"
    assert [r["rating"]["value"] for r in review["reports"]] == [3, 5, 5, 5]
    assert review["decision"] == {
        "verdict": "Reject",
        "text": "Reject (not selected for publication)",
    }
    assert result.stderr == ""


def test_partial_output_exits_0_with_warnings_on_stderr(r1zero: Path, tmp_path: Path) -> None:
    text = r1zero.read_text(encoding="utf-8")
    cut = tmp_path / "cut.txt"
    cut.write_text(text[: text.index("## Meta Review")], encoding="utf-8")
    result = run(str(cut), "--review-format", "cyclereviewer")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)["reports"]) == 4
    assert "warning: no '## Paper Decision' (output cut off?)" in result.stderr.splitlines()


def test_explicit_format_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "section.json"
    path.write_text(
        '{"comments": [], "scores": {"soundness": 3, "clarity": 2, "evidence": 4}}',
        encoding="utf-8",
    )
    result = run(str(path), "--review-format", "section")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["scores"] == {"soundness": 3, "clarity": 2, "evidence": 4}
    assert run(str(path), "--review-format", "aiscientist").exit_code == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Just some prose, no review.", "no review found"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
    ],
)
def test_nothing_review_like_exits_2_with_one_line(tmp_path: Path, content, message) -> None:
    path = tmp_path / "output.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    (error,) = result.stderr.splitlines()
    assert error.startswith("papercycle: error:") and message in error


def test_missing_file_and_bad_format_are_user_errors(tmp_path: Path) -> None:
    missing = run(str(tmp_path / "nope.txt"))
    assert missing.exit_code == 2
    assert missing.stderr.strip() == f"papercycle: error: {tmp_path / 'nope.txt'}: no such file"
    assert run(str(tmp_path), "--review-format", "auto").exit_code == 2  # a directory
    assert run(str(tmp_path / "x"), "--review-format", "other").exit_code == 2
