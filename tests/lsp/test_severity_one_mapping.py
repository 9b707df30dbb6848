"""One severity mapping (daemon/severity.py): the same comment has the same level in
`papercycle review` and in the editor, and `[severities]` of config.toml changes both."""

from __future__ import annotations

import pytest
from lsprotocol import types
from papercycle.cli import review as cli_review
from papercycle.lsp import diagnostics
from papercycle.lsp.findings import from_result
from papercycle.lsp.results import ReviewResult
from papercycle.lsp.settings import Settings

EDITOR_WORD = {
    types.DiagnosticSeverity.Error: "error",
    types.DiagnosticSeverity.Warning: "warning",
    types.DiagnosticSeverity.Information: "note",
    types.DiagnosticSeverity.Hint: "note",
}


def _result(tmp_path):
    path = str(tmp_path / "main.tex")
    anchor = {"method": "exact", "range": {"path": path, "start": 0, "end": 5}}

    def comment(category, severity):
        return {"kind": "comment", "category": category, "severity": severity,
                "text": f"{category} {severity}", "anchor": anchor}  # fmt: skip

    return {
        "kind": "section",
        "model": "m",
        "section": {"name": "Method"},
        "comments": [
            comment("soundness", "critical"),
            comment("clarity", "major"),
            comment("clarity", "minor"),
            comment("ethics", "minor"),
        ],
        "hidden": [],
    }


def _both(result, settings=None):
    cli_review._CONFIGURED = None  # the CLI reads config.toml once per process
    in_cli = [cli_review.COMPILER_WORD[f["level"]] for f in cli_review.findings(result)]
    in_editor = [
        EDITOR_WORD[diagnostics.severity_of(f, settings or Settings())]
        for f in from_result(ReviewResult.from_wire(result), {})
    ]
    return in_cli, in_editor


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERCYCLE_HOME", str(tmp_path / "home"))
    from papercycle.daemon.paths import Paths

    config = Paths.for_user().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    return config


def test_the_cli_and_the_editor_give_a_comment_the_same_level(home, tmp_path):
    in_cli, in_editor = _both(_result(tmp_path))
    # a reviewer's weakness is a warning (critical too), minor is a note, ethics a warning
    assert in_cli == in_editor == ["warning", "warning", "note", "warning"]


def test_config_severities_change_both_and_the_editor_setting_goes_on_top(home, tmp_path, capsys):
    home.write_text('[severities]\nsoundness = "error"\nclarity = "info"\nethics = "loud"\n')
    in_cli, in_editor = _both(_result(tmp_path))
    assert in_cli == in_editor == ["error", "note", "note", "warning"]
    assert "severities.ethics = 'loud' is not one of error, warning" in capsys.readouterr().err
    _, mine = _both(_result(tmp_path), Settings(severities={"soundness": "hint"}))
    assert mine[0] == "note"


def test_saving_the_config_keeps_the_severities(home):
    from papercycle.daemon.config import Config

    home.write_text('[severities]\nsoundness = "error"\n')
    Config.load(home).save()  # what `models add` and `trust` do
    assert '[severities]\nsoundness = "error"' in home.read_text()
