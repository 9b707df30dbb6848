"""Finding a JSON object in model output: in a fenced block or bare, with raw control
characters, or cut off by the token limit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

_FENCED = re.compile(r"```(?:json)?[ \t]*\n?(.*?)```", re.DOTALL)
# Control characters JSON allows neither inside strings (without strict=False) nor between
# tokens; dropping them is what the AI Scientist's own parser does.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def find_object(text: str, keys: Iterable[str]) -> dict[str, Any] | None:
    """The first JSON object holding any of `keys`: fenced blocks first, then bare objects.

    Raw control characters inside strings are accepted (strict=False); stray ones between
    tokens are dropped on a second attempt.
    """
    keys = tuple(keys)
    decoder = json.JSONDecoder(strict=False)
    candidates = [m[1] for m in _FENCED.finditer(text)] + [text]
    for candidate in candidates:
        for attempt in (candidate, _CONTROL.sub("", candidate)):
            for start in (m.start() for m in re.finditer(r"\{", attempt)):
                try:
                    value, _ = decoder.raw_decode(attempt, start)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, dict) and any(k in value for k in keys):
                    return value
    return None


def salvage_fields(text: str, keys: Iterable[str]) -> dict[str, Any]:
    """The complete `"key": value` pairs of an object that was cut off.

    A number that runs into the end of the text is left out: it may be the start of a
    longer one ("1" of "10").
    """
    decoder = json.JSONDecoder(strict=False)
    found: dict[str, Any] = {}
    for key in keys:
        match = re.search(rf"{re.escape(json.dumps(key))}\s*:\s*", text)
        if match is None:
            continue
        try:
            value, end = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError:
            items = _complete_items(decoder, text, match.end())
            if items:  # an array cut off: the items written before the cut
                found[key] = items
            continue
        if end < len(text) or not isinstance(value, int | float):
            found[key] = value
    return found


def _complete_items(decoder: json.JSONDecoder, text: str, start: int) -> list[Any]:
    """The whole items of an array that begins at `start` and was cut off."""
    if not text.startswith("[", start):
        return []
    items: list[Any] = []
    position = start + 1
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            return items
        if position >= len(text) and isinstance(item, int | float):
            return items  # a number running into the end may be the start of a longer one
        items.append(item)
