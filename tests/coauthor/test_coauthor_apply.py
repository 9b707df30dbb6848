"""`draft --apply` writes into the user's file without damage: CRLF kept (offsets right for a
mid-file insert), mode kept, BOM kept, refused when the file changed since the draft was asked
for, the previous bytes kept in a backup that the output names. Real daemon, tiny model."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from papercycle.daemon.client import Client
from papercycle.latex.file_edit import EditRefused, apply_edit, with_newlines
from papercycle.lsp import drafts

TIMEOUT = 180


@pytest.fixture(scope="module")
def home(coauthor_home):
    return coauthor_home


def _crlf_private(paper):
    paper.write_bytes(paper.read_bytes().replace(b"\n", b"\r\n"))
    paper.chmod(0o600)
    return paper.read_bytes()


def test_apply_keeps_crlf_offsets_and_mode_and_names_a_backup(home, small_paper):
    before = _crlf_private(small_paper)
    cli = [sys.executable, "-m", "papercycle.cli", "draft", str(small_paper)]
    run = subprocess.run(
        [*cli, "--section", "Method", "--apply", "--json", "--quiet"],
        env={**os.environ, "PAPERCYCLE_HOME": str(home.root)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    start, end = result["range"]["start"], result["range"]["end"]
    assert start == end and 0 < start < len(before)  # an insert in the middle of the file
    after = small_paper.read_bytes()
    inserted = with_newlines(result["text"], "\r\n").encode()
    assert "\n" in result["text"]
    # the text before the place and after it is byte for byte what it was
    assert after == before[:start] + inserted + before[start:]
    assert re.search(rb"(?<!\r)\n", after) is None  # no bare LF anywhere
    assert stat.S_IMODE(small_paper.stat().st_mode) == 0o600
    [line] = [x for x in run.stderr.splitlines() if "wrote the draft" in x]
    backup = home.root / "cache" / "backups"
    match = re.fullmatch(
        rf"papercycle: wrote the draft into {small_paper} \(previous text: (.+)\)", line
    )
    assert match, line
    saved = Path(match.group(1))
    assert saved.parent == backup and saved.read_bytes() == before
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600


async def test_apply_refuses_a_file_changed_since_the_draft_was_asked_for(home, small_paper):
    original = small_paper.read_text()
    async with Client(home.paths) as client:
        result = await client.request(
            "draft.section", {"path": str(small_paper), "section": "Method"}, timeout=TIMEOUT
        )
    where = result["range"]
    small_paper.write_text(original.replace("\\section{Method}", "\\section{Method}\nNew line."))
    edited = small_paper.read_bytes()
    backups = home.root / "cache" / "backups"
    with pytest.raises(EditRefused) as caught:
        apply_edit(
            small_paper, where["start"], where["end"], result["text"], where["sha256"], backups
        )
    assert str(caught.value) == (
        f"{small_paper}: changed since the draft was asked for; draft not written (ask again)"
    )
    assert small_paper.read_bytes() == edited  # nothing written
    small_paper.write_text(original)  # as it was: the same draft goes in
    apply_edit(small_paper, where["start"], where["end"], result["text"], where["sha256"], backups)
    assert (
        small_paper.read_text()
        == original[: where["start"]] + result["text"] + original[where["end"] :]
    )


def test_bom_is_kept_and_invalid_utf8_is_refused(tmp_path):
    tex = tmp_path / "a.tex"
    tex.write_bytes(b"\xef\xbb\xbfOne.\r\nTwo.\r\n")
    apply_edit(tex, 6, 6, "New.\n", None, tmp_path / "backups")
    assert tex.read_bytes() == b"\xef\xbb\xbfOne.\r\nNew.\r\nTwo.\r\n"
    tex.write_bytes(b"Caf\xe9.\n")
    with pytest.raises(EditRefused, match=r"a\.tex: not valid UTF-8; draft not written"):
        apply_edit(tex, 0, 0, "x", None, tmp_path / "backups")
    assert tex.read_bytes() == b"Caf\xe9.\n"


def test_language_server_draft_takes_the_documents_line_ending():
    draft = drafts.Draft("d", "file:///a.tex", Path("/a.tex"), "Method", 0, 1)
    draft.text = "First line.\nSecond line.\n"
    assert drafts.insertion_text(draft, "a\r\nb\r\n") == "First line.\r\nSecond line.\r\n"
    assert drafts.insertion_text(draft, "a\nb\n") == "First line.\nSecond line.\n"


async def test_rewrite_in_a_crlf_file_replaces_exactly_the_paragraph(home, small_paper):
    _crlf_private(small_paper)
    text = small_paper.read_bytes().decode()
    cursor = {"path": str(small_paper), "offset": text.index("experts layers")}
    async with Client(home.paths) as client:
        result = await client.request(
            "draft.section",
            {"path": str(small_paper), "section": cursor, "kind": "rewrite", "comment": "Why?"},
            timeout=TIMEOUT,
        )
    where = result["range"]
    # blank CRLF lines end the paragraph, and no \r is left behind or taken
    assert text[where["start"] : where["end"]] == "Mixture of experts layers scale models cheaply."
