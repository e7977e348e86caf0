"""Asset API: upload images and zips (a report per file), read one asset."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.assets.selectors import asset_get
from webapp.assets.serializers import AssetSerializer, IngestReportSerializer, UploadSerializer
from webapp.assets.services import IngestResult, assets_ingest_upload

MULTI_STATUS = 207


def report_status(results: list[IngestResult]) -> int:
    """201 all stored (200 when all were duplicates); 207 some refused; 400 / 413 all refused."""
    refused = [r for r in results if r.status == "refused"]
    if not results or len(refused) == len(results):
        too_large = refused and all(r.too_large for r in refused)
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if too_large else status.HTTP_400_BAD_REQUEST
    if refused:
        return MULTI_STATUS
    return status.HTTP_201_CREATED if any(r.status == "created" for r in results) else status.HTTP_200_OK


def report_body(results: list[IngestResult], **extra) -> dict:
    refused = [r for r in results if r.status == "refused"]
    detail = "; ".join(f"{r.name}: {r.reason}" for r in refused) if results else "no files were sent (field 'files')"
    report = {"detail": detail,
              "counts": {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "refused")},
              "results": [vars(r) for r in results]}
    return {**IngestReportSerializer(report).data, **extra}


_UPLOAD_RESPONSES = {
    201: IngestReportSerializer, 200: OpenApiResponse(IngestReportSerializer, description="All duplicates."),
    207: OpenApiResponse(IngestReportSerializer, description="Some files stored, some refused."),
    400: OpenApiResponse(IngestReportSerializer, description="Every file refused; detail names each and why."),
    413: OpenApiResponse(IngestReportSerializer, description="Every file refused as too large."),
}


class AssetUploadAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    permission_action = "asset.upload"  # anyone who may upload into some project

    @extend_schema(summary="Upload images (PNG, JPEG, TIFF) or zip archives of them",
                   request={"multipart/form-data": UploadSerializer}, responses=_UPLOAD_RESPONSES)
    def post(self, request):
        results = []
        for upload in request.FILES.getlist("files"):
            results += assets_ingest_upload(data=upload, name=upload.name, user=request.user).results
        return Response(report_body(results), status=report_status(results))


class AssetDetailAPIView(APIView):
    permission_action = "item.view"  # seen through the items that show it (or one's own upload)
    permission_target = "asset:pk"

    @extend_schema(summary="One asset with the state of its derivatives", responses=AssetSerializer)
    def get(self, request, pk: int):
        return Response(AssetSerializer(asset_get(asset_id=pk)).data)
