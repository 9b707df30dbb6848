"""The plug-in point for an online literature resolver (Semantic Scholar, OpenScholar, a
lab's own search service...). None is built in and none runs by default: retrieval is offline
unless a project's `.papercycle.toml` names a registered resolver:

```toml
[retrieval]
folder = "literature/"      # PDFs / .txt / .md / .tex the index reads besides the .bib
online = "my-resolver"      # a name given to register_resolver(); empty: offline only
```

A resolver is any object with `search(query: str, k: int) -> list[Passage]`; register it from
a plugin module (`register_resolver("name", factory)`) before the daemon serves requests.
Its passages are merged after the offline hits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from papercycle.daemon.retrieval.index import Passage


class Resolver(Protocol):
    def search(self, query: str, k: int) -> list[Passage]: ...


_RESOLVERS: dict[str, Callable[[], Resolver]] = {}


def register_resolver(name: str, factory: Callable[[], Resolver]) -> None:
    _RESOLVERS[name] = factory


def resolver(name: str | None) -> Resolver | None:
    """The registered resolver `name`; None for "" / None. KeyError names the known ones."""
    if not name:
        return None
    if name not in _RESOLVERS:
        known = ", ".join(sorted(_RESOLVERS)) or "none registered"
        raise KeyError(f"no online resolver {name!r} ({known})")
    return _RESOLVERS[name]()
