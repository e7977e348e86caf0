"""Domain errors raised by services; the API maps each to an HTTP status with a clear message."""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotAllowed(ServiceError):
    status_code = 403
    code = "not_allowed"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    """A write based on a stale state (revision, lease). ``details`` carries both versions."""

    status_code = 409
    code = "conflict"


class Gone(ServiceError):
    status_code = 410
    code = "gone"
