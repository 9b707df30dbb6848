"""Loops caught while decoding (models/loops.py): the real SmolLM2 asked to repeat itself is
stopped long before its budget and its result says so; none of the 14 real reviewer outputs
trips the detector, and a real output whose closing block repeats until the limit does."""

from __future__ import annotations

from pathlib import Path

import pytest
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine.completeness import mark
from papercycle.daemon.models.loops import Loop, LoopDetector, cut_repeats
from papercycle.formats import parse_review

OUTPUTS = "data/reviewer-outputs"


@pytest.fixture(scope="module")
def vocabulary(smollm2_gguf: Path):
    from papercycle.daemon.models.llama_backend import Tokenizer

    tokenizer = Tokenizer(str(smollm2_gguf))
    yield tokenizer.llama
    tokenizer.llama.close()


def ids_of(llama, text: str) -> list[int]:
    return llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)


def test_no_real_output_is_taken_for_a_loop(shared_dir: Path, vocabulary) -> None:
    detector = LoopDetector()
    for path in sorted((shared_dir / OUTPUTS).glob("*.txt")):
        ids = ids_of(vocabulary, path.read_text(encoding="utf-8"))
        # as while decoding: every prefix the detector would look at
        hits = [n for n in range(detector.min_span, len(ids) + 1) if detector.check(ids[:n])]
        assert hits == [], f"{path.name}: a loop found at token {hits[:1]}"


def test_a_decision_block_repeated_until_the_limit_is_caught_and_cut(
    shared_dir: Path, vocabulary
) -> None:
    text = (shared_dir / OUTPUTS / "cyclereviewer_format_r1zero.txt").read_text(encoding="utf-8")
    text = text.split("\n", 1)[1]
    block = text[text.rindex("**********") :]  # "**********\n\n## Paper Decision\n\nReject ..."
    looping = text + ("\n\n" + block) * 12
    ids = ids_of(vocabulary, looping)
    detector = LoopDetector()
    found = next(
        (n, loop)
        for n in range(len(ids_of(vocabulary, text)), len(ids) + 1)
        if (loop := detector.check(ids[:n])) is not None
    )
    stopped_at, loop = found
    assert stopped_at < len(ids) - 5 * loop.period  # stopped well before the 12 copies end
    assert loop.repeats >= 3
    unit = vocabulary.detokenize(ids[stopped_at - loop.period : stopped_at]).decode()
    kept = cut_repeats(vocabulary.detokenize(ids[:stopped_at]).decode(), unit)
    assert text.strip() in kept
    review = parse_review(kept, "cyclereviewer")
    assert review.decision is not None and review.decision.verdict == "Reject"


def test_short_and_long_periods() -> None:
    detector = LoopDetector(min_span=96, min_repeats=3, every=1)
    assert detector.find([7] * 95) is None
    assert detector.find([1, 2, 3] + [5, 6] * 48) == Loop(2, 48)
    block = list(range(100, 140))
    assert detector.find(list(range(50)) + block * 2) is None  # twice is not a loop
    assert detector.find(list(range(50)) + block * 3) == Loop(40, 3)
    assert cut_repeats("intro ab ab ab", " ab") == "intro ab"
    assert cut_repeats("no loop here", " ab") == "no loop here"


def test_the_real_model_caught_looping_is_stopped_and_marked(smollm2_gguf: Path) -> None:
    from papercycle.daemon.models.backend import Cancellation
    from papercycle.daemon.models.llama_backend import LlamaBackend
    from papercycle.formats.chat import ChatTemplate

    backend = LlamaBackend(str(smollm2_gguf), 1024, 2, 0, 0)
    messages = [
        {
            "role": "user",
            "content": "Say 'in detail' again and again without stopping: "
            "in detail in detail in detail in detail",
        }
    ]
    prompt = ChatTemplate.from_gguf(smollm2_gguf).render(messages)
    try:
        generation = backend.generate(
            prompt,
            messages,
            {"max_tokens": 400, "temperature": 0.0, "seed": 0},
            None,
            lambda _t: None,
            Cancellation(),
        )
    finally:
        backend.close()
    assert generation.finish == "loop", (generation.finish, generation.text[-200:])
    assert generation.tokens < 200  # stopped long before the budget of 400
    assert generation.loop and generation.loop["repeats"] >= 3
    assert len(generation.text) < 200  # the repeats are cut from the text
    model = ModelConfig(name="smollm2", path=str(smollm2_gguf), n_ctx=1024)
    result = mark({"warnings": []}, generation.info(), model)
    assert result["complete"] is False and result["incomplete"]["cause"] == "loop"
    assert "repeated itself" in result["warnings"][0]
