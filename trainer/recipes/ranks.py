"""Which process does what under `accelerate launch` / torchrun.

Every rank runs the recipe; the work that must happen once (exporting a policy to GGUF,
sampling drafts with llama.cpp, reviewing them, extracting rubrics, merging and exporting the
final model) runs on the main process only, while the other ranks wait at a barrier and then
read what the main process wrote to the shared output directory. Training itself runs on
every rank. One process alone (no launcher) is its own main process and the barrier is free.

Every rank must reach every barrier the same number of times, so the decision "is this step
already done?" is taken inside the main process's work, never before the barrier.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Ranks:
    def __init__(self, state: Any = None) -> None:
        if state is None:  # accelerate's view of the launch (a plain process: one rank)
            from accelerate import PartialState

            state = PartialState()
        self.state = state

    @property
    def is_main(self) -> bool:
        return bool(self.state.is_main_process)

    def wait(self) -> None:
        self.state.wait_for_everyone()

    def main_only(self, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """`action(*args, **kwargs)` on the main process; every rank leaves after it is done."""
        if self.is_main:
            action(*args, **kwargs)
        self.wait()

    def main_then_read(self, path: Path, produce: Callable[[], Any]) -> Any:
        """`produce()` (JSON-able) on the main process, written to `path`; every rank returns
        what was written there."""

        def write() -> None:
            value = produce()
            partial = path.with_name(path.name + ".partial")
            partial.write_text(json.dumps(value, ensure_ascii=False))
            partial.replace(path)  # a rank never reads half a file

        self.main_only(write)
        return json.loads(path.read_text())
