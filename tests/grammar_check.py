"""llama.cpp's own grammar parser, for tests.

`LlamaGrammar.from_string` in llama-cpp-python 0.3.x stores the text and parses nothing, so a
test that only builds one passes for any string. `llama_sampler_init_grammar` is where
llama.cpp parses a GBNF grammar (against a model's vocabulary, as generation does); it returns
NULL when the grammar does not parse or names a rule it does not define.
"""

from __future__ import annotations

import functools
from pathlib import Path

import llama_cpp
from llama_cpp._internals import LlamaModel


@functools.lru_cache(maxsize=2)
def _vocabulary_model(gguf: Path) -> LlamaModel:
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True  # the grammar needs the vocabulary, not the weights
    return LlamaModel(path_model=str(gguf), params=params, verbose=False)


def llama_cpp_parses(grammar: str, gguf: Path, root: str = "root") -> bool:
    """Whether llama.cpp's grammar parser accepts `grammar` (a sampler could be built)."""
    model = _vocabulary_model(gguf)
    sampler = llama_cpp.llama_sampler_init_grammar(
        model.vocab, grammar.encode("utf-8"), root.encode("utf-8")
    )
    if not sampler:
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True
