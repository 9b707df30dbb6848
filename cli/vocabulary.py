"""One vocabulary for every command, and the old spellings kept for one release.

The words, everywhere:
- `--json`: print JSON instead of text (`review --sarif` adds SARIF);
- `-o/--output PATH`: the file or folder a command writes;
- `--review-format NAME`: the prompt/answer family of a reviewer (deepreviewer, cyclereviewer,
  section, ...), the config key `format`;
- flags spelled as the config keys they set: `--n-ctx`, `--n-threads`, `--n-gpu-layers`.

An old spelling is a hidden option (absent from `--help`) that feeds the new parameter and
says once on stderr what replaces it, so scripts written against the previous release keep
working while they are updated.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click


def old_spelling(
    old_flag: str,
    new_flag: str,
    param: str,
    *,
    type: Any = None,
    is_flag: bool = False,
    convert: Callable[[Any], dict[str, Any]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A hidden `old_flag` that sets the command's parameter `param` (the one `new_flag`
    sets), or, with `convert`, the parameters `convert(value)` returns."""
    hidden_name = "old_spelling_" + old_flag.lstrip("-").replace("-", "_")

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(hidden_name)
            if value is not None and value is not False:
                click.echo(
                    f"papercycle: {old_flag} is now {new_flag} "
                    f"({old_flag} still works in this release only)",
                    err=True,
                )
                kwargs.update(convert(value) if convert else {param: value})
            return function(*args, **kwargs)

        option = click.option(
            old_flag,
            hidden_name,
            hidden=True,
            is_flag=is_flag,
            default=False if is_flag else None,
            **({} if type is None else {"type": type}),
        )
        return option(wrapper)

    return decorate
