"""API shapes of a project upload: the files, the grouping, and the report with the items made."""
from rest_framework import serializers

from webapp.assets.serializers import IngestReportSerializer
from webapp.labeling.services.ingest import GROUPINGS
from webapp.core.serializers import StrictBooleanField, StrictCharField, StrictChoiceField, StrictIntegerField


class ProjectUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), min_length=1,
                                  help_text="Images (PNG, JPEG, TIFF) or zip archives of them, and annotation "
                                            "files of those images (COCO .json; PAGE XML .xml for articles; "
                                            "alignments or DeepScoresV2 .json for omr).")
    grouping = StrictChoiceField(choices=GROUPINGS, required=False,
                                 help_text="single: one item per image; series: images sharing a name prefix "
                                           "before the last _ or -; pairs: <stem>.<role>.<ext>. Default: the "
                                           "first that fits the project's kind.")


class UploadedItemSerializer(serializers.Serializer):
    id = StrictIntegerField()
    external_id = StrictCharField()
    files = serializers.ListField(child=StrictCharField())
    created = StrictBooleanField(help_text="False when the project already had an item of these images.")


class UnmatchedFileSerializer(serializers.Serializer):
    name = StrictCharField()
    reason = StrictCharField()


class ImportedAnnotationFileSerializer(serializers.Serializer):
    name = StrictCharField()
    archive = StrictCharField(help_text="The zip it came from; empty for a file uploaded as such.")
    status = StrictChoiceField(choices=["imported", "refused"])
    items = StrictIntegerField(help_text="Items whose proposal it gave.")
    reason = StrictCharField(help_text="Why it was refused (every problem with its path), or a note.")


class ProjectUploadReportSerializer(IngestReportSerializer):
    items = UploadedItemSerializer(many=True)
    unmatched = UnmatchedFileSerializer(many=True, help_text="Stored images that did not make an item, and why.")
    annotations = ImportedAnnotationFileSerializer(many=True, required=False,
                                                   help_text="Each annotation file: imported, or refused with why.")
