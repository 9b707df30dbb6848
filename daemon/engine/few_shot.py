"""The AI Scientist reviewer's few-shot examples: papers with their reviews that the user
points to. None ship with papercycle (the authors' examples are published papers and their
reviews, which we may not redistribute).

Layout (the authors' own: `fewshot_examples/<name>.pdf|.txt` + `<name>.json`): each path of
`few_shot` is either a folder, whose every `<name>.json` with a `<name>.txt`, `.tex` or `.md`
beside it is one example (in name order), or one such `.json` or paper file. The JSON holds
`{"review": ...}` as the authors' files do (a text, shown as is, or the form's JSON object),
or is the form's object itself.

The examples go into the model's prompt, so a path must lie inside the project's folder or a
folder the user trusts (`papercycle trust DIR`): a cloned project's editor settings must not
be able to put the user's other files in front of a model. Every problem is one line that
names the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from papercycle.daemon.engine.review import ReviewError
from papercycle.latex.folder import is_within

PAPER_SUFFIXES = (".txt", ".tex", ".md")
MAX_EXAMPLES = 8  # the authors use one (num_fs_examples=1) and ship three
MAX_FILE_BYTES = 512 * 1024  # a long paper as text is ~100-200 KB


@dataclass(frozen=True)
class Example:
    name: str
    paper: str
    review: str


def _bad(message: str) -> ReviewError:
    return ReviewError("bad-request", f"few_shot: {message}")


def load(
    paths: Sequence[str],
    project_dir: Path | None,
    trusts: Callable[[Path], bool],
) -> list[Example]:
    """The examples at `paths` (relative ones: to the project's folder), in order."""
    examples: list[Example] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.is_absolute():
            if project_dir is None:
                raise _bad(f"{given}: a relative path needs a project")
            path = project_dir / path
        # confined first: a path outside is refused whether or not it exists
        inside = project_dir is not None and is_within(path, project_dir)
        if not inside and not trusts(path):
            raise _bad(
                f"{path} is outside the project and not in a folder you trust; if you trust "
                f"it, run `papercycle trust {path if path.is_dir() else path.parent}`"
            )
        if not path.exists():
            raise _bad(f"{path} does not exist")
        examples += [_read(paper, review) for paper, review in _pairs(path)]
        if len(examples) > MAX_EXAMPLES:
            raise _bad(f"{len(examples)} examples; at most {MAX_EXAMPLES} fit a prompt")
    return examples


def _pairs(path: Path) -> list[tuple[Path, Path]]:
    """(paper, review) files at `path`."""
    if path.is_dir():
        pairs = [
            (paper, review)
            for review in sorted(path.glob("*.json"))
            if (paper := _paper_of(review)) is not None
        ]
        if not pairs:
            raise _bad(
                f"{path} holds no <name>.json review with its paper (<name>.txt, .tex or .md) "
                "beside it"
            )
        return pairs
    if path.suffix == ".json":
        paper = _paper_of(path)
        if paper is None:
            raise _bad(f"{path}: no paper beside it ({path.stem}.txt, .tex or .md)")
        return [(paper, path)]
    if path.suffix in PAPER_SUFFIXES:
        review = path.with_suffix(".json")
        if not review.is_file():
            raise _bad(f"{path}: no review beside it ({review.name})")
        return [(path, review)]
    raise _bad(f"{path} is not a folder, a .json review or a .txt/.tex/.md paper")


def _paper_of(review: Path) -> Path | None:
    return next(
        (p for s in PAPER_SUFFIXES if (p := review.with_suffix(s)).is_file()),
        None,
    )


def _text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _bad(f"{path}: {size} bytes, more than {MAX_FILE_BYTES} for one example")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _bad(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise _bad(f"{path}: cannot be read ({error.strerror})") from None
    if not text.strip():
        raise _bad(f"{path} is empty")
    return text


def _read(paper: Path, review: Path) -> Example:
    try:
        data = json.loads(_text(review))
    except json.JSONDecodeError as error:
        raise _bad(f"{review}: not JSON (line {error.lineno}: {error.msg})") from None
    if isinstance(data, dict) and "review" in data:
        data = data["review"]
    if isinstance(data, str) and data.strip():
        text = data
    elif isinstance(data, dict) and data:
        text = json.dumps(data)
    else:
        raise _bad(f"{review}: no review (a 'review' text or the form's JSON object)")
    return Example(paper.stem, _text(paper), text)
