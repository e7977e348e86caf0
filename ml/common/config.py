"""Configs are dataclasses; a checkpoint stores them as JSON. One way back from JSON for every package.

``config_from_dict`` rebuilds nested dataclasses from a JSON dict: lists become tuples where the field's
default is a tuple, nested dicts become the field's dataclass, keys the class does not know are ignored
(an older or newer checkpoint still loads) and missing keys take the defaults. ``DictConfig`` gives a
config class ``to_dict()`` and ``from_dict()`` with it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Self, TypeVar

T = TypeVar("T")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return dataclasses.MISSING


def _value(default: Any, value: Any) -> Any:
    if dataclasses.is_dataclass(default) and isinstance(value, dict):
        return config_from_dict(type(default), value)
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def config_from_dict(cls: type[T], data: dict[str, Any] | None) -> T:
    """An instance of the dataclass ``cls`` from its ``dataclasses.asdict`` form (read back from JSON)."""
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.name not in (data or {}):
            continue
        kwargs[f.name] = _value(_default(f), data[f.name])
    return cls(**kwargs)


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


class DictConfig:
    """Mixin of a package's top-level config dataclass: ``to_dict()`` for the checkpoint's JSON and
    ``from_dict()`` to read it back."""

    def to_dict(self) -> dict[str, Any]:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Self:
        return config_from_dict(cls, data)
