"""DRF exception handler: service errors and annotation errors become JSON with a message and details."""
from rest_framework import status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from webapp.core.errors import ServiceError
from webapp.labeling.kinds import AnnotationError


def exception_handler(exc, context):
    if isinstance(exc, AnnotationError):
        return Response({"code": "invalid_annotation", "detail": "The annotation does not fit the schema.",
                         "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ServiceError):
        body = {"code": exc.code, "detail": exc.message}
        if exc.details is not None:
            body.update(exc.details if isinstance(exc.details, dict) else {"details": exc.details})
        return Response(body, status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, Throttled) and response is not None:
        wait = int(exc.wait or 1)
        response.data = {"code": "throttled", "detail": f"too many requests; try again in {wait} seconds",
                         "retry_after": wait}
    return response
