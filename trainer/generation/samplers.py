"""Which engine samples a policy's drafts (SimPO): vLLM or transformers on a GPU, llama.cpp
on a CPU.

`auto` picks vLLM when it is installed (`pip install papercycle[vllm]`) and a GPU is present,
else transformers on a GPU, else llama.cpp (the policy exported to GGUF, in a child process:
the engine the daemon serves with, and the fastest on a CPU). vLLM samples in this process
and is dropped before training; its drafts come from the Hugging Face checkpoint directly.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from papercycle.trainer.config import ConfigError

SAMPLERS = ("auto", "llama.cpp", "transformers", "vllm")


def _gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def resolve_sampler(name: str) -> str:
    """The engine `name` stands for on this machine; one line when it cannot run here."""
    if name not in SAMPLERS:
        raise ConfigError(f"sampler: {name!r} is not one of {', '.join(SAMPLERS)}")
    vllm_installed = importlib.util.find_spec("vllm") is not None
    if name == "auto":
        if _gpu():
            return "vllm" if vllm_installed else "transformers"
        return "llama.cpp"
    if name == "vllm":
        if not vllm_installed:
            raise ConfigError("sampler: vllm is not installed (pip install 'papercycle[vllm]')")
        if not _gpu():
            raise ConfigError("sampler: vllm needs a GPU; use llama.cpp on a CPU")
    return name


def sample_vllm(
    policy: Path,
    conversations: list[list[dict]],
    *,
    n: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int,
    max_model_len: int,
) -> list[list[str]]:
    """`n` drafts per conversation with vLLM's offline engine (`LLM.chat`), chat template
    from the checkpoint's tokenizer, as the trainer formats its examples."""
    import gc

    import torch
    from vllm import LLM, SamplingParams

    llm = LLM(model=str(policy), seed=seed, max_model_len=max_model_len, dtype="bfloat16")
    params = SamplingParams(
        n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed
    )
    outputs = llm.chat(conversations, params, use_tqdm=False)
    drafts = [[choice.text for choice in output.outputs] for output in outputs]
    del llm  # the GPU memory goes back to the trainer
    gc.collect()
    torch.cuda.empty_cache()
    return drafts
