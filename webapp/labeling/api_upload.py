"""Upload images into a project: each file is checked and reported, then grouped into work items."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.assets.api import MULTI_STATUS, report_body, report_status
from webapp.core.errors import NotFound
from webapp.labeling.models import Project
from webapp.labeling.selectors import project_get
from webapp.labeling.serializers_upload import ProjectUploadReportSerializer, ProjectUploadSerializer
from webapp.labeling.services.ingest import groupings_for_kind, items_ingest

_REPORT = ProjectUploadReportSerializer


class ProjectUploadAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    permission_action = "project.upload"
    permission_target = "project:pk"

    @extend_schema(
        summary="Upload images (or zips) into a project and make work items of them; annotation files beside "
                "them (COCO .json, PAGE XML .xml) become the items' proposals",
        request={"multipart/form-data": ProjectUploadSerializer},
        responses={201: _REPORT, 200: OpenApiResponse(_REPORT, description="Nothing new (all known already)."),
                   207: OpenApiResponse(_REPORT, description="Some files refused or left unpaired, or an annotation "
                                                             "file refused (each with its reason)."),
                   400: OpenApiResponse(_REPORT, description="Every file refused, or a wrong grouping."),
                   413: OpenApiResponse(_REPORT, description="Every file refused as too large."),
                   404: OpenApiResponse(description="No such project.")})
    def post(self, request, pk: int):
        try:
            project = project_get(project_id=pk)
        except Project.DoesNotExist:
            raise NotFound(f"no project with id {pk}") from None
        uploads = request.FILES.getlist("files")
        report = items_ingest(project=project, files=[(f.name, f) for f in uploads],
                              grouping=request.data.get("grouping") or groupings_for_kind(project.kind)[0],
                              user=request.user)
        code = report_status(report.results)
        imported = [a for a in report.annotations if a["status"] == "imported"]
        if not report.results and report.annotations:
            code = status.HTTP_201_CREATED if imported else status.HTTP_400_BAD_REQUEST
        refused_annotations = len(imported) < len(report.annotations)
        if (report.unmatched or refused_annotations) and code in (status.HTTP_200_OK, status.HTTP_201_CREATED):
            code = MULTI_STATUS
        return Response(report_body(report.results, items=report.items, unmatched=report.unmatched,
                                    annotations=report.annotations), status=code)
