"""Request-level bounds for every API endpoint: body size and JSON nesting depth, answered in JSON; and
for every page and endpoint, no NUL character in a query parameter or a form field.

Django alone answers an oversized body with an HTML 400 and lets ``json.loads`` recurse on a body
nested 100,000 deep (RecursionError, a 500). This middleware refuses both before any view runs, and
turns the request errors Django raises later (too many fields or files) into JSON for API clients.
"""
from __future__ import annotations

import re
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied, RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent, TooManyFilesSent,
)
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults

from webapp.core.errors import NotAllowed, NotFound, ServiceError

API_PREFIX = "/api/"
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
# A NUL character, raw or as a JSON escape (not an escaped backslash followed by "u0000"). PostgreSQL
# stores no NUL in text or jsonb: such a value would fail in the database instead of being refused.
_JSON_NUL = re.compile(rb'\x00|(?<!\\)(?:\\\\)*\\u0000')


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, found without parsing it (no recursion)."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _holds_nul(params) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in params.lists())


def nul_refusal(request, *, form: bool) -> str:
    """Why the request's query parameters (and with ``form`` its form fields) cannot be taken ("" when they
    can). PostgreSQL stores and compares no NUL in text, so a NUL would fail in the database as a 500."""
    if _holds_nul(request.GET):
        return "the query string holds a NUL character, which is not accepted"
    # Pages read their forms through Django (the CSRF check reads them first anyway); API bodies go to
    # DRF's parsers, and JSON ones are checked in _check_body.
    if form and request.method == "POST" and _holds_nul(request.POST):
        return "a form field holds a NUL character, which is not accepted"
    return ""


def _error(status: int, code: str, detail: str, **extra) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, **extra}, status=status)


def _too_large(size: int | None, limit: int) -> JsonResponse:
    got = f"{size} bytes" if size is not None else "too large"
    return _error(413, "too_large", f"the request body is {got}; at most {limit} bytes are accepted here",
                  limit=limit)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith(API_PREFIX)
        refusal = nul_refusal(request, form=not api)
        if refusal:
            return _error(400, "invalid", refusal) if api else \
                HttpResponse(refusal, status=400, content_type="text/plain; charset=utf-8")
        if api:
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                refusal = self._check_body(request)
                if refusal is not None:
                    return refusal
        return self.get_response(request)

    def _check_body(self, request) -> HttpResponse | None:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "invalid", "the Content-Length header is not a number")
        content_type = request.content_type or ""
        if content_type.startswith("multipart/"):
            limit = settings.LOUPE_MAX_REQUEST_BYTES
            return _too_large(size, limit) if size > limit else None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if size > limit:
            return _too_large(size, limit)
        if "json" not in content_type:
            return None
        try:
            body = request.body
        except RequestDataTooBig:
            return _too_large(None, limit)
        if len(body) > limit:
            return _too_large(len(body), limit)
        if _JSON_NUL.search(body):
            return _error(400, "invalid", "the JSON body holds a NUL character (\\u0000), which is not accepted")
        depth = json_depth(body)
        if depth > settings.LOUPE_MAX_JSON_DEPTH:
            return _error(400, "too_deep", f"the JSON body nests {depth} levels deep; at most "
                                           f"{settings.LOUPE_MAX_JSON_DEPTH} are accepted",
                          limit=settings.LOUPE_MAX_JSON_DEPTH)
        return None

    def process_exception(self, request, exc):
        if request.path.startswith(API_PREFIX):
            if isinstance(exc, RequestDataTooBig):
                return _too_large(None, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
            if isinstance(exc, TooManyFilesSent):
                return _error(400, "too_many_files", f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files "
                                                     "per request")
            if isinstance(exc, TooManyFieldsSent):
                return _error(400, "too_many_fields", f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields "
                                                      "per request")
            if isinstance(exc, SuspiciousOperation):
                return _error(400, "invalid", str(exc) or "the request was refused")
            return None
        # A service error raised by a page (e.g. an item that does not exist) is the page's status, not a 500.
        if isinstance(exc, NotFound):
            return defaults.page_not_found(request, Http404(exc.message))
        if isinstance(exc, NotAllowed):
            return defaults.permission_denied(request, PermissionDenied(exc.message))
        if isinstance(exc, ServiceError):
            return HttpResponse(exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8")
        return None
