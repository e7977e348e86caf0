"""API shapes of a project upload: the files, the grouping, and the report with the items made."""
from rest_framework import serializers

from webapp.assets.serializers import IngestReportSerializer
from webapp.labeling.services.ingest import GROUPINGS


class ProjectUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), min_length=1,
                                  help_text="Images (PNG, JPEG, TIFF) or zip archives of them.")
    grouping = serializers.ChoiceField(choices=GROUPINGS, required=False,
                                       help_text="single: one item per image; series: images sharing a name prefix "
                                                 "before the last _ or -; pairs: <stem>.<role>.<ext>. Default: the "
                                                 "first that fits the project's kind.")


class UploadedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    files = serializers.ListField(child=serializers.CharField())
    created = serializers.BooleanField(help_text="False when the project already had an item of these images.")


class UnmatchedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class ProjectUploadReportSerializer(IngestReportSerializer):
    items = UploadedItemSerializer(many=True)
    unmatched = UnmatchedFileSerializer(many=True, help_text="Stored images that did not make an item, and why.")
