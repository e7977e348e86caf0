"""Upload images into a project: each file is checked and reported, then grouped into work items."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.assets.api import MULTI_STATUS, report_body, report_status, upload_files
from webapp.core.errors import NotFound
from webapp.core.serializers import ServiceErrorSerializer
from webapp.core.throttles import SettingsScopedRateThrottle
from webapp.labeling.models import Project
from webapp.labeling.selectors import project_get
from webapp.labeling.serializers_upload import ProjectUploadReportSerializer, ProjectUploadSerializer
from webapp.labeling.services.ingest import ItemsIngestReport, grouping_check, groupings_for_kind, items_ingest

_REPORT = ProjectUploadReportSerializer
_REPORT_OR_ERROR = PolymorphicProxySerializer(component_name="ProjectUploadRefusal", resource_type_field_name=None,
                                              serializers=[ProjectUploadReportSerializer, ServiceErrorSerializer])


class ProjectUploadAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    permission_action = "project.upload"
    permission_target = "project:pk"
    throttle_classes = [SettingsScopedRateThrottle]
    throttle_scope = "uploads"

    @extend_schema(
        summary="Upload images (or zips) into a project and make work items of them; annotation files beside "
                "them (COCO .json, PAGE XML .xml; omr: alignments or DeepScoresV2 .json) become the items' proposals",
        request={"multipart/form-data": ProjectUploadSerializer},
        responses={201: _REPORT, 200: OpenApiResponse(_REPORT, description="Nothing new (all known already)."),
                   202: OpenApiResponse(_REPORT, description="Large zips queued for a worker (see imports)."),
                   207: OpenApiResponse(_REPORT, description="Some files refused or left unpaired, or an annotation "
                                                             "file refused (each with its reason)."),
                   400: OpenApiResponse(_REPORT_OR_ERROR, description="Every file refused (a report), or a wrong "
                                                                      "grouping (an error)."),
                   413: OpenApiResponse(_REPORT, description="Every file refused as too large."),
                   429: OpenApiResponse(_REPORT_OR_ERROR, description="Too many uploads, or every file over the "
                                                             "uploader's pixel budget for the hour."),
                   404: OpenApiResponse(description="No such project.")})
    def post(self, request, pk: int):
        try:
            project = project_get(project_id=pk)
        except Project.DoesNotExist:
            raise NotFound(f"no project with id {pk}") from None
        grouping = request.data.get("grouping") or groupings_for_kind(project.kind)[0]
        grouping_check(kind=project.kind, grouping=grouping)
        made = ItemsIngestReport()

        def inline(uploads):
            nonlocal made
            made = items_ingest(project=project, files=[(f.name, f) for f in uploads], grouping=grouping,
                                user=request.user)
            return made.results

        results, imports = upload_files(request.FILES.getlist("files"), user=request.user, inline=inline,
                                        target={"project": project.pk, "grouping": grouping})
        code = report_status(results, len(imports))
        imported = [a for a in made.annotations if a["status"] == "imported"]
        if not results and not imports and made.annotations:
            code = status.HTTP_201_CREATED if imported else status.HTTP_400_BAD_REQUEST
        refused_annotations = len(imported) < len(made.annotations)
        if (made.unmatched or refused_annotations) and code in (status.HTTP_200_OK, status.HTTP_201_CREATED):
            code = MULTI_STATUS
        return Response(report_body(results, imports, items=made.items, unmatched=made.unmatched,
                                    annotations=made.annotations), status=code)
