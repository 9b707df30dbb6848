"""What the engine needs from a model, whichever way it is served."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from papercycle.formats.chat import Message


class GenerationError(RuntimeError):
    """The backend could not generate (server down, bad answer, model failure)."""


class Cancellation:
    """A cancel flag shared by the scheduler (sets it) and the generating thread (reads it
    after every decoded token); it records how many tokens were decoded after it was set,
    which is how the tests check "stops within one decode step"."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.tokens = 0
        self.tokens_at_cancel: int | None = None
        self.reason = ""
        self._stopped = False
        # Set by the scheduler on background jobs: True when more urgent work waits. The
        # backend checks it between prompt batches (and, without a grammar, between decoded
        # tokens) and then stops with finish "yielded"; the evaluated prefix is kept in a saved
        # KV state, and the job resumes from there (after the text it wrote: `written`).
        self.should_yield: Callable[[], bool] | None = None

    def yield_now(self) -> bool:
        check = self.should_yield
        return bool(check is not None and not self.cancelled and check())

    def cancel(self, reason: str = "cancelled") -> None:
        if not self._event.is_set():
            self.tokens_at_cancel = self.tokens
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def step(self) -> bool:
        """Called once per decoded token: True means stop now. Steps after the first True are
        not decode steps (llama-cpp-python asks once more after the loop) and are not counted."""
        if self._stopped:
            return True
        self.tokens += 1
        self._stopped = self._event.is_set()
        return self._stopped

    @property
    def tokens_after_cancel(self) -> int | None:
        return None if self.tokens_at_cancel is None else self.tokens - self.tokens_at_cancel


@dataclass
class Generation:
    text: str
    prompt_tokens: int | None
    tokens: int
    # "stop", "length", "loop" (stopped repeating itself: loops.py), "cancelled",
    # "yielded" (re-queued by the scheduler)
    finish: str
    seconds: float
    # prompt tokens evaluated by the model (after KV-cache prefix reuse) and reused from it;
    # None where the backend cannot tell (an HTTP server)
    prompt_evaluated: int | None = None
    prompt_reused: int | None = None
    loop: dict[str, int] | None = None  # finish "loop": {"period", "repeats"} in tokens

    def info(self) -> dict[str, Any]:
        """What results report and the cache keeps about how the text was generated."""
        return {
            "tokens": self.tokens,
            "prompt_tokens": self.prompt_tokens,
            "prompt_evaluated": self.prompt_evaluated,
            "prompt_reused": self.prompt_reused,
            "seconds": round(self.seconds, 3),
            "finish": self.finish,
            **({"loop": self.loop} if self.loop else {}),
        }


TokenSink = Callable[[str], None]
EventSink = Callable[[str, dict[str, Any]], None]


class Backend(Protocol):
    memory_bytes: int
    n_ctx: int

    def count_tokens(self, prompt: str) -> int | None: ...

    def generate(
        self,
        prompt: str,
        messages: list[Message],
        settings: dict[str, Any],
        grammar: str | None,
        on_token: TokenSink,
        cancel: Cancellation,
        on_event: EventSink = ...,
    ) -> Generation: ...

    # A backend that returns finish "yielded" with text also takes `written=<that text>` on
    # the next call (llama_backend.py): the scheduler passes it only then.

    def close(self) -> None: ...
