"""KV-cache reuse in the llama.cpp backend: an edit late in the prompt re-evaluates only from
the first changed token; a saved state brings a context back after other work."""

from __future__ import annotations

from papercycle.daemon.models.backend import Cancellation
from papercycle.daemon.models.kv_state import Snapshots, common_prefix
from papercycle.daemon.models.llama_backend import LlamaBackend

SETTINGS = {"max_tokens": 4, "temperature": 0.0, "seed": 0}


def _generate(backend, prompt):
    return backend.generate(prompt, [], SETTINGS, None, lambda _t: None, Cancellation())


def test_common_prefix():
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0
    assert common_prefix([5], [6]) == 0


def test_prefix_reuse_and_snapshots(tiny_gguf):
    snaps = Snapshots(64 * 1024 * 1024, min_tokens=16)
    backend = LlamaBackend(str(tiny_gguf), 1024, 1, 0, 0, snapshots=snaps)
    try:
        paper_a = " ".join(f"alpha{i} sentence about routing." for i in range(40))
        paper_b = " ".join(f"beta{i} other words entirely here." for i in range(40))
        first = _generate(backend, paper_a)
        assert first.prompt_reused == 0
        assert first.prompt_evaluated == first.prompt_tokens
        # the same prompt again: only the last token is evaluated
        again = _generate(backend, paper_a)
        assert again.prompt_evaluated == 1
        # an edit near the end: only the tail
        tail = _generate(backend, paper_a + " One more sentence at the end.")
        assert 1 < tail.prompt_evaluated < 20
        assert tail.prompt_reused >= first.prompt_tokens - 2
        # another project in between, then back: the saved state is restored
        other = _generate(backend, paper_b)
        assert other.prompt_reused < 5
        back = _generate(backend, paper_a + " One more sentence at the end.")
        assert back.prompt_evaluated == 1
        assert snaps.restored >= 1
        assert backend.prompt_tokens_evaluated == sum(
            g.prompt_evaluated for g in (first, again, tail, other, back)
        )
    finally:
        backend.close()
