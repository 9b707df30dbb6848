"""Offline retrieval for the co-author: a BM25 index (rank-bm25, CPU, no network) over the
project's bibliography (titles + abstracts) and, when configured, a folder of PDFs / text the
user keeps. It answers DeepReviewer Best-Mode questions and is the plug-in point for an online
resolver (off by default). See index.py and resolvers.py."""

from papercycle.daemon.retrieval.index import Hit, Index, Passage, answer_questions
from papercycle.daemon.retrieval.resolvers import Resolver, register_resolver, resolver

__all__ = [
    "Hit",
    "Index",
    "Passage",
    "Resolver",
    "answer_questions",
    "register_resolver",
    "resolver",
]
