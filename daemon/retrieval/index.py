"""A BM25 index over passages: bibliography entries (title + abstract, one passage each) and a
folder of the user's documents (PDF through pypdf, .txt/.md/.tex as text), cut into passages
of about 120 words.

`answer_questions(questions, index)` gives DeepReviewer's Best Mode what OpenScholar gave it
in the authors' evaluation data: per question, numbered passages `[i] Title: ... Text: ...`
and an answer. Our answer is extractive, not generated: the sentences of the top passages
that share the most words with the question, each with its source, so nothing in the second
turn is invented by a model.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from papercycle.latex.folder import is_within

log = logging.getLogger("papercycle.daemon.retrieval")

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "might",
        "more",
        "most",
        "not",
        "of",
        "on",
        "or",
        "our",
        "over",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "under",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "paper",
        "papers",
        "work",
        "method",
        "methods",
        "approach",
        "proposed",
    ]
)
PASSAGE_WORDS = 120
TEXT_SUFFIXES = (".txt", ".md", ".tex")
MAX_FILE_BYTES = 20 * 1024 * 1024


def tokens(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower()):
        if w in STOPWORDS or len(w) < 2:
            continue
        # A light stemmer: plural and -ing/-ed endings fold together.
        for suffix in ("ing", "ed", "es", "s"):
            if len(w) > len(suffix) + 3 and w.endswith(suffix):
                w = w[: -len(suffix)]
                break
        out.append(w)
    return out


@dataclass(frozen=True)
class Passage:
    title: str
    text: str
    source: str  # "bib:<key>" or a file path (with "#<n>" for its n-th passage) or a resolver
    key: str | None = None  # the citation key, for bibliography passages


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


class Index:
    def __init__(self, passages: Iterable[Passage] = ()) -> None:
        self.passages: list[Passage] = list(passages)
        self.warnings: list[str] = []
        self._bm25 = None

    # -- building --------------------------------------------------------------------------

    @classmethod
    def from_bibliography(cls, entries: Iterable) -> Index:
        """One passage per BibEntry: its title, and its abstract when it has one."""
        from papercycle.latex.injection import looks_like_injection

        index = cls()
        for e in entries:
            text = e.abstract or ""
            if looks_like_injection(text) or looks_like_injection(e.title or ""):
                # A planted instruction must not reach the reviewer through a "passage".
                index.warnings.append(f"{e.key}: holds instructions to models; not indexed")
                continue
            if not (e.title or text):
                continue
            index.passages.append(Passage(e.title or e.key, text, f"bib:{e.key}", e.key))
        return index

    @classmethod
    def for_project(cls, project, folder: str | Path | None = None) -> Index:
        index = cls.from_bibliography(project.bibliography.entries.values())
        if folder:
            index.add_folder(folder)
        return index

    def add_folder(self, folder: str | Path) -> None:
        root = Path(folder)
        if not root.is_dir():
            self.warnings.append(f"retrieval folder {root} does not exist")
            return
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            suffix = path.suffix.lower()
            if suffix not in (*TEXT_SUFFIXES, ".pdf"):
                continue
            if not is_within(path, root):  # a link named notes.txt to ~/.ssh/id_rsa
                self.warnings.append(f"{path}: links outside {root}; not read")
                continue
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    self.warnings.append(f"{path}: larger than {MAX_FILE_BYTES} bytes, skipped")
                    continue
                text = _pdf_text(path) if suffix == ".pdf" else path.read_text("utf-8", "replace")
            except Exception as error:  # a broken PDF must not stop the index
                self.warnings.append(f"{path}: not read ({type(error).__name__}: {error})")
                continue
            self.add_text(path.stem.replace("_", " "), text, str(path))
        self._bm25 = None

    def add_text(self, title: str, text: str, source: str) -> None:
        from papercycle.latex.injection import looks_like_injection

        words = text.split()
        for n, start in enumerate(range(0, len(words), PASSAGE_WORDS)):
            chunk = " ".join(words[start : start + PASSAGE_WORDS])
            if looks_like_injection(chunk):
                self.warnings.append(f"{source}#{n}: holds instructions to models; not indexed")
                continue
            if chunk.strip():
                self.passages.append(Passage(title, chunk, f"{source}#{n}"))
        self._bm25 = None

    # -- searching -------------------------------------------------------------------------

    def _model(self):
        if self._bm25 is None and self.passages:
            from rank_bm25 import BM25Okapi

            corpus = [tokens(f"{p.title} {p.title} {p.text}") or ["_"] for p in self.passages]
            self._bm25 = BM25Okapi(corpus)
        return self._bm25

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The `k` best passages sharing at least one word with `query`, best first."""
        model = self._model()
        q = tokens(query)
        if model is None or not q:
            return []
        scores = model.get_scores(q)
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        out = []
        wanted = set(q)
        for i in ranked:
            p = self.passages[i]
            if not wanted & set(tokens(f"{p.title} {p.text}")):
                continue
            out.append(Hit(p, float(scores[i])))
            if len(out) == k:
                break
        return out


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    return "\n".join((page.extract_text() or "") for page in reader.pages)


def format_passages(hits: Sequence[Hit]) -> str:
    """OpenScholar's `final_passages` layout: `[i] Title: <title> Text: <text>` per line."""
    return "\n".join(
        f"[{i}] Title: {h.passage.title} Text: {h.passage.text}" for i, h in enumerate(hits)
    )


def extractive_answer(question: str, hits: Sequence[Hit], max_sentences: int = 3) -> str:
    """The passages' sentences closest to the question, each with its source."""
    wanted = set(tokens(question))
    scored = []
    for rank, h in enumerate(hits):
        for sentence in re.split(r"(?<=[.!?])\s+", h.passage.text or h.passage.title):
            overlap = len(wanted & set(tokens(sentence)))
            if overlap:
                scored.append((-overlap, rank, sentence.strip(), h.passage))
    scored.sort(key=lambda t: (t[0], t[1]))
    lines = []
    for _, rank, sentence, passage in scored[:max_sentences]:
        where = f"\\cite{{{passage.key}}}" if passage.key else passage.title
        lines.append(f"{sentence} [{rank}] ({where})")
    if not lines:
        return "The local literature holds nothing on this question."
    return "According to the retrieved passages: " + " ".join(lines)


def answer_questions(questions: Sequence[str], index: Index, k: int = 3, online=None) -> list:
    """A RetrievedAnswer per question (passages None and answer None when nothing matched)."""
    from papercycle.formats.deepreviewer import RetrievedAnswer

    out = []
    for question in questions:
        hits = index.search(question, k)
        if online is not None:
            try:
                hits += [Hit(p, 0.0) for p in online.search(question, k)]
            except Exception as error:  # an online resolver failing leaves the offline hits
                log.warning("online resolver failed: %s", error)
        if not hits:
            out.append(RetrievedAnswer(question, None, None))
            continue
        out.append(
            RetrievedAnswer(question, format_passages(hits), extractive_answer(question, hits))
        )
    return out
