"""In-process llama.cpp (llama-cpp-python): the default backend.

Generation runs in the scheduler's worker thread; llama-cpp-python's ctypes calls release the
GIL, so the daemon's event loop keeps serving while a model decodes.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from papercycle.daemon.config import KV_CACHE_TYPES
from papercycle.daemon.models.backend import (
    Cancellation,
    EventSink,
    Generation,
    GenerationError,
    TokenSink,
)
from papercycle.daemon.models.bos import prompt_tokens as prompt_ids
from papercycle.daemon.models.kv_state import Snapshots, reuse_prefix
from papercycle.daemon.models.loops import Loop, LoopDetector, cut_repeats
from papercycle.daemon.models.threads import default_threads
from papercycle.formats.chat import Message

_SAMPLING_ARGS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "seed")


def _ignore(_kind: str, _data: dict[str, Any]) -> None:
    pass


class LlamaBackend:
    def __init__(
        self,
        path: str,
        n_ctx: int,
        n_threads: int,
        n_gpu_layers: int,
        memory_bytes: int,
        n_batch: int = 512,
        snapshots: Snapshots | None = None,
        n_threads_batch: int = 0,
        flash_attn: bool = False,
        kv_cache_type: str = "f16",
    ) -> None:
        from papercycle.daemon.models.grammar_sampler import GrammarCheckedLlama

        self.path = path
        self.n_ctx = n_ctx
        self.memory_bytes = memory_bytes
        # KV states of long prompts kept across other work on this model (kv_state.py)
        self.snapshots = snapshots
        # prompt tokens actually evaluated (after prefix reuse), over this backend's life
        self.prompt_tokens_evaluated = 0
        self.prompt_tokens_reused = 0
        # 0: the physical cores; a configured n_threads also holds for prompt reading unless
        # n_threads_batch says otherwise (more threads than asked for make each one wait on
        # the others when the machine is busy)
        self.n_threads = default_threads(n_threads)
        self.n_threads_batch = n_threads_batch or self.n_threads
        kv_type = KV_CACHE_TYPES[kv_cache_type]
        try:
            self.llama = GrammarCheckedLlama(
                model_path=path,
                n_ctx=n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads_batch,
                n_gpu_layers=n_gpu_layers,
                n_batch=n_batch,
                flash_attn=flash_attn,
                type_k=kv_type,
                type_v=kv_type,
                # Read, not mapped: llama.cpp repacks quantized weights for the CPU into its
                # own buffers, and with mmap the mapped pages stay resident beside them (1B
                # Q4_K_M: peak RSS 1,092 MiB mapped vs 660 MiB read, a 561 MiB file;
                # bench/laptop_bench.py --part memory)
                use_mmap=False,
                verbose=False,
            )
        except Exception as error:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise GenerationError(f"llama.cpp could not load {path}: {error}") from None

    def threads(self) -> dict[str, Any]:
        """For `status`: the thread counts and how OpenMP's threads wait (models/threads.py)."""
        return {
            "decode": self.n_threads,
            "prompt": self.n_threads_batch,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default (active)"),
        }

    def count_tokens(self, prompt: str) -> int:
        return len(prompt_ids(self.llama, prompt))

    def generate(
        self,
        prompt: str,
        messages: list[Message],
        settings: dict[str, Any],
        grammar: str | None,
        on_token: TokenSink,
        cancel: Cancellation,
        on_event: EventSink = _ignore,
        written: str = "",
    ) -> Generation:
        """`written`: what this generation wrote before it gave way to more urgent work (finish
        "yielded"); it continues after that text, and returns only the new text."""
        from llama_cpp import LlamaGrammar, StoppingCriteriaList

        started = time.monotonic()
        prompt_tokens = len(prompt_ids(self.llama, prompt))
        room = self.n_ctx - prompt_tokens
        if room <= 0:
            raise GenerationError(
                f"the prompt needs {prompt_tokens} tokens; the context holds {self.n_ctx}"
            )
        max_tokens = min(int(settings.get("max_tokens", 512)), room)
        kwargs = {k: settings[k] for k in _SAMPLING_ARGS if k in settings}
        compiled = LlamaGrammar.from_string(grammar, verbose=False) if grammar else None
        gave_way = False
        # an unconstrained answer that repeats one block is stopped (a grammar bounds its own)
        detector = LoopDetector() if compiled is None else None
        loop: Loop | None = None
        loop_unit: list[int] = []
        start = 0  # where the answer's ids begin (set once the prompt is tokenized)

        def should_stop(ids, _logits) -> bool:
            # After every sampled token, before the next decode: a cancel set by another
            # thread stops generation at the next step. Without a grammar (whose state could
            # not be carried over) a background generation also gives way to more urgent work
            # mid-answer, and continues after its text later.
            nonlocal gave_way, loop, loop_unit
            if cancel.step() or gave_way or loop is not None:
                return True
            if detector is not None:
                answer = ids[start:]
                loop = detector.check(answer)
                if loop is not None:
                    loop_unit = [int(t) for t in answer[-loop.period :]]
                    return True
            gave_way = compiled is None and cancel.yield_now()
            return gave_way

        stop = StoppingCriteriaList([should_stop])
        pieces: list[str] = []
        finish = "stop"
        if cancel.cancelled:
            return Generation("", prompt_tokens, 0, "cancelled", 0.0)
        tokens = prompt_ids(self.llama, prompt)
        if written:
            tokens += self.llama.tokenize(written.encode("utf-8"), add_bos=False, special=False)
            max_tokens = max(1, min(max_tokens, self.n_ctx - len(tokens)))
        start = len(tokens)
        # The KV cache keeps the longest prefix this prompt shares with the last one (or with a
        # saved state): only the tokens after the first difference are evaluated.
        reused = reuse_prefix(self.llama, tokens, self.snapshots)
        evaluated = len(tokens) - reused  # the last prompt token is evaluated by the sampler
        self.prompt_tokens_evaluated += evaluated
        self.prompt_tokens_reused += reused
        # The prompt is evaluated here batch by batch, so that a cancel also stops a long
        # prompt (minutes for a whole paper on a few cores) and clients see its progress;
        # create_completion then reuses the evaluated prefix and decodes the last token only.
        batch = max(1, int(self.llama.n_batch))
        for done in range(reused, len(tokens) - 1, batch):
            # more urgent work waits (keep what was read, give the model back), or a cancel
            halt = (
                "yielded"
                if done > reused and cancel.yield_now()
                else "cancelled"
                if cancel.cancelled
                else None
            )
            if halt is not None:
                if halt == "yielded" and self.snapshots is not None:
                    self.snapshots.save(self.llama)
                return Generation(
                    "",
                    prompt_tokens,
                    0,
                    halt,
                    time.monotonic() - started,
                    prompt_evaluated=int(self.llama.n_tokens) - reused,
                    prompt_reused=reused,
                )
            self.llama.eval(tokens[done : min(done + batch, len(tokens) - 1)])
            on_event(
                "progress",
                {
                    "stage": "prompt",
                    "done": min(done + batch, len(tokens) - 1),
                    "total": len(tokens),
                },
            )
        stream = self.llama.create_completion(
            tokens,
            max_tokens=max_tokens,
            stream=True,
            grammar=compiled,
            stopping_criteria=stop,
            **kwargs,
        )
        try:
            for chunk in stream:
                choice = chunk["choices"][0]
                if choice["text"]:
                    pieces.append(choice["text"])
                    on_token(choice["text"])
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        finally:
            with contextlib.suppress(Exception):
                stream.close()  # type: ignore[union-attr]
        text = "".join(pieces)
        if cancel.cancelled:
            finish = "cancelled"
        elif gave_way:
            finish = "yielded"
        elif loop is not None:
            finish = "loop"
            unit = self.llama.detokenize(loop_unit).decode("utf-8", errors="ignore")
            text = cut_repeats(text, unit)
        decoded = cancel.tokens if cancel.cancelled else len(pieces)
        if self.snapshots is not None:
            self.snapshots.save(self.llama)  # a long context survives the next other prompt
        return Generation(
            text,
            prompt_tokens,
            decoded,
            finish,
            time.monotonic() - started,
            prompt_evaluated=evaluated,
            prompt_reused=reused,
            loop=None if loop is None else {"period": loop.period, "repeats": loop.repeats},
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.llama.close()


class Tokenizer:
    """The vocabulary alone (no weights), to count a prompt's tokens before queueing it."""

    def __init__(self, path: str) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=path, vocab_only=True, n_ctx=256, verbose=False)

    def count(self, text: str) -> int:
        return len(prompt_ids(self.llama, text))
