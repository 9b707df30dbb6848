"""The command table (`project/commands.py`) is the one place a command's facts live: the
parser reads its arguments from it and the renderer dispatches on its action."""

from __future__ import annotations

import re

from papercycle.latex import Project
from papercycle.latex.commands import COMMANDS
from papercycle.latex.render.handlers import HANDLERS

CITE_SHOWS = {"keys", "author", "year", "title", "none"}


def test_every_action_has_a_handler_and_every_handler_an_action():
    actions = {c.action for c in COMMANDS.values() if c.action is not None}
    assert actions and actions == set(HANDLERS)


def test_entries_are_well_formed():
    assert len(COMMANDS) > 200
    for name, command in COMMANDS.items():
        assert command.name == name
        assert command.args is None or re.fullmatch(r"[*\[{grfp]*", command.args), name
        if command.action == "section":
            assert isinstance(command.value, int) and -1 <= command.value <= 5, name
        elif command.action == "cite":
            assert command.value in CITE_SHOWS, name
        elif command.action == "show":
            arguments = command.args.replace("*", "")
            assert isinstance(command.value, int) and command.value < len(arguments), name
        elif command.action == "text":
            assert isinstance(command.value, str), name
        else:
            assert command.value is None, name


def test_one_entry_drives_both_parser_and_renderer(make_project, doc):
    """`\\hyperref[label]{text}` reads a bracket and a brace argument and shows the second;
    `\\citeauthor` shows "author" with its keys; `\\textcolor` hides white text."""
    body = (
        "See \\hyperref[sec:x]{the intro} and \\citeauthor{k1} here.\n"
        "Visible \\textcolor{white}{secret words} end.\n"
    )
    p = Project.build(make_project({"main.tex": doc(body)}))
    text = p.visible.text
    assert "See the intro and [author: k1] here." in text
    assert "sec:x" not in text
    assert "secret words" not in text and "Visible" in text
    assert [h.method for h in p.hidden] == ["white-text"]
