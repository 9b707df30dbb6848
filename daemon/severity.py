"""One severity mapping for the CLI and the editors: a finding's level (error, warning,
information, hint) from its category and the reviewer's severity (critical, major, minor).

Hidden instructions to a reviewer and simulated results left in a draft are errors; hidden
text and ethics concerns warnings; everything else a reviewer says is a weakness of the paper,
not a fault in the source: a warning when critical or major, information when minor or a
question. The project model's own findings keep their level.

Configured the same way everywhere: `[severities]` in the user's config.toml, category =
level, read by `papercycle review` and by the language server; an editor's own `severities`
setting (lsp/settings.py) goes on top of it for that editor.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

LEVELS = ("error", "warning", "information", "hint")
ALIASES = {"info": "information", "note": "information"}
DEFAULT_BY_CATEGORY: dict[str, str] = {
    "hidden-injection": "error",
    "simulated-results": "error",
    "hidden-text": "warning",
    "ethics": "warning",
}
# compiler-style lines and SARIF have no "information" or "hint": both are notes there
COMPILER_WORD = {"error": "error", "warning": "warning", "information": "note", "hint": "note"}

log = logging.getLogger(__name__)


def level(name: object) -> str | None:
    """A level's canonical name, or None when `name` is not one."""
    word = str(name).lower()
    word = ALIASES.get(word, word)
    return word if word in LEVELS else None


def level_of(
    category: str,
    severity: str | None,
    overrides: dict[str, str] | None = None,
    own_level: str | None = None,
) -> str:
    """The level of a finding of `category` the reviewer rated `severity`; `own_level` is the
    project model's own (its findings only)."""
    chosen = (overrides or {}).get(category)
    if chosen:
        return chosen
    if own_level:
        # a comment quoting an attack (source only) is information, though its category's
        # default is an error
        return level(own_level) or "warning"
    if category in DEFAULT_BY_CATEGORY:
        return DEFAULT_BY_CATEGORY[category]
    if category == "question" or severity == "minor":
        return "information"
    return "warning"


def configured(config_file: Path, problems: list[str] | None = None) -> dict[str, str]:
    """`[severities]` of config.toml (category = level); a bad value is a problem, skipped."""
    problems = problems if problems is not None else []
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        problems.append(f"{config_file}: not read ({error})")
        return {}
    table = data.get("severities", {})
    if not isinstance(table, dict):
        problems.append(f"{config_file}: [severities] is not a table")
        return {}
    out = {}
    for category, value in table.items():
        name = level(value)
        if name is None:
            problems.append(
                f"{config_file}: severities.{category} = {value!r} is not one of "
                f"{', '.join(LEVELS)}"
            )
        else:
            out[str(category)] = name
    return out
