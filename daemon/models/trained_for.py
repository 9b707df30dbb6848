"""The review modes a model offers: its format's, narrowed to the ones a fine-tuned reviewer
was trained for when its GGUF says so (`papercycle.reviewer.format` and `.modes`, written by
`papercycle export` from the checkpoint's papercycle-reviewer.json).

A mode it was not trained for is reviewed in one it was, with a first warning that says so,
the same answer as for a mode its format lacks: a user asking for a review expects one, and a
Fast-only DeepReviewer prompted for Standard writes no simulated reviewers for the parser to
read. The metadata applies only when the model is served in the format it names; served in
another, `models list` and `doctor` say the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.models.gguf_metadata import GGUFError, read_gguf_metadata


@dataclass(frozen=True)
class TrainedFor:
    format: str
    modes: tuple[str, ...]

    def describe(self) -> str:
        return f"trained for {self.format}, {'/'.join(self.modes)} mode"


def trained_for(model: ModelConfig) -> TrainedFor | None:
    """What the model's GGUF says it was trained for; None for an endpoint, a file without
    the keys, or one that cannot be read (check_model names that problem)."""
    if model.backend != "llama" or not model.path:
        return None
    path = Path(model.path)
    try:
        stat = path.stat()
    except OSError:
        return None
    return _read(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _read(path: str, _size: int, _mtime: int) -> TrainedFor | None:
    try:
        meta = read_gguf_metadata(Path(path))
    except GGUFError:
        return None
    if not meta.trained_format or not meta.trained_modes:
        return None
    return TrainedFor(meta.trained_format, meta.trained_modes)


def offered_modes(model: ModelConfig, format_modes: tuple[str, ...] | None) -> tuple[str, ...]:
    """The whole-paper modes to review in (empty: any). `format_modes`: the format's own."""
    trained = trained_for(model)
    if trained is None or trained.format != model.format:
        return format_modes or ()
    kept = tuple(m for m in trained.modes if not format_modes or m in format_modes)
    return kept or format_modes or ()


def mode_note(model: ModelConfig, asked: str, mode: str) -> str:
    """The first warning of a review done in `mode` when `asked` was asked."""
    trained = trained_for(model)
    if trained is not None and trained.format == model.format and asked not in trained.modes:
        return (
            f"model {model.name!r} was {trained.describe()} only (its GGUF's "
            f"papercycle.reviewer.modes), not {asked}: reviewed in its {mode} mode"
        )
    return f"model {model.name!r} ({model.format}) has no {asked} mode: reviewed in its {mode} mode"


def mismatch(model: ModelConfig) -> str | None:
    """One line when the model is served in a format other than the one it was trained for."""
    trained = trained_for(model)
    if trained is None or trained.format == model.format:
        return None
    return (
        f"model {model.name!r} is served as {model.format} but its GGUF says it was "
        f"{trained.describe()}: papercycle models add {model.name} {model.path} --force "
        f"--review-format {trained.format}"
    )
