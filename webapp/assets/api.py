"""Asset API: upload images and zips (a report per file), read one asset."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.assets.selectors import asset_get
from webapp.assets.imports import zip_import_get, zip_import_queue, zip_is_large
from webapp.assets.models import ZipImport
from webapp.assets.serializers import AssetSerializer, IngestReportSerializer, UploadSerializer, ZipImportSerializer
from webapp.assets.services import IngestResult, assets_ingest_upload
from webapp.assets.validation import AssetRejected
from webapp.core.serializers import ServiceErrorSerializer
from webapp.core.throttles import SettingsScopedRateThrottle

MULTI_STATUS = 207


def report_status(results: list[IngestResult], imports: int = 0) -> int:
    """201 all stored (200 when all were duplicates); 207 some refused; 400 / 413 / 429 all refused;
    202 when large zips went to a worker (207 if files were also refused)."""
    refused = [r for r in results if r.status == "refused"]
    if imports:
        return MULTI_STATUS if refused else status.HTTP_202_ACCEPTED
    if refused and len(refused) == len(results) and all(r.over_budget for r in refused):
        return status.HTTP_429_TOO_MANY_REQUESTS
    if not results or len(refused) == len(results):
        too_large = refused and all(r.too_large for r in refused)
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if too_large else status.HTTP_400_BAD_REQUEST
    if refused:
        return MULTI_STATUS
    return status.HTTP_201_CREATED if any(r.status == "created" for r in results) else status.HTTP_200_OK


def report_body(results: list[IngestResult], imports: list[ZipImport] = (), **extra) -> dict:
    refused = [r for r in results if r.status == "refused"]
    detail = "; ".join(f"{r.name}: {r.reason}" for r in refused) if results or imports \
        else "no files were sent (field 'files')"
    report = {"detail": detail,
              "counts": {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "refused")},
              "results": [vars(r) for r in results], "imports": list(imports)}
    return {**IngestReportSerializer(report).data, **extra}


def upload_files(uploads, *, user, inline, target: dict | None = None) -> tuple[list[IngestResult], list[ZipImport]]:
    """Each uploaded file: a large zip is queued for a worker (checked up front), the rest go to ``inline``."""
    results, imports, kept = [], [], []
    for upload in uploads:
        if zip_is_large(upload):
            try:
                imports.append(zip_import_queue(data=upload, name=upload.name, user=user, target=target))
            except AssetRejected as exc:
                results.append(IngestResult(name=upload.name, status="refused", reason=exc.reason))
        else:
            kept.append(upload)
    return results + inline(kept), imports


_REPORT_OR_ERROR = PolymorphicProxySerializer(component_name="UploadRefusal", resource_type_field_name=None,
                                              serializers=[IngestReportSerializer, ServiceErrorSerializer])
_UPLOAD_RESPONSES = {
    201: IngestReportSerializer, 200: OpenApiResponse(IngestReportSerializer, description="All duplicates."),
    202: OpenApiResponse(IngestReportSerializer, description="Large zips queued for a worker (see imports)."),
    207: OpenApiResponse(IngestReportSerializer, description="Some files stored, some refused."),
    400: OpenApiResponse(IngestReportSerializer, description="Every file refused; detail names each and why."),
    413: OpenApiResponse(IngestReportSerializer, description="Every file refused as too large."),
    429: OpenApiResponse(_REPORT_OR_ERROR, description="Too many uploads, or every file over the "
                                                             "uploader's pixel budget for the hour."),
}


class AssetUploadAPIView(APIView):
    parser_classes = [MultiPartParser, FormParser]
    permission_action = "asset.upload"  # anyone who may upload into some project
    throttle_classes = [SettingsScopedRateThrottle]
    throttle_scope = "uploads"

    @extend_schema(summary="Upload images (PNG, JPEG, TIFF) or zip archives of them",
                   request={"multipart/form-data": UploadSerializer}, responses=_UPLOAD_RESPONSES)
    def post(self, request):
        def inline(uploads):
            return [r for u in uploads for r in assets_ingest_upload(data=u, name=u.name, user=request.user).results]

        results, imports = upload_files(request.FILES.getlist("files"), user=request.user, inline=inline)
        return Response(report_body(results, imports), status=report_status(results, len(imports)))


class ZipImportDetailAPIView(APIView):
    # One's own uploads: the selector answers 404 for another user's import (admins see all).
    permission_action = "account.self"
    @extend_schema(summary="A large zip upload being expanded by a worker: progress, then its report",
                   responses=ZipImportSerializer)
    def get(self, request, pk: int):
        return Response(ZipImportSerializer(zip_import_get(import_id=pk, user=request.user)).data)


class AssetDetailAPIView(APIView):
    permission_action = "item.view"  # seen through the items that show it (or one's own upload)
    permission_target = "asset:pk"

    @extend_schema(summary="One asset with the state of its derivatives", responses=AssetSerializer)
    def get(self, request, pk: int):
        return Response(AssetSerializer(asset_get(asset_id=pk)).data)
