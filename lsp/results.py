"""Typed views of what the daemon sends (daemon/PROTOCOL.md "Review result", "Draft result",
the `subscribe` events), made once where a message arrives: the rest of the language server
reads fields, never `(result.get("section") or {}).get(...)` chains.

The daemon's answers are untrusted input like any other: a field of the wrong type reads as
absent (a comment without a readable range is not shown), never as an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, dict | list) else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _scores(value: Any) -> dict[str, float]:
    return {
        str(name): score
        for name, score in _dict(value).items()
        if isinstance(score, int | float) and not isinstance(score, bool)
    }


@dataclass(frozen=True)
class TextRange:
    """RANGE: character offsets into one file's decoded text."""

    path: Path
    start: int
    end: int

    @classmethod
    def from_wire(cls, data: Any) -> TextRange | None:
        data = _dict(data)
        if not data.get("path"):
            return None
        start, end = _int(data.get("start", 0)), _int(data.get("end", 0))
        if start is None or end is None:
            return None
        return cls(Path(str(data["path"])), start, end)

    def as_tuple(self) -> tuple[Path, int, int]:
        return self.path, self.start, self.end


@dataclass(frozen=True)
class Comment:
    """One review comment and where the daemon anchored it."""

    category: str
    severity: str
    text: str
    quote: str | None
    rewrite: str | None
    reviewer: int | None  # paper reviews: 1..n, 0 = the meta review
    method: str | None  # how it was anchored ("quote", "keywords", ...)
    range: TextRange | None

    @classmethod
    def from_wire(cls, data: Any) -> Comment:
        data = _dict(data)
        anchor = _dict(data.get("anchor"))
        return cls(
            category=str(data.get("category") or data.get("kind") or "comment"),
            severity=str(data.get("severity") or "minor"),
            text=str(data.get("text") or ""),
            quote=_text(data.get("quote")) or None,
            rewrite=_text(data.get("suggested_rewrite")) or None,
            reviewer=_int(data.get("reviewer")),
            method=_text(anchor.get("method")),
            range=TextRange.from_wire(anchor.get("range")),
        )


@dataclass(frozen=True)
class Section:
    """A section object: its id in the open project, its display name, its heading."""

    id: str
    name: str | None
    heading: TextRange | None
    removed: bool = False

    @classmethod
    def from_wire(cls, data: Any) -> Section:
        data = _dict(data)
        ident = str(data.get("id"))
        return cls(
            id=ident,
            name=_text(data.get("name")),
            heading=TextRange.from_wire(data.get("range")),
            removed=bool(data.get("removed")),
        )


@dataclass(frozen=True)
class Generation:
    tokens: int | None = None
    finish: str | None = None

    @classmethod
    def from_wire(cls, data: Any) -> Generation:
        data = _dict(data)
        return cls(_int(data.get("tokens")), _text(data.get("finish")))


@dataclass(frozen=True)
class ReviewResult:
    """A review result (`kind` "paper" or "section"), or a section's `comments` event read as
    one."""

    kind: str
    model: str | None = None
    mode: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    decision: str | None = None
    comments: list[Comment] = field(default_factory=list)
    section: Section | None = None
    ratings: list[Any] = field(default_factory=list)  # each reviewer's rating (paper reviews)
    warnings: list[str] = field(default_factory=list)
    incomplete: str | None = None  # the message of a review cut off before its end
    mode_note: str | None = None
    generation: Generation = field(default_factory=Generation)
    stale: bool = False  # an open project's comments on a section changed since

    @classmethod
    def from_wire(cls, data: Any) -> ReviewResult:
        data = _dict(data)
        section = data.get("section")
        reports = _list(_dict(data.get("review")).get("reports"))
        return cls(
            kind=str(data.get("kind")),
            model=_text(data.get("model")),
            mode=_text(data.get("mode")),
            scores=_scores(data.get("scores")),
            decision=_text(data.get("decision")),
            comments=[Comment.from_wire(c) for c in _list(data.get("comments"))],
            section=Section.from_wire(section) if isinstance(section, dict) else None,
            ratings=[_dict(_dict(report).get("rating")).get("value") for report in reports],
            warnings=[str(w) for w in _list(data.get("warnings"))],
            incomplete=_text(_dict(data.get("incomplete")).get("message")),
            mode_note=_text(data.get("mode_note")),
            generation=Generation.from_wire(data.get("generation")),
            stale=bool(data.get("stale")),
        )

    @property
    def section_name(self) -> str | None:
        return self.section.name if self.section is not None else None


@dataclass(frozen=True)
class DraftResult:
    """A `draft.section` result: the text and where the co-author puts it."""

    text: str | None
    range: TextRange | None
    warnings: list[str]

    @classmethod
    def from_wire(cls, data: Any) -> DraftResult:
        data = _dict(data)
        where = TextRange.from_wire(data.get("range"))
        if where is not None and not 0 <= where.start <= where.end:
            where = None
        return cls(_text(data.get("text")), where, [str(w) for w in _list(data.get("warnings"))])


# -- the events of `subscribe` ----------------------------------------------------------


def versions_of(event: dict[str, Any]) -> dict[Path, int | None]:
    """The document versions an event's results are anchored in (absent: read from disk)."""
    return {Path(str(p)): _int(v) for p, v in _dict(event.get("versions")).items()}


@dataclass(frozen=True)
class SectionsChanged:
    origin: str | None
    reviewed: list[Section]  # added and changed: reviewed again
    removed: list[str]
    order: list[str]

    @classmethod
    def from_wire(cls, event: dict[str, Any]) -> SectionsChanged:
        sections = [*_list(event.get("added")), *_list(event.get("changed"))]
        return cls(
            origin=_text(event.get("origin")),
            reviewed=[Section.from_wire(s) for s in sections if isinstance(s, dict)],
            removed=[str(i) for i in _list(event.get("removed"))],
            order=[str(i) for i in _list(event.get("order"))],
        )


def comments_event(event: dict[str, Any], model: str) -> ReviewResult:
    """A `comments` event as the section result it is (`model`: the section role's name; the
    event does not carry it). Stale comments keep only those anchored on a verbatim quote:
    the only anchors sure to hold in a changed text."""
    result = ReviewResult.from_wire(
        {
            **event,
            "kind": "section",
            "model": model,
            "section": _dict(event.get("section")),
        }
    )
    if result.stale:
        kept = [c for c in result.comments if c.method == "quote"]
        result = replace(result, comments=kept)
    return result


@dataclass(frozen=True)
class PaperEvent:
    result: ReviewResult
    reviewed_revision: int

    @classmethod
    def from_wire(cls, event: dict[str, Any]) -> PaperEvent:
        return cls(
            ReviewResult.from_wire(event.get("result")),
            _int(event.get("reviewed_revision")) or 0,
        )


@dataclass(frozen=True)
class ErrorEvent:
    section: str | None  # a section id, "paper", or None: the project
    message: str

    @classmethod
    def from_wire(cls, event: dict[str, Any]) -> ErrorEvent:
        return cls(_text(event.get("section")), _text(event.get("message")) or "")


@dataclass(frozen=True)
class ProjectStatus:
    """What `project.status` says that the server waits on."""

    idle: bool
    paper_running: bool

    @classmethod
    def from_wire(cls, data: Any) -> ProjectStatus:
        data = _dict(data)
        return cls(bool(data.get("idle")), bool(data.get("paper_running")))


@dataclass(frozen=True)
class ProjectOpened:
    """The answer to `project.open`: the project's id, and what of its own configuration the
    daemon ignored (a `.papercycle.toml` with models in a folder the user does not trust)."""

    project: str | None
    warnings: list[str]

    @classmethod
    def from_wire(cls, data: Any) -> ProjectOpened:
        data = _dict(data)
        return cls(_text(data.get("project")), [str(w) for w in _list(data.get("warnings"))])


@dataclass(frozen=True)
class DaemonStatus:
    """What `status` says that the status command shows."""

    pid: int | None
    version: str | None
    models: Any
    queue: dict[str, Any]

    @classmethod
    def from_wire(cls, data: Any) -> DaemonStatus:
        data = _dict(data)
        pid, version = _int(data.get("pid")), _text(data.get("version"))
        return cls(pid, version, data.get("models"), _dict(data.get("queue")))

    @property
    def running(self) -> Any:
        return self.queue.get("running")


def model_names(listing: Any) -> list[str]:
    """The names in a `models.list` answer."""
    models = _list(_dict(listing).get("models"))
    return [str(m["name"]) for m in models if isinstance(m, dict) and m.get("name")]
