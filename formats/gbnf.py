"""GBNF grammars (llama.cpp) from a small, strict subset of JSON Schema.

llama-cpp-python's own converter ignores integer minimum/maximum and silently falls back to
plain JSON on schemas it cannot convert. This one supports exactly what our output schemas
use and raises on anything else, so a grammar always enforces its whole schema:

- objects: every property required, no additional properties, written in schema order;
- arrays with `maxItems` (and optional `minItems`);
- strings with `maxLength` (and optional `minLength`), or an `enum` of strings;
- integers with both `minimum` and `maximum` (written out as an enumeration), `enum`, `const`;
- `boolean`, `null`, `anyOf`, and `type` lists such as ["string", "null"].

Output is compact JSON (no whitespace between tokens): a fixed layout keeps generations
short and makes the lengths in the schema the lengths in the output.
"""

from __future__ import annotations

import json
import re
from typing import Any

# One JSON string character: a printable Unicode scalar value other than a quote or a
# backslash, or a simple escape. The ranges are positive on purpose: llama.cpp's grammar
# decodes any lead byte up to 0xFF, so a negated class ([^"\]) lets a model with byte
# tokens write lead bytes F5-FF and surrogates, which no UTF-8 decoder accepts. (No \u
# escapes, for the same reason.) One hole remains that no code-point grammar can close:
# llama.cpp accepts overlong 3- and 4-byte sequences (E0 80-9F.., F0 80-8F..), which
# llama-cpp-python then drops from the text. Trained models practically never write them;
# random-weight byte-level models do. `ascii_only` closes it for callers who need that.
JSON_CHAR = (
    r"[\x20-\x21\x23-\x5B\x5D-\x7E\u00A0-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]"
    r' | "\\" ["\\/bfnrt]'
)
JSON_ASCII_CHAR = r'[\x20-\x21\x23-\x5B\x5D-\x7E] | "\\" ["\\/bfnrt]'
MAX_ENUMERATED_INTEGERS = 1000

_SUPPORTED = {
    "object": {"type", "properties", "required", "additionalProperties", "description", "title"},
    "array": {"type", "items", "minItems", "maxItems", "description", "title"},
    "string": {"type", "minLength", "maxLength", "enum", "description", "title"},
    "integer": {"type", "minimum", "maximum", "enum", "description", "title"},
}


class UnsupportedSchema(ValueError):
    """The schema uses something this builder cannot enforce."""


def grammar_from_schema(
    schema: dict[str, Any], *, ascii_only: bool = False, root: str = "root"
) -> str:
    """A GBNF grammar whose sentences are exactly the compact JSON values valid for `schema`.

    `ascii_only` limits free strings to printable ASCII (enum and const values are kept as
    they are). `root` names the top rule, to embed the grammar in a larger one.
    """
    builder = _Builder()
    builder.rule(root, schema, root)
    rules = [f"{name} ::= {body}" for name, body in builder.rules.items()]
    if builder.uses_char:
        rules.append(f"char ::= {JSON_ASCII_CHAR if ascii_only else JSON_CHAR}")
    return "\n".join(rules) + "\n"


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _json_literal(value: Any) -> str:
    return literal(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


class _Builder:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self.uses_char = False

    def rule(self, name: str, schema: dict[str, Any], path: str) -> str:
        name = re.sub(r"[^a-zA-Z0-9-]+", "-", name).strip("-") or "value"
        base, n = name, 2
        while name in self.rules:
            name, n = f"{base}-{n}", n + 1
        self.rules[name] = ""  # reserve the name before building nested rules
        self.rules[name] = self.expression(schema, name, path)
        return name

    def expression(self, schema: dict[str, Any], name: str, path: str) -> str:
        if not isinstance(schema, dict):
            raise UnsupportedSchema(f"{path}: schema must be an object")
        if "const" in schema:
            return _json_literal(schema["const"])
        if "anyOf" in schema:
            return " | ".join(
                self.rule(f"{name}-{i}", option, f"{path}/anyOf/{i}")
                for i, option in enumerate(schema["anyOf"])
            )
        kind = schema.get("type")
        if isinstance(kind, list):
            options = [{**schema, "type": k} for k in kind]
            return self.expression({"anyOf": options}, name, path)
        if "enum" in schema:
            self._check_keys(schema, kind or "enum", path)
            if not schema["enum"]:
                raise UnsupportedSchema(f"{path}: empty enum")
            return " | ".join(_json_literal(v) for v in schema["enum"])
        if kind == "null":
            return '"null"'
        if kind == "boolean":
            return '"true" | "false"'
        if kind == "integer":
            return self.integer(schema, path)
        if kind == "string":
            return self.string(schema, path)
        if kind == "array":
            return self.array(schema, name, path)
        if kind == "object":
            return self.object(schema, name, path)
        raise UnsupportedSchema(f"{path}: unsupported schema {schema!r}")

    def _check_keys(self, schema: dict[str, Any], kind: str, path: str) -> None:
        allowed = _SUPPORTED.get(kind, {"type", "enum", "description", "title"})
        unknown = set(schema) - allowed
        if unknown:
            raise UnsupportedSchema(f"{path}: unsupported keywords {sorted(unknown)}")

    def integer(self, schema: dict[str, Any], path: str) -> str:
        self._check_keys(schema, "integer", path)
        if "minimum" not in schema or "maximum" not in schema:
            raise UnsupportedSchema(f"{path}: an integer needs both minimum and maximum")
        low, high = int(schema["minimum"]), int(schema["maximum"])
        if not 0 <= high - low <= MAX_ENUMERATED_INTEGERS:
            raise UnsupportedSchema(f"{path}: integer range {low}..{high} is too wide")
        return " | ".join(f'"{v}"' for v in range(low, high + 1))

    def string(self, schema: dict[str, Any], path: str) -> str:
        self._check_keys(schema, "string", path)
        if "maxLength" not in schema:
            raise UnsupportedSchema(f"{path}: a string needs maxLength")
        low, high = int(schema.get("minLength", 0)), int(schema["maxLength"])
        if not 0 <= low <= high:
            raise UnsupportedSchema(f"{path}: bad string length bounds {low}..{high}")
        self.uses_char = True
        return f'"\\"" char{{{low},{high}}} "\\""'

    def array(self, schema: dict[str, Any], name: str, path: str) -> str:
        self._check_keys(schema, "array", path)
        if "maxItems" not in schema or "items" not in schema:
            raise UnsupportedSchema(f"{path}: an array needs items and maxItems")
        low, high = int(schema.get("minItems", 0)), int(schema["maxItems"])
        if not 0 <= low <= high:
            raise UnsupportedSchema(f"{path}: bad array length bounds {low}..{high}")
        if high == 0:
            return '"[]"'
        item = self.rule(f"{name}-item", schema["items"], f"{path}/items")
        more = f'( "," {item} ){{{max(low - 1, 0)},{high - 1}}}'
        if low == 0:
            return f'"[" ( {item} {more} )? "]"'
        return f'"[" {item} {more} "]"'

    def object(self, schema: dict[str, Any], name: str, path: str) -> str:
        self._check_keys(schema, "object", path)
        properties = schema.get("properties", {})
        if set(schema.get("required", [])) != set(properties):
            raise UnsupportedSchema(f"{path}: every property must be required")
        if schema.get("additionalProperties", True) is not False:
            raise UnsupportedSchema(f"{path}: additionalProperties must be false")
        parts = []
        for i, (key, value_schema) in enumerate(properties.items()):
            prefix = "{" if i == 0 else ","
            value = self.rule(f"{name}-{key}", value_schema, f"{path}/properties/{key}")
            parts.append(f"{literal(prefix + json.dumps(key) + ':')} {value}")
        if not parts:
            return '"{}"'
        return " ".join(parts) + ' "}"'
