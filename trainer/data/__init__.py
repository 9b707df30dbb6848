"""Datasets to chat examples in the exact formats the daemon serves (see `prepare`)."""

from papercycle.trainer.data.papers import Paper
from papercycle.trainer.data.prepare import ADAPTERS, DataReport, chat_examples, load_papers
from papercycle.trainer.data.records import DataError, read_records

__all__ = [
    "ADAPTERS",
    "DataError",
    "DataReport",
    "Paper",
    "chat_examples",
    "load_papers",
    "read_records",
]
