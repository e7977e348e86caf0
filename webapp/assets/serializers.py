"""API shapes of assets and of upload reports."""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.assets.models import Asset, ZipImport
from webapp.core.serializers import StrictCharField, StrictChoiceField, StrictIntegerField, StrictModelSerializer


class AssetUrlsSerializer(serializers.Serializer):
    original = StrictCharField()
    working = StrictCharField(help_text="The working copy, or the original until it is ready.")
    dzi = StrictCharField(allow_null=True, help_text="Deep-zoom descriptor; null until the tiles exist.")


class AssetSerializer(StrictModelSerializer):
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ["id", "sha256", "original_name", "format", "mode", "width", "height", "byte_size",
                  "exif_orientation", "working_width", "working_height", "derivatives", "derivatives_error",
                  "created_at", "urls"]
        read_only_fields = fields

    @extend_schema_field(AssetUrlsSerializer)
    def get_urls(self, asset: Asset) -> dict:
        ready = asset.derivatives == Asset.Derivatives.READY and bool(asset.dzi)
        return {"original": reverse("asset-original", args=[asset.pk]),
                "working": reverse("asset-working", args=[asset.pk]),
                "dzi": reverse("asset-dzi", args=[asset.pk]) if ready else None}


class UploadSerializer(serializers.Serializer):
    """Request body of an upload (multipart); zip archives are expanded."""

    files = serializers.ListField(child=serializers.FileField(), min_length=1)


class IngestResultSerializer(serializers.Serializer):
    name = StrictCharField(help_text="The file name, or the member's path inside its zip.")
    archive = StrictCharField(allow_blank=True, help_text="The zip it came from, if any.")
    status = StrictChoiceField(choices=["created", "duplicate", "refused"])
    reason = StrictCharField(allow_blank=True, help_text="Why it was refused.")
    asset = AssetSerializer(allow_null=True)


class IngestCountsSerializer(serializers.Serializer):
    created = StrictIntegerField()
    duplicate = StrictIntegerField()
    refused = StrictIntegerField()


class ZipImportSerializer(StrictModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ZipImport
        fields = ["id", "name", "state", "members_total", "members_done", "report", "error", "created_at",
                  "finished_at", "url"]
        read_only_fields = fields
        extra_kwargs = {"report": {"allow_null": True,
                                   "help_text": "When done: the upload report, as the upload API answers it."}}

    def get_url(self, job: ZipImport) -> str:
        return reverse("api-import", args=[job.pk])


class IngestReportSerializer(serializers.Serializer):
    detail = StrictCharField(allow_blank=True, help_text="Each refused file with its reason.")
    counts = IngestCountsSerializer()
    results = IngestResultSerializer(many=True)
    imports = ZipImportSerializer(many=True, required=False, default=list,
                                  help_text="Large zips expanded by a worker: follow each at its url.")
