"""Progress for long commands: a bar on a terminal, silence when piped (tqdm's disable=None)."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def step_progress(total: int, description: str):
    """Yield a `step(label)` callable that advances a bar of `total` named steps."""
    with tqdm(total=total, desc=description, disable=None, leave=False, unit="step") as bar:
        started = [False]

        def step(label: str) -> None:
            if started[0]:
                bar.update(1)
            started[0] = True
            bar.set_postfix_str(label)

        yield step
        bar.update(bar.total - bar.n)


# A count of tokens has no total: tqdm's default line for it reads "desc: : 0tok [...]"
TOKEN_BAR_FORMAT = "{desc} · {n_fmt} tokens · {elapsed}"


def token_bar(description: str) -> tqdm:
    """A one-line count of generated tokens on stderr (nothing when stderr is no terminal)."""
    return tqdm(
        desc=description,
        unit="tok",
        disable=None,
        leave=False,
        file=sys.stderr,
        bar_format=TOKEN_BAR_FORMAT,
    )
