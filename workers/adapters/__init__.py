"""The kinds' model adapters, registered in ONE place: a new kind is one adapter module + one line here.

Adapters are imported lazily (each pulls in its ml package and torch) and built once per process.
"""
from __future__ import annotations

import importlib
from functools import lru_cache

from workers.adapters.base import Adapter, Evaluation, ItemImages, Proposal  # noqa: F401

ADAPTERS = {
    "catheter": "workers.adapters.catheter:CatheterAdapter",
    "articles": "workers.adapters.articles:ArticlesAdapter",
    "omr": "workers.adapters.omr:OmrAdapter",
}


def has_adapter(kind: str) -> bool:
    return kind in ADAPTERS


@lru_cache(maxsize=None)
def get_adapter(kind: str) -> Adapter:
    try:
        module, _, name = ADAPTERS[kind].partition(":")
    except KeyError:
        raise LookupError(f"no model adapter for kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}") from None
    return getattr(importlib.import_module(module), name)()
