"""Every protocol request as a typed value: one dataclass per request type (PROTOCOL.md says
what each one does), built from a message's params once request_fields.py has checked their
types. A handler (handlers/) receives one of these, never the raw params; a field's default
is the request's default (a request's priority among them).

Params a request does not declare are ignored (newer clients may send more); a few fields are
read further by the code that knows them (`reflections`, `ensemble`, `few_shot`:
engine/aiscientist_run.py; `rubric`: formats/rubric.py), which names the field when it is
wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

# A file's text by its path (buffers win over the disk); for project.open also
# {"text": ..., "version": ...}, the editor's version echoed in events.
Buffers = dict[str, Any]
Cursor = dict[str, Any]  # {path, line, character} or {path, offset}
Section = int | str | dict[str, Any]  # a number, a title or {path, offset}


@dataclass(frozen=True, kw_only=True)
class Hello:
    """The daemon's protocol version, package version, pid and endpoint."""


@dataclass(frozen=True, kw_only=True)
class Ping:
    """A heartbeat, answered inline (never queued)."""


@dataclass(frozen=True, kw_only=True)
class Status:
    """Models, queue, clients, cache, open projects."""


@dataclass(frozen=True, kw_only=True)
class Shutdown:
    """Stop the daemon after answering."""


@dataclass(frozen=True, kw_only=True)
class Cancel:
    """Cancel the request with id `target` sent by the same client."""

    target: str


@dataclass(frozen=True, kw_only=True)
class ModelsList:
    """The configured models, whether each is loaded and usable."""


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    """The review cache's size."""


@dataclass(frozen=True, kw_only=True)
class CacheClear:
    """Empty the review cache."""


@dataclass(frozen=True, kw_only=True)
class Review:
    """What every review request has: the project (a .tex file or directory) with the
    editor's buffers, the model (null: the configured reviewer) and the mode."""

    path: str
    buffers: Buffers | None = None
    model: str | None = None
    mode: str = "standard"
    cursor: Cursor | None = None  # every section's review: the one under it first
    # the AI Scientist's scheme, whole-paper reviews only (engine/aiscientist_run.py)
    reflections: Any = None
    ensemble: Any = None
    few_shot: Any = None

    @property
    def aiscientist_params(self) -> dict[str, Any]:
        return {
            "reflections": self.reflections,
            "ensemble": self.ensemble,
            "few_shot": self.few_shot,
        }


@dataclass(frozen=True, kw_only=True)
class ReviewPaper(Review):
    """A whole-paper review (mode fast, standard, best, or `sections`: every section)."""

    priority: str = "background"


@dataclass(frozen=True, kw_only=True)
class ReviewSection(Review):
    """One section's review."""

    section: Section
    priority: str = "save"


@dataclass(frozen=True, kw_only=True)
class ReviewSections(Review):
    """Every section's review, the one under `cursor` first; a `partial` event per section."""

    priority: str = "background"


@dataclass(frozen=True, kw_only=True)
class DraftSection:
    """The co-author's draft of a section (`kind`: what to write; null: from the section)."""

    path: str
    section: Section | None = None
    buffers: Buffers | None = None
    model: str | None = None
    kind: str | None = None
    instruction: str | None = None
    comment: str | None = None  # a reviewer comment the draft answers
    citations: str | None = None  # how citations of entries not in the .bib are treated
    priority: str = "interactive"


@dataclass(frozen=True, kw_only=True)
class DraftPaper:
    """A whole paper drafted from a .bib file, with the authors' measured `results`."""

    bib: str
    results: list[Any] | dict[str, Any] | None = None
    topic: str | None = None
    model: str | None = None
    priority: str = "interactive"


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A research plan for `goal`."""

    goal: str
    constraints: str | None = None
    model: str | None = None
    priority: str = "interactive"


@dataclass(frozen=True, kw_only=True)
class RubricExtract:
    """The grading rubric of a paper."""

    path: str
    buffers: Buffers | None = None
    model: str | None = None
    priority: str = "background"


@dataclass(frozen=True, kw_only=True)
class RubricGrade:
    """A plan graded against a rubric (one generation per goal)."""

    plan: str
    rubric: Any = None
    model: str | None = None
    priority: str = "background"


@dataclass(frozen=True, kw_only=True)
class ProjectOpen:
    """Open a project: watched, reviewed incrementally (sessions/)."""

    path: str | None = None
    root: str | None = None  # the same as `path`, for editors that say root
    buffers: Buffers | None = None
    model: str | None = None  # the whole-paper reviewer
    section_model: str | None = None
    paper: str = "auto"  # `off`: whole-paper reviews only on project.review
    debounce: float | None = None  # seconds; null: `[daemon] watch_debounce`
    cursor: Cursor | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectRef:
    """An open project, named by its id (`project`) or by a path inside it."""

    project: str | None = None
    path: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectBuffer:
    """An editor buffer's text (null: read the file from disk again)."""

    project: str | None = None
    path: str
    text: str | None = None
    version: Any = None
    cursor: Cursor | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectCursor:
    """Where the cursor is: `cursor`, or the cursor's fields as the params themselves."""

    project: str | None = None
    cursor: Cursor | None = None
    path: str | None = None
    line: int | None = None
    character: int | None = None
    offset: int | None = None

    @property
    def position(self) -> Cursor:
        if self.cursor is not None:
            return self.cursor
        named = {"path": self.path, "line": self.line, "character": self.character}
        return {k: v for k, v in {**named, "offset": self.offset}.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class ProjectReview(ProjectRef):
    """Run the whole-paper review of an open project now."""


@dataclass(frozen=True, kw_only=True)
class ProjectStatus(ProjectRef):
    """An open project's sections, reviews, errors and counters."""


@dataclass(frozen=True, kw_only=True)
class ProjectClose(ProjectRef):
    """Release the client's hold on a project (`force`: close it for every client)."""

    force: bool = False


@dataclass(frozen=True, kw_only=True)
class Subscribe(ProjectRef):
    """A project's events until it closes or the request is cancelled."""


REQUESTS: dict[str, type] = {
    "hello": Hello,
    "ping": Ping,
    "status": Status,
    "review.paper": ReviewPaper,
    "review.section": ReviewSection,
    "review.sections": ReviewSections,
    "draft.section": DraftSection,
    "draft.paper": DraftPaper,
    "plan": Plan,
    "rubric.extract": RubricExtract,
    "rubric.grade": RubricGrade,
    "cancel": Cancel,
    "models.list": ModelsList,
    "cache.stats": CacheStats,
    "cache.clear": CacheClear,
    "shutdown": Shutdown,
    "project.open": ProjectOpen,
    "project.buffer": ProjectBuffer,
    "project.cursor": ProjectCursor,
    "project.review": ProjectReview,
    "project.status": ProjectStatus,
    "project.close": ProjectClose,
    "subscribe": Subscribe,
}


def parse(kind: str, params: dict[str, Any]) -> Any:
    """The typed request of a `kind` message whose params request_fields.check accepted."""
    cls = REQUESTS[kind]
    return cls(**{f.name: params[f.name] for f in fields(cls) if f.name in params})
