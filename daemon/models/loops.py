"""A generation caught in a loop: its last tokens are one block repeated, over and over.

Real models loop: SmolLM2 as a CycleReviewer wrote "The method is described in detail in
detail." until its 2,048-token budget; a real CycleReviewer-8B output repeats its
`## Paper Decision` block until the token limit. Decoding is stopped as soon as the tail of
the answer is the same block at least `min_repeats` times over at least `min_span` tokens (so
a repeated table row or a list of short items does not count), and the repeats are cut from
the text: the answer keeps what it wrote before the loop and one copy of the block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Loop:
    period: int  # tokens in the repeated block
    repeats: int  # whole copies of it at the end of the answer

    def describe(self) -> str:
        return f"a block of {self.period} tokens repeated {self.repeats} times"


class LoopDetector:
    def __init__(
        self, min_span: int = 96, min_repeats: int = 3, max_period: int = 512, every: int = 8
    ) -> None:
        self.min_span = min_span
        self.min_repeats = min_repeats
        self.max_period = max_period
        self.every = every  # check after every this many tokens (a check is O(period²) at worst)

    def check(self, ids: Sequence[int]) -> Loop | None:
        """The loop the answer's token ids end in, if any."""
        if len(ids) < self.min_span or len(ids) % self.every:
            return None
        return self.find(ids)

    def find(self, ids: Sequence[int]) -> Loop | None:
        ids = list(ids)
        for period in range(1, self.max_period + 1):
            span = max(self.min_repeats * period, self.min_span)
            if span > len(ids):
                break
            if ids[-1] != ids[-1 - period]:  # the tail's last token already breaks this period
                continue
            tail = ids[-span:]
            if tail[period:] == tail[:-period]:  # the tail has this period
                repeats = span // period
                while (repeats + 1) * period <= len(ids) and (
                    ids[-(repeats + 1) * period : -repeats * period] == ids[-period:]
                ):
                    repeats += 1
                return Loop(period, repeats)
        return None


def cut_repeats(text: str, unit: str) -> str:
    """`text` with the copies of `unit` at its end but one removed (unchanged if the decoded
    block does not line up with the text's end)."""
    if not unit or not text.endswith(unit + unit):
        return text
    while text.endswith(unit + unit):
        text = text[: -len(unit)]
    return text
