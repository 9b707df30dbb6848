"""KV-cache reuse in the llama.cpp backend: an edit late in the prompt re-evaluates only from
the first changed token; a saved state brings a context back after other work."""

from __future__ import annotations

from papercycle.daemon.models.backend import Cancellation
from papercycle.daemon.models.kv_state import Snapshots, common_prefix
from papercycle.daemon.models.llama_backend import LlamaBackend
from waiting import eventually

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


def test_a_background_answer_gives_way_mid_decode_and_continues(tiny_gguf):
    """Without a grammar, a generation stops between two decoded tokens when more urgent work
    waits (finish "yielded", the text so far), and continues after that text later: the
    answer is the text before plus the text after, within the same token budget."""
    backend = LlamaBackend(str(tiny_gguf), 1024, 1, 0, 0, snapshots=Snapshots(2**26, 16))
    settings = {"max_tokens": 24, "temperature": 0.0, "seed": 0}
    prompt = " ".join(f"gamma{i} words about sparse routing." for i in range(30))
    try:
        whole = backend.generate(prompt, [], settings, None, lambda _t: None, Cancellation())
        assert whole.finish == "length", "the tiny model ends this answer early: pick a prompt"
        cancel = Cancellation()
        cancel.should_yield = lambda: cancel.tokens >= 8
        seen: list[str] = []
        first = backend.generate(prompt, [], settings, None, seen.append, cancel)
        assert first.finish == "yielded" and 0 < first.tokens < 24
        assert first.text == "".join(seen) and whole.text.startswith(first.text)
        rest_settings = {**settings, "max_tokens": 24 - first.tokens}
        rest = backend.generate(
            prompt, [], rest_settings, None, seen.append, Cancellation(), written=first.text
        )
        assert rest.finish == "length" and rest.text
        assert rest.prompt_evaluated < 10, "the prompt and the text so far come from the KV cache"
        assert first.text + rest.text == "".join(seen)
        # with a grammar there is no giving way mid-answer (its state cannot be carried over)
        grammar = 'root ::= "a" [a-z ]{20,40}'
        cancel = Cancellation()
        cancel.should_yield = lambda: cancel.tokens >= 3
        bound = backend.generate(prompt, [], settings, grammar, lambda _t: None, cancel)
        assert bound.finish != "yielded"
    finally:
        backend.close()


async def test_the_scheduler_runs_urgent_work_inside_a_background_answer(tiny_gguf):
    """A whole-paper review decoding at background priority gives way to a section review the
    moment it is queued, then finishes: one answer, as long as asked, streamed without a gap."""
    import asyncio
    from types import SimpleNamespace

    from papercycle.daemon.scheduler import PRIORITIES, Scheduler

    backend = LlamaBackend(str(tiny_gguf), 1024, 1, 0, 0, snapshots=Snapshots(2**26, 16))
    registry = SimpleNamespace(
        acquire=lambda model, on_event: SimpleNamespace(backend=backend),
        release=lambda entry: None,
    )
    model = SimpleNamespace(name="tiny", backend="llama")
    paper_prompt = " ".join(f"delta{i} a whole paper about routing." for i in range(30))

    def request(prompt: str, max_tokens: int):
        # sampled, not greedy: a greedy random-weight model repeats itself and is stopped
        # as a loop before it reaches the budget this test needs
        settings = {"max_tokens": max_tokens, "temperature": 1.0, "seed": 0}
        return SimpleNamespace(
            key=prompt, prompt=prompt, messages=[], settings=settings, grammar=None,
            model=model, kind="paper", section=None,
        )  # fmt: skip

    alone = backend.generate(
        paper_prompt, [], request("", 200).settings, None, lambda _t: None, Cancellation()
    )
    assert alone.finish == "length", "the tiny model ends this answer early: pick a prompt"
    scheduler = Scheduler(registry, 16)
    runner = asyncio.create_task(scheduler.run())
    streamed: list[str] = []
    order: list[str] = []

    def paper_events(kind: str, data: dict) -> None:
        if kind == "token":
            streamed.append(data["text"])
        elif kind == "queued" and data.get("yielded"):
            order.append("paper gave way")

    try:
        paper = scheduler.submit(
            request(paper_prompt, 200), PRIORITIES["background"], "a", paper_events
        )
        await eventually(
            lambda: paper.tokens >= 3, "the paper's third token", lambda: paper.tokens, 60, 0.005
        )
        section = scheduler.submit(
            request("Section: Method. The gate picks one expert.", 4), PRIORITIES["save"], "b",
            lambda *_: None,
        )  # fmt: skip
        await asyncio.wait_for(section.done, 60)
        order.append("paper done" if paper.done.done() else "section done")
        result = await asyncio.wait_for(paper.done, 60)
        assert order == ["paper gave way", "section done"], order
        assert paper.yields >= 1 and result.finish == "length"
        assert result.text == "".join(streamed) and result.tokens == 200
    finally:
        scheduler.cancel_all("test over")
        runner.cancel()
        scheduler.shutdown()
        backend.close()
