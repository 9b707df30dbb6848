"""One generation as the daemon's queue, cache and backends see it: everything that decides
its output (model, messages, rendered prompt, grammar, sampling settings, prompt version) and
the cache key made of them. The engine prepares these; the scheduler runs them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from papercycle.daemon.config import ModelConfig
from papercycle.formats.chat import Message

if TYPE_CHECKING:  # a section's slice of the project, for section reviews and drafts
    from papercycle.latex.model import SectionSlice


@dataclass
class GenerationRequest:
    """One generation: everything that decides its output, and where its result goes."""

    kind: str  # "paper" | "section"
    model: ModelConfig
    mode: str
    messages: list[Message]
    prompt: str
    grammar: str | None
    settings: dict[str, Any]
    prompt_version: str
    key: str
    prompt_tokens: int | None = None
    section: SectionSlice | None = None
    removed_instructions: list[str] = field(default_factory=list)
    mode_asked: str | None = None  # a mode the format does not have, mapped to `mode`
