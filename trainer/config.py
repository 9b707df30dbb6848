"""Recipe configs: a YAML file loaded into a recipe's dataclass, checked before any heavy work.

Every recipe is one dataclass; its YAML file holds exactly its fields. Unknown keys, wrong
types, bad values and missing files are rejected with one line naming the file and the key,
so a typo costs a second, not the minutes it takes to load a model.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A recipe config that cannot run; the message is one line naming the file and the key."""


def load_config(cls: type, path: Path, overrides: dict[str, Any] | None = None) -> Any:
    """Read `path` (YAML) into the dataclass `cls`; relative paths are taken from the file."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}:{where} {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys to values")
    data = {**data, **(overrides or {})}
    return build_config(cls, data, source=str(path), base_dir=path.resolve().parent)


def build_config(
    cls: type, data: dict[str, Any], *, source: str = "<config>", base_dir: Path | None = None
) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    values = {}
    for key, value in data.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown key {key!r} (known keys: {known})")
        values[key] = _coerce(value, hints[key], f"{source}: {key}", base_dir)
    missing = [
        name
        for name, f in fields.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{source}: missing required key {missing[0]!r}")
    config = cls(**values)
    check = getattr(config, "check", None)
    if check is not None:
        try:
            check()
        except ConfigError as error:
            raise ConfigError(f"{source}: {error}") from None
    return config


def _coerce(value: Any, hint: Any, where: str, base_dir: Path | None) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where, base_dir)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(str, allowed))}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item,) = typing.get_args(hint)[:1] or (Any,)
        items = [_coerce(v, item, f"{where}[{i}]", base_dir) for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is Any:
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if hint is Path:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        if value.startswith("gguf:"):  # a GGUF base (recipes/gguf_base.py)
            from papercycle.trainer.recipes.gguf_base import spec_of

            return Path(spec_of(value, base_dir))
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return path
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return build_config(hint, value, source=where, base_dir=base_dir)
    raise ConfigError(f"{where}: unsupported config type {hint!r}")


def positive(name: str, value: float | int) -> None:
    if value <= 0:
        raise ConfigError(f"{name}: must be positive, got {value!r}")


def in_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name}: must be between {low} and {high}, got {value!r}")


def existing(name: str, path: Path | None, *, what: str = "file or directory") -> None:
    if path is not None and not Path(path).exists():
        raise ConfigError(f"{name}: {path} does not exist (expected a {what})")
