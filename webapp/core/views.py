from django.http import JsonResponse
from django.shortcuts import redirect

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
