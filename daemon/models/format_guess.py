"""Which prompt format a GGUF is served with when `models add` is not told (`--format`): the
catalogue entry its file name or its `general.name` matches (e.g.
`DeepReviewer-7B.Q4_K_M.gguf`, `Llama-OpenReviewer-8B-Q4_K_M.gguf`), else a model family named
in them (`cyclereviewer`, `whizreviewer`, ...), else `deepreviewer`, the format most general
instruct models follow best. Each answer comes with the reason, which `models add` prints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from papercycle.daemon.models import catalogue

DEFAULT = "deepreviewer"
# family words in a file or model name -> the format; longer words first
FAMILIES = (
    ("cycleresearcher", "section"),
    ("cyclereviewer", "cyclereviewer"),
    ("whizreviewer", "cyclereviewer"),
    ("deepreviewer", "deepreviewer"),
    ("openreviewer", "openreviewer"),
    ("aiscientist", "aiscientist"),
)


@dataclass(frozen=True)
class Guess:
    format: str
    reason: str
    entry: catalogue.CatalogueEntry | None = None


def _squashed(text: str) -> str:
    """Lower case, letters and digits only: `Llama-OpenReviewer-8B` -> `llamaopenreviewer8b`."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def guess(path: Path, general_name: str | None) -> Guess:
    names = [("its file name", path.name)]
    if general_name:
        names.append(("its general.name", general_name))
    entries = catalogue.entries().values()
    for where, name in names:
        squashed = _squashed(name)
        for entry in entries:
            ids = (entry.name, entry.hf_repo, *entry.aliases, *entry.gguf_repos)
            # the repository's own name (after the owner), not its `-GGUF` suffix
            stems = {_squashed(i.rsplit("/", 1)[-1].removesuffix("-GGUF")) for i in ids}
            if any(stem and stem in squashed for stem in stems):
                return Guess(
                    entry.format,
                    f"{where} {name!r} matches the catalogue's {entry.name}",
                    entry,
                )
    for where, name in names:
        squashed = _squashed(name)
        for word, fmt in FAMILIES:
            if word in squashed:
                return Guess(fmt, f"{where} {name!r} names the {word} family")
    return Guess(
        DEFAULT,
        "no reviewer family in its name; the format general instruct models follow best "
        "(choose another with --format)",
    )


__all__ = ["DEFAULT", "Guess", "guess"]
