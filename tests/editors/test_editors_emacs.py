"""The Emacs package (editors/emacs, on Eglot) in `emacs --batch` (Debian's Emacs 28 +
elpa-eglot 1.9): Flymake diagnostics, a code action through eglot-code-actions, a draft held in
the side buffer and accepted with no "Server wants to edit" prompt, another rejected, saved."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from editor_helpers import REPO, assert_one_dismissed, editor_env, run_editor

SCRIPT = REPO / "tests" / "editors" / "emacs_package.el"


def _eglot_available() -> bool:
    if shutil.which("emacs") is None:
        return False
    probe = subprocess.run(
        ["emacs", "--batch", "-q", "--eval", '(princ (if (locate-library "eglot") 1 0))'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return probe.stdout.strip().endswith("1")


pytestmark = pytest.mark.skipif(
    not _eglot_available(),
    reason="emacs with Eglot not installed (editors/install-test-deps.sh: emacs-nox elpa-eglot)",
)


def _env(home, paper, tmp_path, out):
    (tmp_path / "home").mkdir(exist_ok=True)
    package = str(REPO / "editors" / "emacs")
    return editor_env(home, tmp_path, PC_PAPER=str(paper), PC_OUT=str(out), PC_PACKAGE=package)


def test_emacs_package_review_code_action_and_draft(home, paper, tmp_path, artifacts):
    out = tmp_path / "emacs.json"
    env = _env(home, paper, tmp_path, out)
    before = paper.read_text()
    command = ["emacs", "--batch", "-q", "-l", str(SCRIPT)]
    seen = run_editor(command, env, out, artifacts, timeout=560)
    assert seen["mode"] == "latex-mode"
    assert seen["server_class"] == "papercycle-eglot-server"
    assert seen["diagnostics"] >= 1 and seen["dismissed_gone"] is True
    assert_one_dismissed(seen["actions"], paper.parent)
    # the draft streamed into the side buffer and was held there until accepted
    assert seen["streamed"] > 0
    assert seen["draft_text"].strip()
    assert seen["preview"].startswith("Draft of") and "Method" in seen["preview"]
    assert seen["unchanged_while_previewing"] is True
    assert "draft ready" in seen["mode_line"]
    assert seen["accepted"] is True and seen["preview_closed"] is True
    assert seen["draft_text"].strip() in seen["buffer"]
    assert seen["prompts"] == [], seen["prompts"]  # no "Server wants to edit ... Proceed?"
    assert seen["rejected_unchanged"] is True
    assert seen["progress_seen"] is True
    on_disk = paper.read_text()
    assert on_disk != before and seen["draft_text"].strip() in on_disk


AUCTEX_CHECK = """
(progn
  (unless (locate-library "tex-site") (kill-emacs 3))
  (require 'tex-site)
  (add-to-list 'load-path (getenv "PC_PACKAGE"))
  (require 'papercycle)
  (setq papercycle-command (list (getenv "PC_PYTHON") "-m" "papercycle.cli" "lsp" "--stdio")
        papercycle-settings '(:models (:section "tiny-section")))
  (papercycle-setup)
  (find-file (getenv "PC_PAPER"))
  (let ((out (list (cons "auctex" (if (featurep 'latex) t :json-false))
                   (cons "mode" (symbol-name major-mode)))))
    (apply #'eglot (eglot--guess-contact))
    (push (cons "class" (symbol-name (eieio-object-class (eglot-current-server)))) out)
    (flymake-start)
    (let ((deadline (+ (float-time) 120)))
      (while (and (null (flymake-diagnostics)) (< (float-time) deadline))
        (accept-process-output nil 0.1) (flymake-start)))
    (push (cons "diagnostics" (length (flymake-diagnostics))) out)
    (ignore-errors (eglot-shutdown (eglot-current-server)))
    (with-temp-file (getenv "PC_OUT") (insert (json-encode out)))
    (kill-emacs 0)))
"""


def test_emacs_package_with_auctex(home, paper, tmp_path):
    """AUCTeX's mode (Debian's `auctex`, 12.x on Emacs 28: its mode is still named
    latex-mode) gets the papercycle server and its diagnostics."""
    out = tmp_path / "auctex.json"
    proc = subprocess.run(
        ["emacs", "--batch", "-q", "--eval", AUCTEX_CHECK],
        env=_env(home, paper, tmp_path, out),
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if proc.returncode == 3:
        pytest.skip("AUCTeX not installed (editors/install-test-deps.sh: Debian's auctex)")
    assert out.exists(), proc.stderr[-3000:]
    seen = json.loads(out.read_text())
    assert seen["auctex"] is True
    assert seen["mode"] in ("latex-mode", "LaTeX-mode")
    assert seen["class"] == "papercycle-eglot-server"
    assert seen["diagnostics"] >= 1
