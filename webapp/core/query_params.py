"""One reader of query parameters for the pages and the API: a value that does not fit its parameter is a 400
that names the parameter (a ServiceError: JSON on the API, plain text on a page), never a value handed on
to the database (a NUL, or an id past a 64-bit integer, fails there as a 500). NUL characters are refused
for every request before any view runs (webapp.core.request_guard)."""
from __future__ import annotations

from collections.abc import Mapping

from webapp.core.errors import ServiceError

MAX_ID = 2**63 - 1
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")


def _refuse(name: str, expected: str, raw: str):
    message = f"{expected} (got {raw[:40]!r})"
    # Keyed by the parameter, as a serializer names a field: {"detail": "open: ...", "open": ["..."]}.
    raise ServiceError(f"{name}: {message}", details={name: [message]})


def query_id(params: Mapping, name: str) -> int | None:
    """An object id (1 to 2**63 - 1); None when the parameter is absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        _refuse(name, f"an id, a whole number from 1 to {MAX_ID}", raw)
    return int(raw)


def query_bool(params: Mapping, name: str, *, default: bool) -> bool:
    """true / false (also 1 / 0, yes / no); ``default`` when absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    _refuse(name, "true or false", raw)


def query_choice(params: Mapping, name: str, choices: tuple[str, ...], *, default: str = "") -> str:
    """One of ``choices``; ``default`` when absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        _refuse(name, f"one of {', '.join(choices)}", raw)
    return raw
