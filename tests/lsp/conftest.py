"""Language server fixtures: an isolated per-user home (PAPERCYCLE_HOME) per test module with
the tiny models configured, and a small paper (both in lsp_helpers.py, shared with the editor
tests)."""

from lsp_helpers import home, paper

__all__ = ["home", "paper"]
