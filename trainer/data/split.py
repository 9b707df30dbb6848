"""Deterministic train/test splits by a hash of the paper id.

A paper lands in the same split on every machine and in every run, however the file is
ordered or filtered, so a paper's reviews never leak from train into test.
"""

from __future__ import annotations

import hashlib


def split_of(paper_id: str, test_fraction: float, salt: str = "papercycle") -> str:
    digest = hashlib.sha256(f"{salt}\x00{paper_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if position < test_fraction else "train"


def select(records: list, split: str, test_fraction: float, key=lambda r: r.id) -> list:
    """The records of `split` ("train", "test" or "all")."""
    if split == "all":
        return list(records)
    if split not in ("train", "test"):
        raise ValueError(f"unknown split {split!r} (train, test or all)")
    return [r for r in records if split_of(str(key(r)), test_fraction) == split]
