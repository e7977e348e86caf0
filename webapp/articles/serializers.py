"""Request and answer bodies of the articles kind's API."""
from rest_framework import serializers
from webapp.core.serializers import StrictCharField, StrictIntegerField

MAX_CUTS = 500  # a broadsheet has a few dozen cuts and articles; the partition's cost grows with them


class RecomputeSerializer(serializers.Serializer):
    cuts = serializers.ListField(child=serializers.JSONField(), max_length=MAX_CUTS,
                                 help_text="The page's cuts [{x0, y0, x1, y1}] in page pixels")
    articles = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=MAX_CUTS,
                                     help_text="The articles before the edit (ids and reading order to keep)")
    snap = serializers.ListField(child=StrictIntegerField(min_value=0), required=False, default=list,
                                 max_length=5000, help_text="Indices of the cuts to snap (those just drawn or moved)")
    merge = serializers.ListField(child=StrictCharField(max_length=64), required=False, min_length=2,
                                  max_length=2, help_text="Two article ids to merge: the cuts between them go")


class RecomputeAnswerSerializer(serializers.Serializer):
    cuts = serializers.ListField(child=serializers.JSONField())
    articles = serializers.ListField(child=serializers.JSONField())
    snapped = serializers.ListField(child=serializers.JSONField(),
                                    help_text="[{index, to: [what the cut snapped to]}] per snapped cut")
    geometry = serializers.JSONField(help_text="The page geometry used: frame, gutters, rules (page pixels)")
