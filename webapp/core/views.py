from django.http import JsonResponse
from django.shortcuts import redirect
from django.views import defaults

from webapp.accounts.permissions import requires
from webapp.core.health import health_report


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
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "detail": "the server failed on this request"}, status=500)
    return defaults.server_error(request)
