"""Every protocol answer as a typed value: one dataclass per result PROTOCOL.md documents,
the counterpart of requests.py. A handler (handlers/) returns one of these; the server turns
it into the result message's `data` in one place, `wire()`, so a field's name is its key on
the wire (tests/daemon/test_daemon_results.py holds them to PROTOCOL.md's tables).

Two field markers (dataclass field metadata) say how a field goes on the wire:
- `ABSENT_WHEN_NONE`: the key is left out when the value is None (an answer that has it only
  sometimes: `incomplete` only when the answer was cut, `section` only for section results).
- `SPREAD`: the field's dict is merged into the answer (keys that vary with the model or a
  review mode and have no field of their own; the field's comment says which).

The big nested parts the engine builds (a parsed review, anchored comments, findings) are
JSON already, built by the types that own them (formats' `Review.to_dict()`, the anchorer's
`Anchor.to_dict()`, the project model's `range_dict()`); a field holding one says so and is
typed `JSON`. The engine's results reach a handler as dicts (engine/ knows no protocol) and
become typed here with `from_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

JSON = Any  # a JSON value built elsewhere, passed through as it is (the field says whose)
ABSENT_WHEN_NONE = {"absent_when_none": True}
SPREAD = {"spread": True}


def wire(result: Any) -> Any:
    """The JSON form of a result: dataclasses become objects keyed by their field names
    (following the markers above), lists and dicts are walked, anything else is as it is."""
    if is_dataclass(result) and not isinstance(result, type):
        out: dict[str, Any] = {}
        for item in fields(result):
            value = getattr(result, item.name)
            if item.metadata.get("spread"):
                out.update(wire(value))
            elif value is not None or not item.metadata.get("absent_when_none"):
                out[item.name] = wire(value)
        return out
    if isinstance(result, dict):
        return {key: wire(value) for key, value in result.items()}
    if isinstance(result, list | tuple):
        return [wire(value) for value in result]
    return result


def keys(cls: type) -> set[str]:
    """The keys a result type can put on the wire (its spread fields' keys aside)."""
    return {item.name for item in fields(cls) if not item.metadata.get("spread")}


class FromEngine:
    """`from_engine(data)`: an engine's result dict as this type; keys without a field go
    into the `more` field (spread back on the wire), so nothing the engine says is lost."""

    @classmethod
    def from_engine(cls, data: dict[str, Any]):
        names = keys(cls)  # type: ignore[arg-type]
        known = {key: value for key, value in data.items() if key in names}
        more = {key: value for key, value in data.items() if key not in names}
        return cls(**known, more=more)  # type: ignore[call-arg]


# -- the daemon itself -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Hello:
    protocol: int  # the protocol version the daemon speaks (protocol.VERSION)
    version: str  # the papercycle package's version
    pid: int
    endpoint: str  # the socket the daemon is bound to


@dataclass(frozen=True, kw_only=True)
class Pong:
    pong: float  # the daemon's time (seconds since the epoch): a heartbeat's answer


@dataclass(frozen=True, kw_only=True)
class Cancelled:
    cancelled: bool  # whether the target request was found (it answers error `cancelled`)


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    path: str  # the cache database's file
    entries: int
    hits: int  # answers served from the cache, all entries together
    data_bytes: int  # outputs and their generation info
    disk_bytes: int  # the database file and its write-ahead log
    by_model: dict[str, int]  # entries per model name


@dataclass(frozen=True, kw_only=True)
class Status:
    version: str
    protocol: int
    pid: int
    uptime: float  # seconds
    endpoint: str
    config: str  # the configuration file's path
    models: list[JSON]  # the loaded models, as models/registry.py's `status()` describes them
    configured: list[str]  # the configured models' names
    queue: JSON  # the scheduler's `status()`: running, queued, remote, max_queue, completed
    clients: int  # clients seen (heartbeats)
    requests: int
    bad_messages: int
    memory_budget_mb: int
    cache: CacheStats
    prompt_tokens_evaluated: int  # since the daemon started, every model
    kv_states: list[JSON]  # saved KV states per model file (models/kv_state.py)
    projects: list[JSON]  # the open projects with their counters (sessions/registry.py)


@dataclass(frozen=True, kw_only=True)
class Stopping:
    stopping: bool = True  # the daemon stops once this is answered


@dataclass(frozen=True, kw_only=True)
class CacheCleared:
    removed: int  # entries removed


@dataclass(frozen=True, kw_only=True)
class ConfiguredModel:
    # the model's configuration as `[[models]]` writes it (config.ModelConfig.to_toml)
    settings: dict[str, Any] = field(metadata=SPREAD)
    loaded: bool
    ok: bool  # whether its file (or endpoint) checks out (models/registry.check_model)
    error: str | None = field(default=None, metadata=ABSENT_WHEN_NONE)  # why not, when not ok
    # a fine-tuned reviewer whose GGUF says what it was trained for: {"format", "modes"}
    # (models/trained_for.py), and a line when it is served in another format
    trained_for: dict[str, Any] | None = field(default=None, metadata=ABSENT_WHEN_NONE)
    warning: str | None = field(default=None, metadata=ABSENT_WHEN_NONE)


@dataclass(frozen=True, kw_only=True)
class ModelsList:
    models: list[ConfiguredModel]


# -- reviews -------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReviewResult(FromEngine):
    """`review.paper`, `review.section` (and each section of `review.sections`)."""

    kind: str  # "paper" or "section"
    model: str
    format: str  # the model's review format (formats/)
    mode: str | None = field(default=None, metadata=ABSENT_WHEN_NONE)  # whole-paper reviews
    # the mode asked for when the model has no such mode, and the warning saying so
    mode_asked: str | None = field(default=None, metadata=ABSENT_WHEN_NONE)
    mode_note: str | None = field(default=None, metadata=ABSENT_WHEN_NONE)
    section: JSON = field(default=None, metadata=ABSENT_WHEN_NONE)  # title, number, name, range
    scores: dict[str, float]
    decision: str | None  # "Accept", "Reject"; null for section reviews
    comments: list[JSON]  # engine/review.py's comments, each with its Anchor.to_dict()
    hidden: list[JSON]  # hidden-text findings (engine/review.hidden_findings)
    simulated: list[JSON] = field(default_factory=list)  # simulated-result markers
    removed_instructions: list[str]
    warnings: list[str]
    complete: bool
    incomplete: JSON = field(default=None, metadata=ABSENT_WHEN_NONE)  # engine/completeness.py
    review: JSON  # the parsed review: formats' Review / SectionReview `to_dict()`, free-form
    cached: bool
    generation: JSON  # the generation's info (tokens, prompt_tokens, seconds, finish, ...)
    best: JSON = field(default=None, metadata=ABSENT_WHEN_NONE)  # Best Mode's turn 1, answers
    aiscientist: JSON = field(default=None, metadata=ABSENT_WHEN_NONE)  # the AI Scientist's run
    more: dict[str, Any] = field(default_factory=dict, metadata=SPREAD)  # none known today


@dataclass(frozen=True, kw_only=True)
class SkippedSection:
    """A section whose text does not fit the model's context (`review.sections`)."""

    section: str  # its shown name
    message: str
    too_long: dict[str, Any] = field(metadata=SPREAD)  # tokens, prompt_tokens, n_ctx


@dataclass(frozen=True, kw_only=True)
class SectionsResult:
    """`review.sections` (and `review.paper` mode `sections`): every section's review."""

    kind: str = "sections"
    skipped: list[SkippedSection]
    model: str
    format: str = "section"
    sections: list[ReviewResult]  # in reading order
    scores: dict[str, float] = field(default_factory=dict)  # none: see each section's
    decision: None = None
    comments: list[JSON]  # every section's, in reading order
    hidden: list[JSON]
    simulated: list[JSON]
    removed_instructions: list[str]
    warnings: list[str]
    complete: bool
    cached: bool


# -- the co-author -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Generated(FromEngine):
    """What every co-author answer has: its model, and whether the answer is whole."""

    model: str
    complete: bool
    incomplete: JSON = field(default=None, metadata=ABSENT_WHEN_NONE)  # engine/completeness.py
    cached: bool
    generation: JSON  # the generation's info


@dataclass(frozen=True, kw_only=True)
class DraftResult(Generated):
    """`draft.section` (engine/draft.py): one edit to apply."""

    kind: str = "draft"
    draft_kind: str  # what was written: introduction, related-work, continue, rewrite, ...
    section: JSON  # the section drafted: title, number, name, range
    text: str  # the LaTeX to put at `range`, with its surrounding blank lines
    draft: str  # the same without them
    mode: str  # "insert" or "replace"
    range: JSON  # where: the project model's range_dict with the file's `sha256`
    citations: JSON  # kept, removed, marked citation keys (engine/draft's report)
    simulated: JSON  # markers, results: the simulated-result markers in the text
    warnings: list[str]
    more: dict[str, Any] = field(default_factory=dict, metadata=SPREAD)  # none known today


@dataclass(frozen=True, kw_only=True)
class PaperDraftResult(Generated):
    """`draft.paper` (engine/paper.py): a paper drafted from a .bib file."""

    kind: str = "paper-draft"
    format: str  # cycleresearcher
    output: str  # the model's raw text (turns 1-3)
    paper: JSON  # formats/cycleresearcher's parsed paper `to_dict()`
    warnings: list[str]
    results_output: str | None  # turn 5's raw text, when the authors' results were sent
    measured: JSON  # the authors' results as sent, or null
    main_tex: str  # the compilable file, markers in
    citations: JSON  # engine/paper.compose's report
    simulated_markers: int
    more: dict[str, Any] = field(default_factory=dict, metadata=SPREAD)  # none known today


@dataclass(frozen=True, kw_only=True)
class PlanResult(Generated):
    """`plan` (engine/plan.py)."""

    kind: str = "plan"
    text: str
    sections: JSON  # the plan's sections by heading (formats/plan.py)
    warnings: list[str]
    more: dict[str, Any] = field(default_factory=dict, metadata=SPREAD)  # none known today


@dataclass(frozen=True, kw_only=True)
class RubricResult(Generated):
    """`rubric.extract` (engine/plan.py)."""

    kind: str = "rubric"
    goals: JSON  # [{"goal", "rubric": [check, ...]}] (formats/rubric.rubrics_to_json)
    warnings: list[str]
    more: dict[str, Any] = field(default_factory=dict, metadata=SPREAD)  # none known today


@dataclass(frozen=True, kw_only=True)
class GradeResult:
    """`rubric.grade`: every goal graded, one generation each (engine/plan.combine_grades)."""

    kind: str = "grade"
    score: float | None  # the fraction of graded items satisfied; null when none was graded
    satisfied: int
    graded: int
    goals: list[JSON]  # goal, score, items (item, satisfied, reason), warnings, and each
    # goal's generation fields (complete, cached, generation)
    model: str
    complete: bool  # false when any goal's answer was cut


# -- open projects (sessions/) ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProjectStatus:
    """`project.open`, `project.status`: sessions/session.py's `status()`."""

    project: str  # its id: the root file's path
    root: str
    revision: int
    versions: dict[str, Any]  # the editor's version of each open buffer
    cursor: str | None  # the section id under the cursor
    sections: list[JSON]  # id, key, name, words, reviewed, comments
    errors: JSON  # the last failure per section id, `paper` or `project`
    warnings: list[str]
    pending: list[str]  # section ids waiting for their review
    paper: JSON  # reviewed_revision, generation, cached
    paper_running: bool
    idle: bool
    subscribers: int
    watch: JSON  # debounce, events, batches
    counters: dict[str, int]


@dataclass(frozen=True, kw_only=True)
class BufferApplied:
    """`project.buffer`: what the update changed (section ids)."""

    revision: int
    changed: list[str]
    added: list[str]
    removed: list[str]
    moved: list[str]


@dataclass(frozen=True, kw_only=True)
class CursorMoved:
    cursor: str | None  # the section id under it (reviewed first from now on)


@dataclass(frozen=True, kw_only=True)
class ReviewQueued:
    queued: bool = True  # a whole-paper review now (background priority)
    revision: int  # the revision it reviews


@dataclass(frozen=True, kw_only=True)
class Closed:
    """`project.close` (whether the last client holding it let it go) and `subscribe` (true:
    the project closed, which ends the subscription)."""

    closed: bool


# The result type of each request type (`review.paper` in mode `sections` answers a
# SectionsResult, as `review.sections` does), for the tests and for readers.
RESULTS: dict[str, type] = {
    "hello": Hello,
    "ping": Pong,
    "status": Status,
    "review.paper": ReviewResult,
    "review.section": ReviewResult,
    "review.sections": SectionsResult,
    "draft.section": DraftResult,
    "draft.paper": PaperDraftResult,
    "plan": PlanResult,
    "rubric.extract": RubricResult,
    "rubric.grade": GradeResult,
    "cancel": Cancelled,
    "models.list": ModelsList,
    "cache.stats": CacheStats,
    "cache.clear": CacheCleared,
    "shutdown": Stopping,
    "project.open": ProjectStatus,
    "project.buffer": BufferApplied,
    "project.cursor": CursorMoved,
    "project.review": ReviewQueued,
    "project.status": ProjectStatus,
    "project.close": Closed,
    "subscribe": Closed,
}
