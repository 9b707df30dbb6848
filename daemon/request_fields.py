"""The declared type of every request parameter, checked once before any handler runs, so a
wrong type answers `bad-request` naming the field rather than `internal` with a Python message.

One table: request type -> field -> Field. Fields not listed are ignored (newer clients may send
more); a listed field that is present must have its type. Kept declarative so a later change can
turn each row into a typed dataclass per request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from papercycle.daemon.scheduler import PRIORITIES


@dataclass(frozen=True)
class Field:
    types: tuple[type, ...]  # accepted JSON types (bool is never an int here)
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    text_values: bool = False  # an object whose values must all be strings (buffers)
    versioned: bool = False  # text_values may also be {text, version} (project.open)
    inner: tuple[tuple[str, Field], ...] = ()  # an object's own typed fields (a cursor)

    def problem(self, value: Any) -> str | None:
        """Why `value` does not fit, or None."""
        if self.choices and not (isinstance(value, str) and value in self.choices):
            return f"expected one of {', '.join(self.choices)}; got {_shown(value)}"
        if isinstance(value, bool) and bool not in self.types:
            return f"expected {_names(self.types)}; got {_shown(value)}"
        if not isinstance(value, self.types):
            return f"expected {_names(self.types)}; got {_shown(value)}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                return f"expected a finite number; got {value}"
            if self.minimum is not None and value < self.minimum:
                return f"expected at least {self.minimum:g}; got {value}"
            if self.maximum is not None and value > self.maximum:
                return f"expected at most {self.maximum:g}; got {value}"
        if self.text_values and isinstance(value, dict):
            for key, text in value.items():
                if self.versioned and isinstance(text, dict):
                    text = text.get("text", "")
                    if text is None:  # the file as it is on disk
                        continue
                if not isinstance(text, str):
                    return (
                        f"expected file paths mapped to their text; {key!r} maps to {_shown(text)}"
                    )
        if self.inner and isinstance(value, dict):
            for name, field in self.inner:
                if name in value and (problem := field.problem(value[name])) is not None:
                    return f".{name}: {problem}"  # the caller prefixes the outer field
        return None


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _names(types: tuple[type, ...]) -> str:
    if int in types and float in types:  # JSON has numbers; an integer is one of them
        types = tuple(kind for kind in types if kind is not int)
    return " or ".join(_TYPE_NAMES[kind] for kind in types)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


TEXT = Field((str,))
OPTIONAL_TEXT = Field((str, type(None)))  # null: the default
PATH = Field((str,), required=True)
BUFFERS = Field((dict, type(None)), text_values=True)
OPEN_BUFFERS = Field((dict, type(None)), text_values=True, versioned=True)
MODEL = Field((str, type(None)))  # null: the configured model for the request's role
PRIORITY = Field((str,), choices=tuple(PRIORITIES))
SECTION = Field((int, str, dict))  # number, title or {path, offset}
INDEX = Field((int,), minimum=0)
CURSOR_FIELDS = (("path", Field((str,))), ("line", INDEX), ("character", INDEX), ("offset", INDEX))
CURSOR = Field((dict, type(None)), inner=CURSOR_FIELDS)
NUMBER = (int, float)

REVIEW = {"path": PATH, "buffers": BUFFERS, "priority": PRIORITY, "model": MODEL, "mode": TEXT}
FIELDS: dict[str, dict[str, Field]] = {
    "hello": {},
    "ping": {},
    "status": {},
    "review.paper": REVIEW,
    "review.section": {**REVIEW, "section": Field((int, str, dict), required=True)},
    "review.sections": {**REVIEW, "cursor": CURSOR},
    "draft.section": {
        "path": PATH,
        "buffers": BUFFERS,
        "priority": PRIORITY,
        "model": MODEL,
        "section": SECTION,
        "kind": Field((str, type(None))),
        "instruction": OPTIONAL_TEXT,
        "comment": OPTIONAL_TEXT,
        "citations": OPTIONAL_TEXT,
    },
    "draft.paper": {
        "bib": Field((str,), required=True),
        "results": Field((list, dict, type(None))),
        "priority": PRIORITY,
        "model": MODEL,
        "topic": Field((str, type(None))),
    },
    "plan": {
        "goal": Field((str,), required=True),
        "constraints": OPTIONAL_TEXT,
        "priority": PRIORITY,
        "model": MODEL,
    },
    "rubric.extract": {"path": PATH, "buffers": BUFFERS, "priority": PRIORITY, "model": MODEL},
    "rubric.grade": {"plan": Field((str,), required=True), "priority": PRIORITY, "model": MODEL},
    "cancel": {"target": Field((str,), required=True)},
    "models.list": {},
    "cache.stats": {},
    "cache.clear": {},
    "shutdown": {},
    "project.open": {
        "path": TEXT,
        "root": TEXT,
        "buffers": OPEN_BUFFERS,
        "model": MODEL,
        "section_model": MODEL,
        "paper": Field((str,), choices=("auto", "off")),
        "debounce": Field(NUMBER, minimum=0, maximum=3600),
        "cursor": CURSOR,
    },
    "project.buffer": {
        "project": TEXT,
        "path": PATH,
        "text": Field((str, type(None))),  # null: read the file from disk again
        "cursor": CURSOR,
    },
    # the cursor may also be the params themselves
    "project.cursor": {"project": TEXT, "cursor": CURSOR, **dict(CURSOR_FIELDS)},
    "project.review": {"project": TEXT, "path": TEXT},
    "project.status": {"project": TEXT, "path": TEXT},
    "project.close": {"project": TEXT, "path": TEXT, "force": Field((bool,))},
    "subscribe": {"project": TEXT, "path": TEXT},
}


def check(kind: str, params: dict[str, Any]) -> str | None:
    """The first problem with `params` of a `kind` request, as one line naming the field."""
    for name, field in FIELDS.get(kind, {}).items():
        if name not in params:
            if field.required:
                return f"params.{name}: required by {kind}"
            continue
        problem = field.problem(params[name])
        if problem is not None:
            separator = "" if problem.startswith(".") else ": "
            return f"params.{name}{separator}{problem}"
    return None
