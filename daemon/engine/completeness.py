"""Whether a result holds the model's whole answer, and if not, why and what to raise.

The generation's finish reason travels with its text (Generation.info(), kept in the cache
with the output), so a cut answer stays marked as cut whether it was just generated or read
back from the cache: a result is never served as complete when its answer was not.
"""

from __future__ import annotations

from typing import Any

from papercycle.daemon.config import ModelConfig

# finish reasons of answers that stopped before the model ended them: the token budget or
# the context ("length"), or a loop caught while decoding ("loop": models/loops.py)
INCOMPLETE = ("length", "loop")


def incompleteness(
    info: dict[str, Any] | None, model: ModelConfig, section: bool = False
) -> dict[str, Any] | None:
    """None for a whole answer; else the reason, the numbers and what to raise (`section`: the
    answer to a section review, which reviewing by section would not help)."""
    finish = (info or {}).get("finish")
    if finish not in INCOMPLETE:
        return None
    tokens = int(info.get("tokens") or 0)
    prompt = int(info.get("prompt_tokens") or 0)
    loop = info.get("loop") or {}
    if finish == "loop":
        return {
            "reason": finish,
            "cause": "loop",
            "tokens": tokens,
            "prompt_tokens": prompt or None,
            "n_ctx": model.n_ctx,
            "loop": loop,
            "message": f"review incomplete: model {model.name!r} repeated itself (a block of "
            f"{loop.get('period', '?')} tokens, {loop.get('repeats', '?')} times) and was "
            f"stopped after {tokens} tokens; what it wrote before the loop is kept. Use a "
            "stronger model, or raise repeat_penalty ([models.sampling])",
        }
    if prompt and prompt + tokens >= model.n_ctx:
        cause = "context"
        advice = (
            f"the context of model {model.name!r} is full ({prompt} prompt + {tokens} answer "
            f"tokens = n_ctx {model.n_ctx}): raise n_ctx, or "
            + ("split the section" if section else "review by section")
        )
    else:
        cause = "max_tokens"
        advice = (
            f"the answer reached its budget of {tokens} tokens (model {model.name!r}): raise "
            "max_tokens ([models.sampling] in the configuration)"
        )
    return {
        "reason": finish,
        "cause": cause,
        "tokens": tokens,
        "prompt_tokens": prompt or None,
        "n_ctx": model.n_ctx,
        "message": f"review incomplete: the model was cut off after {tokens} tokens; {advice}",
    }


def mark(result: dict[str, Any], info: dict[str, Any] | None, model: ModelConfig) -> dict:
    """`result` with `complete` set and, when cut, `incomplete` and a first warning saying so."""
    cut = incompleteness(info, model, section=result.get("kind") == "section")
    result["complete"] = cut is None
    if cut is not None:
        result["incomplete"] = cut
        result["warnings"] = [cut["message"], *result.get("warnings", [])]
    return result
