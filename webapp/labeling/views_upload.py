"""The upload page of a project: drop files, watch the upload progress, read the per-file report."""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from webapp.accounts.permissions import requires
from webapp.labeling.kinds import get_kind
from webapp.labeling.models import Project
from webapp.labeling.selectors import project_get
from webapp.labeling.services.ingest import groupings_for_kind

GROUPING_LABELS = {
    "single": "One item per image",
    "series": "Series: images sharing a name prefix before the last _ or - (e.g. balloon7_001.png)",
    "pairs": "Pairs: <name>.{roles}.<ext>",
}


@requires("project.upload", target="project_slug:slug")
def project_upload_page(request, slug: str):
    try:
        project = project_get(slug=slug)
    except Project.DoesNotExist:
        raise Http404("no such project") from None
    roles = get_kind(project.kind).asset_roles
    groupings = [(g, GROUPING_LABELS[g].format(roles="|".join(roles))) for g in groupings_for_kind(project.kind)]
    try:
        api_url = reverse("project-upload-api", args=[project.pk])
    except NoReverseMatch:  # the API route is wired in labeling/api_urls.py by name
        api_url = f"/api/v1/projects/{project.pk}/upload/"
    return render(request, "labeling/upload.html", {"project": project, "groupings": groupings, "api_url": api_url})
