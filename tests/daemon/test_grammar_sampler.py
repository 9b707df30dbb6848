"""The grammar checked against the drawn token first (models/grammar_sampler.py), on the real
SmolLM2: greedy answers are the same tokens as llama-cpp-python's own constrained sampling, and
sampled answers that the unconstrained model would never write still follow the grammar."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from papercycle.formats import aiscientist

PROMPT = "<|im_start|>user\nWrite a short poem about the sea.<|im_end|>\n<|im_start|>assistant\n"
# a poem is asked for: nearly every token the model draws is one this grammar rejects
VERDICT = 'root ::= ("accept" | "reject") " " [0-9] [0-9] "\\n"'


@pytest.fixture(scope="module")
def models(smollm2_gguf: Path):
    from llama_cpp import Llama
    from papercycle.daemon.models.grammar_sampler import GrammarCheckedLlama

    settings = {"model_path": str(smollm2_gguf), "n_ctx": 1024, "n_threads": 2, "verbose": False}
    plain, checked = Llama(**settings), GrammarCheckedLlama(**settings)
    yield plain, checked
    plain.close()
    checked.close()


def complete(llama, grammar: str, **settings) -> dict:
    from llama_cpp import LlamaGrammar

    compiled = LlamaGrammar.from_string(grammar, verbose=False)
    return llama.create_completion(PROMPT, grammar=compiled, **settings)["choices"][0]


def test_greedy_answers_are_the_same_tokens(models) -> None:
    plain, checked = models
    form = aiscientist.grammar()
    settings = {"max_tokens": 48, "temperature": 0.0}
    assert complete(checked, form, **settings)["text"] == complete(plain, form, **settings)["text"]
    assert complete(checked, VERDICT, **settings) == complete(plain, VERDICT, **settings)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_rejected_draws_are_drawn_again_from_what_the_grammar_allows(models, seed) -> None:
    _, checked = models
    answer = complete(checked, VERDICT, max_tokens=16, temperature=1.0, seed=seed)
    assert re.fullmatch(r"(accept|reject) \d\d\n", answer["text"]), answer
    assert answer["finish_reason"] == "stop"


def test_without_a_grammar_the_chain_is_llama_cpp_pythons(models) -> None:
    from llama_cpp._internals import LlamaSampler

    _, checked = models
    assert type(checked._init_sampler(grammar=None)) is LlamaSampler
