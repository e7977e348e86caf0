"""API shapes of the labeling core (reads are plain; writes validate the envelope, services the content)."""
import copy

from django.db import models
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.core.serializers import (
    StrictBooleanField, StrictCharField, StrictFloatField, StrictIntegerField, StrictSlugField,
)
from webapp.labeling.kinds import all_kinds, kind_names
from webapp.labeling.models import ItemState, Lease, Prediction, Project, Review, Revision, WorkItem
from webapp.labeling.selectors import item_fresh_prediction


class AnnotationField(serializers.JSONField):
    """An annotation in its kind's format (validated by the kind's validator in the services)."""


def _openapi(schema: dict) -> dict:
    """A JSON Schema (2020-12) as OpenAPI 3.0 writes it: no $schema, ``nullable`` instead of a null type."""
    schema = copy.deepcopy(schema)
    schema.pop("$schema", None)
    for key, value in list(schema.items()):
        if isinstance(value, dict):
            schema[key] = _openapi(value)
        elif isinstance(value, list):
            schema[key] = [_openapi(v) if isinstance(v, dict) else v for v in value]
    alternatives = schema.get("oneOf")
    if alternatives and {"type": "null"} in alternatives and len(alternatives) == 2:
        (other,) = [a for a in alternatives if a != {"type": "null"}]
        schema.pop("oneOf")
        schema.update(other, nullable=True)
    return schema


class AnnotationFieldExtension(OpenApiSerializerFieldExtension):
    """Publishes each registered kind's annotation JSON Schema in the OpenAPI document."""

    target_class = AnnotationField

    def map_serializer_field(self, auto_schema, direction):
        kinds = [k for k in all_kinds() if k.json_schema]
        return {"oneOf": [_openapi(k.json_schema) | {"title": f"{k.name} annotation"} for k in kinds],
                "description": "The annotation in the item's kind format: " + ", ".join(k.name for k in kinds)}


class QueueDepthSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    total = serializers.IntegerField()
    new = serializers.IntegerField()
    predicted = serializers.IntegerField()
    leased = serializers.IntegerField()
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    sent_back = serializers.IntegerField()


class ProjectSerializer(serializers.ModelSerializer):
    # The project API takes JSON only: values must have the JSON types the schema gives them.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField, models.FloatField: StrictFloatField,
        models.PositiveIntegerField: StrictIntegerField, models.CharField: StrictCharField,
        models.TextField: StrictCharField, models.SlugField: StrictSlugField,
    }
    kind = serializers.ChoiceField(choices=[])
    depth = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "kind", "scope_key", "description", "queue_policy", "audit_share",
                  "review_required", "golden_share", "train_after_corrections", "train_after_minutes",
                  "auto_promote", "created_at", "depth"]
        read_only_fields = ["id", "created_at", "depth"]
        extra_kwargs = {"slug": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k) for k in kind_names()]

    @extend_schema_field(QueueDepthSerializer(allow_null=True))
    def get_depth(self, obj):
        return self.context.get("depths", {}).get(obj.pk)

    def validate_audit_share(self, value):
        if not 0 <= value <= 1:
            raise serializers.ValidationError("must be between 0 and 1")
        return value

    validate_golden_share = validate_audit_share


class ItemAssetSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="asset.id")
    role = serializers.CharField()
    name = serializers.CharField(source="asset.original_name")
    width = serializers.IntegerField(source="asset.width")
    height = serializers.IntegerField(source="asset.height")
    working_width = serializers.IntegerField(source="asset.working_width", allow_null=True)
    working_height = serializers.IntegerField(source="asset.working_height", allow_null=True)
    derivatives = serializers.CharField(source="asset.derivatives")
    working_url = serializers.SerializerMethodField()
    dzi_url = serializers.SerializerMethodField()

    def get_working_url(self, link) -> str:
        return reverse("asset-working", args=[link.asset_id])

    def get_dzi_url(self, link) -> str | None:
        return reverse("asset-dzi", args=[link.asset_id]) if link.asset.dzi else None


class RevisionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None, allow_null=True)
    base = serializers.IntegerField(source="base.number", default=None, allow_null=True)
    from_prediction = serializers.IntegerField(source="from_prediction_id", allow_null=True)
    annotation = AnnotationField()

    class Meta:
        model = Revision
        fields = ["number", "base", "author", "source", "from_prediction", "annotation", "diff", "edit_count",
                  "created_at"]


class PredictionSerializer(serializers.ModelSerializer):
    model_version = serializers.SerializerMethodField(help_text="null for an imported annotation (source: import)")
    payload = AnnotationField()

    class Meta:
        model = Prediction
        fields = ["id", "source", "model_version", "payload", "scores", "uncertainty", "stale", "created_at"]

    def get_model_version(self, obj) -> dict | None:
        v = obj.model_version
        return None if v is None else {"id": v.pk, "kind": v.kind, "scope_key": v.scope_key, "number": v.number}


class ReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")
    revision = serializers.IntegerField(source="revision.number")

    class Meta:
        model = Review
        fields = ["id", "revision", "reviewer", "decision", "comment", "created_at"]


class WorkItemSerializer(serializers.ModelSerializer):
    assets = ItemAssetSerializer(source="item_assets", many=True)
    head_revision = serializers.IntegerField(source="head_revision.number", default=None, allow_null=True)
    lease_holder = serializers.CharField(source="lease_holder.username", default=None, allow_null=True)

    class Meta:
        model = WorkItem
        fields = ["id", "project", "external_id", "state", "split", "uncertainty", "meta", "head_revision",
                  "lease_holder", "lease_expires_at", "assets", "created_at", "updated_at"]


class WorkItemDetailSerializer(WorkItemSerializer):
    kind = serializers.CharField(source="project.kind")
    current = RevisionSerializer(source="head_revision", allow_null=True)
    prediction = serializers.SerializerMethodField()
    reviews = ReviewSerializer(many=True)

    class Meta(WorkItemSerializer.Meta):
        fields = WorkItemSerializer.Meta.fields + ["kind", "current", "prediction", "reviews"]

    def get_prediction(self, item) -> PredictionSerializer(allow_null=True):
        fresh = item_fresh_prediction(item)
        return PredictionSerializer(fresh).data if fresh else None


class LeaseSerializer(serializers.ModelSerializer):
    item = serializers.IntegerField(source="item_id")
    holder = serializers.CharField(source="holder.username")

    class Meta:
        model = Lease
        fields = ["token", "item", "holder", "created_at", "expires_at"]


class RevisionSubmitSerializer(serializers.Serializer):
    annotation = AnnotationField()
    base_revision = serializers.IntegerField(allow_null=True, min_value=1,
                                             help_text="The revision number this edit started from; null for the first.")
    from_prediction = serializers.IntegerField(required=False, allow_null=True)


class ReviewSubmitSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Review.Decision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    revision = serializers.IntegerField(required=False, allow_null=True)


class PredictionCreateSerializer(serializers.Serializer):
    model_version = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    payload = AnnotationField()
    scores = serializers.JSONField(required=False, default=dict)
    uncertainty = serializers.FloatField(min_value=0, max_value=1)


class ItemFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=ItemState.choices, required=False)
    split = serializers.ChoiceField(choices=WorkItem.Split.choices, required=False)

    def validate(self, attrs):
        # A query string's empty value (?state=) would otherwise count as absent and list everything.
        empty = {name: ["must be one of the listed values, not empty"] for name in self.fields
                 if self.initial_data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return attrs


class ConflictSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    item = serializers.IntegerField()
    yours = serializers.JSONField()
    current = serializers.JSONField(allow_null=True, help_text="The current revision: number, annotation, author.")


class RepredictSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    queued = serializers.BooleanField(help_text="false: a request for this item is pending already")
