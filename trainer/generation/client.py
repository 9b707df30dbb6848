"""Talk to a llama.cpp generation worker (`worker.py`) running in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from papercycle.formats.chat import Message


class GenerationError(RuntimeError):
    pass


class LlamaGenerator:
    """Generate from a GGUF in a separate process; use as a context manager."""

    def __init__(self, gguf: Path, n_ctx: int = 2048):
        self.gguf = Path(gguf)
        if not self.gguf.is_file():
            raise GenerationError(f"{gguf}: no such GGUF file")
        self.n_ctx = n_ctx
        self.process: subprocess.Popen | None = None
        self.tokens_generated = 0
        self.seconds = 0.0

    def __enter__(self) -> LlamaGenerator:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "papercycle.trainer.generation.worker", str(self.gguf),
             str(self.n_ctx)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )  # fmt: skip
        self._read()  # {"ready": true}
        return self

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.stdin.close()  # type: ignore[union-attr]
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def _read(self) -> dict:
        assert self.process is not None and self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            error = self.process.stderr.read() if self.process.stderr else ""  # type: ignore[union-attr]
            tail = [x for x in error.strip().splitlines() if x.strip()][-1:] or ["no output"]
            raise GenerationError(f"llama.cpp worker for {self.gguf.name} exited: {tail[0]}")
        answer = json.loads(line)
        if "error" in answer:
            raise GenerationError(f"{self.gguf.name}: {answer['error']}")
        return answer

    def generate(
        self,
        messages: Sequence[Message],
        *,
        n: int = 1,
        temperature: float = 0.4,
        top_p: float = 0.95,
        max_tokens: int = 128,
        seed: int = 0,
        grammar: str | None = None,
        prefill: str = "",
    ) -> list[str]:
        if self.process is None:
            raise GenerationError("the generator is not started (use it in a `with` block)")
        request = {
            "messages": list(messages), "n": n, "temperature": temperature, "top_p": top_p,
            "max_tokens": max_tokens, "seed": seed, "grammar": grammar, "prefill": prefill,
        }  # fmt: skip
        started = time.monotonic()
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")  # type: ignore[union-attr]
        self.process.stdin.flush()  # type: ignore[union-attr]
        answer = self._read()
        self.seconds += time.monotonic() - started
        self.tokens_generated += answer["completion_tokens"]
        return answer["texts"]
