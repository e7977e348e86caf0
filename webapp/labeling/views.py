"""Pages of the labeling core: project list (live queue depths), a project's queue, an item."""
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render

from webapp.accounts.permissions import can, requires, visible_project_ids
from webapp.assets.storage import open_stream
from webapp.core.csp import allow_script_source
from webapp.core.errors import ServiceError
from webapp.labeling import selectors, services
from webapp.labeling.exports import export_formats
from webapp.labeling.kinds import get_kind
from webapp.labeling.maps import prediction_map_relpath
from webapp.labeling.models import ItemState, Project
from webapp.labeling.serializers import MAP_LAYERS, WorkItemDetailSerializer

QUEUE_PAGE_SIZE = 100


@requires("project.list")
def project_list(request):
    rows = [{"project": p, "depth": d, "kind": get_kind(p.kind)}
            for p, d in selectors.project_list_with_depths(project_ids=visible_project_ids(request.user))]
    return render(request, "labeling/project_list.html", {"rows": rows})


@requires("project.view", target="project_slug:slug")
def project_queue(request, slug):
    project = get_object_or_404(Project, slug=slug)
    state = request.GET.get("state") or None
    if state not in (None, *ItemState.values):
        state = None
    items = selectors.item_list(project_id=project.pk, state=state)[:QUEUE_PAGE_SIZE]
    return render(request, "labeling/queue.html", {
        "project": project, "items": items, "state": state, "states": ItemState.values,
        "depth": selectors.queue_depth(project_id=project.pk), "kind": get_kind(project.kind),
        "export_formats": export_formats(project.kind), "page_size": QUEUE_PAGE_SIZE,
        "can_label": can(request.user, "item.label", project_id=project.pk),
        "can_upload": can(request.user, "project.upload", project_id=project.pk),
        "is_reviewer": can(request.user, "item.review", project_id=project.pk),
    })


@requires("item.label", target="project_slug:slug", methods=("POST",))
def project_take_next(request, slug):
    project = get_object_or_404(Project, slug=slug)
    try:
        lease = services.lease_take_next(project_id=project.pk, user=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("project-queue", slug=slug)
    if lease is None:
        messages.info(request, "The queue is empty: nothing left to label.")
        return redirect("project-queue", slug=slug)
    return redirect("item-page", pk=lease.item_id)


@requires("item.view", target="item:pk")
def item_page(request, pk):
    item = selectors.item_detail(item_id=pk)
    spec = get_kind(item.project.kind)
    data = WorkItemDetailSerializer(item, context={"request": request}).data
    # The workspace draws with Annotorious 3.8, whose builds (UMD and ES alike) inline PixiJS 7.4: its
    # ShaderSystem checks for ``new Function`` in its constructor and throws without 'unsafe-eval'. Pixi's
    # CSP-safe path (@pixi/unsafe-eval) patches Pixi's own classes, which are sealed inside Annotorious'
    # bundle; taking it means bundling Annotorious from its sources with that module. So this page alone
    # allows eval; nothing on it builds markup from data (static/js/dom.js) and inline scripts stay nonce-only.
    allow_script_source(request, "'unsafe-eval'")
    return render(request, spec.template, {
        "item": item, "project": item.project, "kind": spec,
        "item_data": data,
        "taxonomy": list(spec.taxonomy),
        "empty_annotation": spec.empty_annotation(selectors.item_asset_dims(item_id=pk)),
        # The lease comes from the database, never from the URL: a crafted ``?lease=`` once steered the
        # page's heartbeat call onto other API endpoints with the viewer's session.
        "lease_token": str(lease.token) if (lease := selectors.lease_held(item_id=pk, user=request.user)) else "",
        "revisions": selectors.revision_history(item_id=pk),
        "can_label": can(request.user, "item.label", project_id=item.project_id),
        "can_review": (can_review := can(request.user, "item.review", project_id=item.project_id)),
        "is_reviewer": can_review,  # the role in this project, not anywhere
    })


FLAG_PAGE_SIZE = 200


@requires("item.review", target="project_slug:slug")
def project_flags(request, slug):
    """The reviewer's list of flagged items (open ones by default)."""
    project = get_object_or_404(Project, slug=slug)
    open_only = request.GET.get("open", "1" if not request.GET else "") == "1"
    flags = selectors.flag_list(project_id=project.pk, open_only=open_only)[:FLAG_PAGE_SIZE]
    return render(request, "labeling/flags.html", {"project": project, "flags": flags, "open_only": open_only})


@requires("item.review", target="flag:pk", methods=("POST",))
def flag_resolve(request, pk):
    try:
        flag = services.flag_resolve(flag_id=pk, reviewer=request.user, comment=request.POST.get("comment", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("project-list")
    messages.success(request, f"Item {flag.item_id} is back in the queue.")
    return redirect("project-flags", slug=flag.item.project.slug)


@requires("item.view", target="prediction:pk")
def prediction_map(request, pk, shot, layer):
    """A raster layer of a prediction (defect map, saliency) as a PNG; 404 where none was made. The
    path is built from the database and integers only."""
    if layer not in MAP_LAYERS:
        raise Http404("no such layer")
    found = selectors.prediction_get(prediction_id=pk)
    if found is None or found.model_version_id is None:   # an imported annotation has no maps
        raise Http404("no such prediction")
    name = prediction_map_relpath(item_id=found.item_id, model_version_id=found.model_version_id, shot=shot,
                                  layer=layer)
    try:
        response = FileResponse(open_stream(name), content_type="image/png")
    except (FileNotFoundError, IsADirectoryError):
        raise Http404("no map was made for this shot") from None
    response["Cache-Control"] = "private, max-age=86400"   # a prediction's maps never change
    return response


@requires("account.self")
def my_work(request):
    """The signed-in operator's own figures: today and this week."""
    summary = selectors.work_summary(user=request.user)
    return render(request, "labeling/my_work.html", {"periods": [("Today", summary["today"]),
                                                                  ("This week", summary["week"])]})
