"""Review formats: the serving contract between reviewer models, the daemon and the trainer.

One module per model family, each holding its prompt builder (versioned), parser and
renderer: `cyclereviewer`, `deepreviewer`, `aiscientist`, `openreviewer`, and `section` (our anchored
section review, with its JSON schema and GBNF grammar). Shared pieces: `review` (the typed
model), `parse` (one entry point with auto-detection), `markdown` and `jsontext` (reading
helpers), `gbnf` (grammar builder), `chat` (messages, prompt versions, GGUF chat templates).
"""

from papercycle.formats.parse import detect_format, parse_review
from papercycle.formats.review import (
    Decision,
    MetaReview,
    Review,
    ReviewerReport,
    Score,
    SectionComment,
    SectionReview,
)

__all__ = [
    "Decision",
    "MetaReview",
    "Review",
    "ReviewerReport",
    "Score",
    "SectionComment",
    "SectionReview",
    "detect_format",
    "parse_review",
]
