"""A small structural JSON diff: the changes between a proposal and the final answer (training signal)."""
from __future__ import annotations

from typing import Any

MAX_CHANGES = 500


def json_diff(before: Any, after: Any, path: str = "$") -> list[dict[str, Any]]:
    """A list of {op: add|remove|replace, path, before?, after?} entries, at most MAX_CHANGES."""
    out: list[dict[str, Any]] = []
    _diff(before, after, path, out)
    return out[:MAX_CHANGES]


def _diff(a: Any, b: Any, path: str, out: list) -> None:
    if len(out) >= MAX_CHANGES:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{key}"
            if key not in a:
                out.append({"op": "add", "path": sub, "after": b[key]})
            elif key not in b:
                out.append({"op": "remove", "path": sub, "before": a[key]})
            else:
                _diff(a[key], b[key], sub, out)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                out.append({"op": "add", "path": sub, "after": b[i]})
            elif i >= len(b):
                out.append({"op": "remove", "path": sub, "before": a[i]})
            else:
                _diff(a[i], b[i], sub, out)
    elif a != b:
        out.append({"op": "replace", "path": path, "before": a, "after": b})
