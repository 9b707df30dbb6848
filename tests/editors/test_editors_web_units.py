"""The browser editor's unit tests (editors/web/test/*.test.mjs, node's test runner): which
language-server hovers the page shows (no second tooltip repeating a comment)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from editor_helpers import REPO


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_web_unit_tests():
    result = subprocess.run(
        ["node", "--test", "test/hover.test.mjs"],
        cwd=REPO / "editors" / "web", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 1" in result.stdout
