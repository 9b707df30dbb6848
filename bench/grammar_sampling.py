"""Grammar-constrained decoding of SmolLM2-135M-Instruct, llama-cpp-python's own sampling (the
grammar applied to the whole vocabulary at every token) against ours (models/grammar_sampler.py:
the drawn token checked first), alternating in one run; written to
bench/results/grammar_sampling.json.

Two grammars the daemon uses: a section review (formats/section.py, its quotes forced to be
sentences of the section: every on-save review, whatever the model) of the abstract of
examples/paper, and the AI Scientist form (formats/aiscientist.py, for `structured` models).
Each run decodes `--max-tokens` tokens at the daemon's default sampling (temperature 0.4,
top-p 0.95) and greedily, after the same prompt; timed from the first token to the last.

    .venv/bin/python bench/grammar_sampling.py [--reps 3] [--max-tokens 128] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ABSTRACT = """Long-context language models spend most of their compute on tokens that barely \
influence the output. We propose sparse feedback routing (SFR), which lets each layer skip \
attention for tokens whose routing score falls below a learned threshold. On three \
long-document benchmarks SFR keeps 98% of the dense model's accuracy while reducing attention \
FLOPs by a factor of 3.1. We release code and trained checkpoints."""


def cases() -> dict[str, tuple[str, str]]:
    """name: (prompt, grammar)."""
    from papercycle.formats import aiscientist, section

    def chat(system: str, user: str) -> str:
        return (
            f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            "<|im_start|>assistant\n"
        )

    messages = section.build_messages(ABSTRACT, "Abstract")
    return {
        "section review": (
            chat(messages[0]["content"], messages[1]["content"]),
            section.grammar(sentences=section.quotable_sentences(ABSTRACT)),
        ),
        "AI Scientist form": (
            chat("You review papers.", f"Review this paper as the form asks.\n\n{ABSTRACT}"),
            aiscientist.grammar(),
        ),
    }


def decode_rate(llama, prompt: str, grammar: str, max_tokens: int, temperature: float) -> dict:
    from llama_cpp import LlamaGrammar

    llama.reset()
    compiled = LlamaGrammar.from_string(grammar, verbose=False)
    stream = llama.create_completion(
        prompt, max_tokens=max_tokens, temperature=temperature, top_p=0.95, seed=0,
        grammar=compiled, stream=True,
    )  # fmt: skip
    times = [time.perf_counter() for _ in stream]
    tokens = len(times)
    return {"tokens": tokens, "tok_s": (tokens - 1) / (times[-1] - times[0]) if tokens > 1 else 0}


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from llama_cpp import Llama
    from papercycle.daemon.models.catalogue import find
    from papercycle.daemon.models.grammar_sampler import GrammarCheckedLlama

    path = str(find("smollm2-135m-instruct").path())
    settings = {"model_path": path, "n_ctx": 4096, "n_threads": args.threads, "verbose": False}
    samplers = {
        "llama-cpp-python": Llama(**settings),
        "drawn token first": GrammarCheckedLlama(**settings),
    }
    load_before = os.getloadavg()
    results = []
    for name, (prompt, grammar) in cases().items():
        for temperature in (0.4, 0.0):
            rates: dict[str, list[float]] = {sampler: [] for sampler in samplers}
            for _ in range(args.reps):
                for sampler, llama in samplers.items():  # alternating: the same load on both
                    run = decode_rate(llama, prompt, grammar, args.max_tokens, temperature)
                    rates[sampler].append(run["tok_s"])
            row = {"grammar": name, "temperature": temperature}
            row.update({f"{s} tok/s": round(statistics.median(r), 1) for s, r in rates.items()})
            row["speedup"] = round(
                statistics.median(rates["drawn token first"])
                / statistics.median(rates["llama-cpp-python"]),
                2,
            )
            print(row, flush=True)
            results.append(row)
    out = {
        "model": "SmolLM2-135M-Instruct (Q4_1, the embedded default)",
        "max_tokens": args.max_tokens,
        "reps": args.reps,
        "threads": args.threads,
        "cpu": cpu_name(),
        "load_average_before_after": [load_before, os.getloadavg()],
        "results": results,
    }
    target = REPO / "bench" / "results" / "grammar_sampling.json"
    target.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
