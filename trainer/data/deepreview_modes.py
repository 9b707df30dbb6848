"""DeepReviewer Standard and Best Mode targets, from records that carry the model's reasoning.

Fast Mode targets are rendered from human reviews (targets.py). Standard and Best Mode hold
what human reviews do not: simulated reviewers followed by a verification (Standard), and
before them three search questions, an analysis, then the retrieved answers as a user turn
(Best, two assistant turns). They are read from data that carries them: DeepReview-13K's
`inputs` (the chat: system prompt with the mode, the paper; for Best also the first output
and the answers) with the outputs, flat (`output`, `step1_output`, `step2_output`) or in the
authors' evaluation layout (`pred_standard_mode` / `pred_best_mode`, review-formats.md §2.7).

A record is kept only when its turns hold the mode's blocks and the final review parses with
the daemon's parser; otherwise it is refused in one line naming the record and what is missing.
"""

from __future__ import annotations

from typing import Any

from papercycle.formats import deepreviewer
from papercycle.trainer.data.records import DataError, maybe_json

TRAINED_MODES = ("standard", "best")
# the blocks each assistant turn must hold, in order of the turns
REQUIRED_BLOCKS = {
    "standard": (("simreviewers", "verification"),),
    "best": (("questions", "analysis"), ("simreviewers", "verification")),
}


def _fields(record: dict[str, Any], mode: str) -> dict[str, Any]:
    nested = maybe_json(record.get(f"pred_{mode}_mode"))
    return {**record, **nested} if isinstance(nested, dict) else record


def _messages(value: Any, paper_id: str) -> list[dict[str, str]]:
    value = maybe_json(value)
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise DataError(f"record {paper_id!r}: inputs is not a list of chat messages")
    roles = {"human": "user", "gpt": "assistant"}
    return [
        {
            "role": roles.get(m.get("role") or m.get("from"), m.get("role") or m.get("from")),
            "content": m.get("content") or m.get("value") or "",
        }
        for m in value
    ]


def mode_example(record: dict[str, Any], mode: str) -> dict:
    """The chat example of `record` for `mode` ("standard" or "best")."""
    if mode not in TRAINED_MODES:
        raise ValueError(f"no reasoning targets for mode {mode!r} (one of {TRAINED_MODES})")
    paper_id = str(record.get("id") or record.get("paper_id") or record.get("title"))
    fields = _fields(record, mode)
    if not fields.get("inputs"):
        raise DataError(f"record {paper_id!r}: no inputs (the {mode} mode chat) to build from")
    messages = _messages(fields["inputs"], paper_id)
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    if f"thinking mode is {mode.capitalize()} Mode" not in system:
        raise DataError(f"record {paper_id!r}: its system prompt is not DeepReviewer's {mode} mode")
    users = [m for m in messages if m["role"] == "user"]
    if not users or not users[0]["content"].strip():
        raise DataError(f"record {paper_id!r}: inputs hold no paper (empty user turn)")
    outputs = [m["content"] for m in messages if m["role"] == "assistant"]
    # outputs kept apart from the chat fill the turns the chat does not hold
    for turn, key in enumerate(("step1_output", "step2_output") if mode == "best" else ("output",)):
        if turn == len(outputs) and fields.get(key):
            outputs.append(fields[key])
    needed = REQUIRED_BLOCKS[mode]
    if len(outputs) < len(needed) or (mode == "best" and len(users) < 2):
        raise DataError(
            f"record {paper_id!r}: a {mode} mode example needs {len(needed)} model output(s)"
            + (" and the answers turn" if mode == "best" else "")
            + f"; found {len(outputs)}"
        )
    for turn, (text, blocks) in enumerate(zip(outputs, needed, strict=False), 1):
        found = {b.name for b in deepreviewer.find_blocks(text) if b.closed}
        missing = [b for b in blocks if b not in found]
        if missing:
            raise DataError(
                f"record {paper_id!r}: output {turn} lacks \\boxed_{missing[0]}{{...}} "
                f"(required in {mode} mode)"
            )
    review = deepreviewer.parse(outputs[len(needed) - 1])
    if review.meta is None or review.meta.scores().get("rating") is None:
        raise DataError(f"record {paper_id!r}: the final review has no readable rating")
    chat = [{"role": "system", "content": system}, {"role": "user", "content": users[0]["content"]}]
    chat.append({"role": "assistant", "content": outputs[0]})
    if mode == "best":
        chat += [users[1], {"role": "assistant", "content": outputs[1]}]
    return {"id": paper_id, "messages": chat, "mode": mode}
