"""KV-cache reuse for the in-process llama.cpp backend.

llama-cpp-python keeps one KV cache per `Llama` object. A prompt that starts like the tokens
already in it needs only its tail evaluated: `reuse_prefix` trims the cache to the longest
common prefix and says how many tokens are left to evaluate. A whole-paper prompt puts the paper
last, in reading order, so an edit late in the paper re-evaluates only from its first changed
token.

Other work on the same model (section reviews, another project's paper) overwrites that cache.
`Snapshots` keeps copies of long contexts (llama.cpp's state bytes and the token ids, without
llama-cpp-python's logits array, which is `n_batch × n_vocab` floats and not needed: the last
prompt token is evaluated again before sampling) within a memory budget, least recently used
out first, and `best` finds the snapshot sharing the longest prefix with a new prompt. No key is
needed: a project's snapshot is the one whose tokens match its prompt.

Snapshots belong to a model file and context size (`Registry` keeps one `Snapshots` per such
identity), so they also survive the model being unloaded and loaded again.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences (vectorised)."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    x = np.asarray(a[:n], dtype=np.int64)
    y = np.asarray(b[:n], dtype=np.int64)
    diff = np.flatnonzero(x != y)
    return int(diff[0]) if diff.size else n


@dataclass
class Snapshot:
    tokens: np.ndarray  # the token ids held in the KV cache
    data: bytes  # llama_state_get_data
    used: float = field(default_factory=time.monotonic)

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.tokens.nbytes


class Snapshots:
    """Saved KV states of one model file, within `budget_bytes`."""

    def __init__(self, budget_bytes: int, min_tokens: int = 256) -> None:
        self.budget_bytes = budget_bytes
        self.min_tokens = min_tokens
        self._items: list[Snapshot] = []
        self._lock = threading.Lock()
        self.saved = 0
        self.restored = 0

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def best(self, tokens: Sequence[int]) -> tuple[Snapshot | None, int]:
        with self._lock:
            best, length = None, 0
            for snap in self._items:
                n = common_prefix(snap.tokens, tokens)
                if n > length:
                    best, length = snap, n
            if best is not None:
                best.used = time.monotonic()
            return best, length

    def save(self, llama: Any) -> Snapshot | None:
        """Copy the model's current KV state (when it holds at least `min_tokens`)."""
        n = int(llama.n_tokens)
        if n < self.min_tokens or self.budget_bytes <= 0:
            return None
        from llama_cpp import llama_cpp

        ctx = llama._ctx.ctx
        size = int(llama_cpp.llama_state_get_size(ctx))
        if size > self.budget_bytes:
            return None
        buffer = (ctypes.c_uint8 * size)()
        written = int(llama_cpp.llama_state_get_data(ctx, buffer, size))
        data = ctypes.string_at(buffer, written)  # one copy of the state
        del buffer
        snap = Snapshot(np.array(llama.input_ids[:n], dtype=np.int32), data)
        with self._lock:
            # An older version of the same context (its prefix is mostly the new one's) goes.
            self._items = [
                s
                for s in self._items
                if common_prefix(s.tokens, snap.tokens) < max(1, len(s.tokens) // 2)
            ]
            self._items.append(snap)
            self._items.sort(key=lambda s: s.used, reverse=True)
            while self._items and sum(s.nbytes for s in self._items) > self.budget_bytes:
                self._items.pop()  # least recently used
            self.saved += 1
        return snap

    def restore(self, llama: Any, snap: Snapshot) -> None:
        from llama_cpp import llama_cpp

        buffer = (ctypes.c_uint8 * len(snap.data)).from_buffer_copy(snap.data)
        if int(llama_cpp.llama_state_set_data(llama._ctx.ctx, buffer, len(snap.data))) == 0:
            raise RuntimeError("llama.cpp refused the saved state")
        n = len(snap.tokens)
        llama.input_ids[:n] = snap.tokens
        llama.n_tokens = n
        llama._requires_eval = True
        snap.used = time.monotonic()
        self.restored += 1

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def status(self) -> dict[str, Any]:
        return {
            "snapshots": len(self._items),
            "bytes": self.nbytes,
            "budget_bytes": self.budget_bytes,
            "saved": self.saved,
            "restored": self.restored,
        }


def reuse_prefix(llama: Any, tokens: Sequence[int], snapshots: Snapshots | None) -> int:
    """Make the model's KV cache hold the longest available prefix of `tokens` (from the live
    cache or a snapshot) and drop the rest; returns that prefix's length. At most
    `len(tokens) - 1`: the last prompt token is always evaluated, for its logits."""
    limit = max(0, len(tokens) - 1)
    live = min(common_prefix(llama.input_ids[: llama.n_tokens], tokens), limit)
    if snapshots is not None:
        snap, saved = snapshots.best(tokens)
        saved = min(saved, limit)
        if snap is not None and saved > live:
            try:
                snapshots.restore(llama, snap)
                live = saved
            except RuntimeError:
                llama.reset()
                live = 0
    if live <= 0:
        llama.reset()
        return 0
    if not llama._ctx.kv_cache_seq_rm(-1, live, -1):
        llama.reset()  # this model's memory cannot be trimmed (recurrent): start over
        return 0
    llama.n_tokens = live
    llama._requires_eval = True
    return live
