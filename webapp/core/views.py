import sys

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views import defaults

from webapp.accounts.permissions import requires
from webapp.core.health import health_report
from webapp.core.outage import RETRY_AFTER_SECONDS, is_outage


@requires("public")
def health(request):
    """Database, Redis and worker status. 200 when the database and Redis answer, else 503."""
    report = health_report(include_workers=request.GET.get("workers", "1") != "0")
    return JsonResponse(report, status=200 if report["ok"] else 503)


@requires("public")
def home(request):
    return redirect("project-list")


def not_found(request, exception=None):
    """404 for a URL that matches no route: JSON under /api/, the HTML page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": f"no such endpoint or object: {request.path}"},
                            status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500, unless the failure was a backing service out of reach (the database restarting, Redis down):
    then 503 with Retry-After, so that clients wait and retry instead of reporting a bug. Django calls this
    inside its ``except`` block, so the exception is at hand."""
    if is_outage(sys.exc_info()[1]):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "detail": "the server failed on this request"}, status=500)
    return defaults.server_error(request)


def service_unavailable(request):
    retry = str(RETRY_AFTER_SECONDS)
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "unavailable", "detail": "a service the server needs is out of reach for "
                                 f"a moment; nothing was changed by this request unless it said so. Retry in {retry} s",
                                 "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        response = HttpResponse("<!doctype html><title>Back in a moment</title><h1>Back in a moment</h1>"
                                f"<p>A service Loupe needs is restarting. This page reloads in {retry} seconds; "
                                "your saved work is safe.</p>", status=503, content_type="text/html; charset=utf-8")
        response["Refresh"] = retry
    response["Retry-After"] = retry
    return response
