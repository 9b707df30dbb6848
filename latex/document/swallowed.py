"""A check on a parsed file: content an unbalanced environment or math delimiter swallows."""

from __future__ import annotations

import re

from papercycle.latex.document.nodes import Document, Env, Group, Math

SWALLOW_SHARE = 0.5
_STRUCTURE_COMMANDS = re.compile(
    r"\\(?:(?:sub)*section|chapter|input|include|begin\s*\{document\}|end\s*\{document\})\b"
)


def swallowed_content(doc: Document) -> list[tuple[int, int, str]]:
    """(start, end, message) for a math or unclosed environment that runs over most of the
    file and through its sections or includes: an unbalanced \\begin/\\end (often in a macro
    body) that makes the rest of the paper vanish from the structure and the prose."""
    found = []
    size = max(1, len(doc.text))
    stack = list(doc.nodes)
    while stack:
        node = stack.pop()
        if (node.end - node.start) / size < SWALLOW_SHARE:
            continue  # nor can anything inside it: only large nodes are walked
        t = type(node)
        if t is Group or (t is Env and (node.closed or not node.raw)):  # children are parsed
            stack.extend(node.children)
            continue
        if t not in (Math, Env):
            continue
        inner = doc.text[node.start + 1 : node.end]
        if not _STRUCTURE_COMMANDS.search(inner):
            continue
        name = node.env if t is Math else node.name
        what = f"\\begin{{{name}}}" if name else "math"
        share = round(100 * (node.end - node.start) / size)
        found.append(
            (
                node.start,
                node.start + len(what),
                f"{what} runs over {share}% of the file, through its sections and includes: "
                "they are lost from the structure and the prose (an unbalanced \\begin/\\end "
                "or math delimiter?)",
            )
        )
    return found
