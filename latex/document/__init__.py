"""One file of a project, parsed: node types (`nodes`), how commands and environments are read
(`specs`, from the command table in `project/commands.py`), the parser (`parser`) and a check on
its result (`swallowed`). `parse(text) -> Document` never raises."""

from papercycle.latex.document.nodes import (
    Arg,
    Comment,
    Document,
    Env,
    Group,
    Macro,
    Math,
    Node,
    Param,
    Text,
    Verbatim,
    content_digest,
)
from papercycle.latex.document.parser import MAX_DEPTH, parse
from papercycle.latex.document.specs import (
    BIB_MACROS,
    CITE_COMMANDS,
    CITE_MACROS,
    DEF_MACROS,
    ENV_SPECS,
    INCLUDE_MACROS,
    MACRO_SPECS,
    MATH_ENVS,
    RAW_ENVS,
    REF_MACROS,
    SECTION_LEVELS,
    words,
)
from papercycle.latex.document.swallowed import SWALLOW_SHARE, swallowed_content

__all__ = [
    "BIB_MACROS",
    "CITE_COMMANDS",
    "CITE_MACROS",
    "DEF_MACROS",
    "ENV_SPECS",
    "INCLUDE_MACROS",
    "MACRO_SPECS",
    "MATH_ENVS",
    "MAX_DEPTH",
    "RAW_ENVS",
    "REF_MACROS",
    "SECTION_LEVELS",
    "SWALLOW_SHARE",
    "Arg",
    "Comment",
    "Document",
    "Env",
    "Group",
    "Macro",
    "Math",
    "Node",
    "Param",
    "Text",
    "Verbatim",
    "content_digest",
    "parse",
    "swallowed_content",
    "words",
]
