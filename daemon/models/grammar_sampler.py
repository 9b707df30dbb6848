"""Grammar-constrained sampling that checks the grammar against the drawn token only.

llama-cpp-python puts the grammar in the sampler chain before top-k: every token of a
constrained answer checks the whole vocabulary (49,152 candidates for SmolLM2) against the
grammar. SmolLM2 wrote the AI Scientist form at 48.9 tok/s that way, against 121.7 tok/s
unconstrained, and at 11 tok/s at a 2.5k-token context. llama.cpp's own sampler
(common/sampling.cpp) draws from the unconstrained chain first and asks the grammar about that
one token; only when the grammar rejects it is the whole vocabulary constrained and the token
drawn again. Greedy decoding picks the same tokens either way; sampled, a token the grammar
allows is kept as drawn, which without top-k/top-p truncation is exactly the constrained
distribution.

The hook is `Llama._init_sampler`, private to llama-cpp-python: the version is pinned
(pyproject.toml) and tests/daemon/test_grammar_sampler.py compares both ways on the real model.
"""

from __future__ import annotations

import ctypes
import math

import llama_cpp
import numpy as np
from llama_cpp import Llama, LlamaGrammar
from llama_cpp._internals import LlamaContext, LlamaSampler

# llama_token_data as numpy sees it: the candidates are filled without a Python loop
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])
assert _TOKEN_DATA.itemsize == ctypes.sizeof(llama_cpp.llama_token_data)


class GrammarCheckedSampler:
    """The unconstrained chain, and the grammar asked about the token it draws."""

    def __init__(self, chain: LlamaSampler, llama: Llama, grammar: LlamaGrammar) -> None:
        self.chain = chain
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self.grammar:
            raise ValueError("llama.cpp could not compile the grammar")
        self.n_vocab = llama.n_vocab()
        self.ids = np.arange(self.n_vocab, dtype=np.int32)
        self.candidates = np.zeros(self.n_vocab, dtype=_TOKEN_DATA)
        self.drawn = np.zeros(1, dtype=_TOKEN_DATA)

    def sample(self, ctx: LlamaContext, idx: int = -1) -> int:
        token = self._draw(self._all_candidates(ctx, idx))
        self.drawn[0] = (token, 0.0, 0.0)
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(_as_array(self.drawn)))
        if math.isinf(self.drawn[0]["logit"]):  # rejected: draw from the allowed tokens only
            candidates = self._all_candidates(ctx, idx)
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(candidates))
            token = self._draw(candidates)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        self.chain.accept(token)
        return token

    def _all_candidates(self, ctx: LlamaContext, idx: int) -> llama_cpp.llama_token_data_array:
        logits = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        self.candidates["id"] = self.ids
        self.candidates["logit"] = np.ctypeslib.as_array(logits, shape=(self.n_vocab,))
        self.candidates["p"] = 0.0
        return _as_array(self.candidates)

    def _draw(self, candidates: llama_cpp.llama_token_data_array) -> int:
        llama_cpp.llama_sampler_apply(self.chain.sampler, ctypes.byref(candidates))
        return int(candidates.data[candidates.selected].id)

    def close(self) -> None:
        self.chain.close()
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None

    def __del__(self) -> None:
        self.close()


def _as_array(data: np.ndarray) -> llama_cpp.llama_token_data_array:
    return llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(llama_cpp.llama_token_data_p),
        size=len(data),
        selected=-1,
        sorted=False,
    )


class GrammarCheckedLlama(Llama):
    """llama-cpp-python's Llama, whose grammar checks the drawn token first."""

    def _init_sampler(self, *, grammar: LlamaGrammar | None = None, **settings):
        chain = super()._init_sampler(grammar=None, **settings)
        return chain if grammar is None else GrammarCheckedSampler(chain, self, grammar)
