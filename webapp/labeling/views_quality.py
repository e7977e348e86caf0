"""The label-quality page (admins and reviewers; readable without JavaScript): operators' control accuracy
over time with a sparkline drawn by the server, the control items (admins mark and unmark them), and the
suspect labels waiting for re-review with why each was flagged (reviewers confirm, or take the model's
proposal as the correction); the project's review-by-risk and suspect settings (admins change them); and the
risk-ordered review queue (reviewers)."""
import math

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from webapp.accounts.permissions import can, requires
from webapp.core.errors import ServiceError
from webapp.labeling import selectors_agreement, selectors_quality
from webapp.labeling.kinds import AnnotationError
from webapp.labeling.models import Project
from webapp.labeling.services.controls import control_mark
from webapp.labeling.services.items import REVIEW_SHARES, project_review_settings_update
from webapp.labeling.services.suspects import suspect_label_resolve

SPARK_WIDTH, SPARK_HEIGHT = 160, 32


def sparkline(values: list[float]) -> str:
    """An SVG polyline's points for accuracies in 0..1, oldest left."""
    if not values:
        return ""
    step = SPARK_WIDTH / max(1, len(values) - 1)
    return " ".join(f"{i * step:.1f},{(1 - v) * (SPARK_HEIGHT - 2) + 1:.1f}" for i, v in enumerate(values))


@requires("quality.view", target="project_slug:slug")
def project_quality_page(request, slug):
    project = get_object_or_404(Project, slug=slug)
    quality = selectors_quality.project_quality(project=project)
    for row in quality["operators"]:
        row["spark"] = sparkline([p["accuracy"] for p in row["series"]])
    return render(request, "labeling/quality.html", {
        "project": project, "quality": quality, "spark": {"width": SPARK_WIDTH, "height": SPARK_HEIGHT},
        "suspects": selectors_quality.suspect_list(project_id=project.pk),
        "resolved": selectors_quality.suspect_list(project_id=project.pk, state=None)[:50],
        "disagreements": selectors_agreement.disagreement_list(project_id=project.pk),
        "can_manage": can(request.user, "project.manage", project_id=project.pk),
        "can_review": can(request.user, "item.review", project_id=project.pk),
    })


@requires("project.manage", target="project_slug:slug", methods=("POST",))
def project_control_mark(request, slug):
    project = get_object_or_404(Project, slug=slug)
    raw = request.POST.get("item", "").strip()
    if not raw.isdigit():
        messages.error(request, f"item must be an item number (got {raw!r})")
        return redirect("project-quality", slug=slug)
    active = request.POST.get("active", "1") == "1"
    try:
        if selectors_quality.item_project_id(item_id=int(raw)) != project.pk:
            raise ServiceError(f"item {raw} is not an item of {project.name}")
        control_mark(item_id=int(raw), user=request.user, active=active)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Item {raw} {'is a control item now' if active else 'is no longer served'}.")
    return redirect("project-quality", slug=slug)


@requires("item.review", target="item:pk", methods=("POST",))
def suspect_resolve_page(request, pk):
    decision = request.POST.get("decision", "")
    suspect = selectors_quality.suspect_open_get(item_id=pk)
    project_slug = suspect.item.project.slug if suspect else None
    try:
        if suspect is None:
            raise ServiceError(f"item {pk} has no suspect label waiting for re-review")
        if decision == "take_proposal":
            if suspect.prediction is None:
                raise ServiceError("the model's proposal is gone: correct the item in the API instead")
            suspect_label_resolve(item_id=pk, reviewer=request.user, decision="correct",
                                  annotation=suspect.prediction.payload, comment=request.POST.get("comment", ""))
        else:
            suspect_label_resolve(item_id=pk, reviewer=request.user, decision=decision,
                                  comment=request.POST.get("comment", ""))
    except (ServiceError, AnnotationError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("project-quality", slug=project_slug) if project_slug else redirect("project-list")
    messages.success(request, f"Item {pk}: re-reviewed; training may use it again.")
    return redirect("project-quality", slug=project_slug)


def _form_number(raw: str):
    """A form's number as a float, or the text itself (the service names what is wrong with it)."""
    try:
        value = float(raw.strip())
    except ValueError:
        return raw
    return value if math.isfinite(value) else raw


@requires("project.manage", target="project_slug:slug", methods=("POST",))
def project_review_settings(request, slug):
    project = get_object_or_404(Project, slug=slug)
    quality = selectors_quality.project_quality(project=project)
    # An empty field sets nothing: the threshold is learned from the accepted answers (or the default).
    thresholds = {t["name"]: _form_number(raw) for t in quality["suspect_thresholds"]
                  if (raw := request.POST.get(f"suspect_{t['name']}", "").strip())}
    # A share the form does not send keeps its value.
    shares = {name: _form_number(request.POST[name]) for name in REVIEW_SHARES if name in request.POST}
    try:
        project_review_settings_update(project=project, actor=request.user, reason=request.POST.get("reason", ""),
                                       suspect_thresholds=thresholds, **shares)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Review and suspect settings saved.")
    return redirect("project-quality", slug=slug)


@requires("item.review", target="project_slug:slug")
def project_review_queue_page(request, slug):
    """Submitted items, riskiest first, with why each is risky; the routing decisions below."""
    project = get_object_or_404(Project, slug=slug)
    return render(request, "labeling/review_queue.html", {
        "project": project, "rows": selectors_quality.review_queue(project_id=project.pk),
        "decisions": selectors_quality.review_routing_list(project_id=project.pk, limit=50),
    })
