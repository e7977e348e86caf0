"""API shapes of the labeling core (reads are plain; writes validate the envelope, services the content)."""
import copy

from django.db import models
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.core.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictModelSerializer,
    StrictSlugField,
)
from webapp.labeling.kinds import all_kinds, kind_names, suspect_thresholds_errors
from webapp.labeling.models import Draft, Flag, ItemState, Lease, Prediction, Project, Review, Revision, WorkItem
from webapp.labeling.selectors import (
    draft_get, flag_open, item_fresh_prediction, lease_held, review_last_send_back,
)

MAP_LAYERS = ("defect", "saliency")


class AnnotationField(serializers.JSONField):
    """An annotation in its kind's format (validated by the kind's validator in the services). Taken as
    parsed: the validator names the field of a NaN, which DRF's strict JSON check would refuse without
    saying where."""

    def to_internal_value(self, data):
        return data


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


class RevisionMetricsField(serializers.JSONField):
    """A revision's stored figures (``Revision.metrics``): computed by the server at submit, read only."""


class RevisionMetricsFieldExtension(OpenApiSerializerFieldExtension):
    """Publishes each kind's revision metrics JSON Schema; null where none were recorded."""

    target_class = RevisionMetricsField

    def map_serializer_field(self, auto_schema, direction):
        kinds = [k for k in all_kinds() if k.revision_metrics_schema]
        return {"oneOf": [_openapi(k.revision_metrics_schema) | {"title": f"{k.name} revision metrics"}
                          for k in kinds] or [{"type": "object"}], "nullable": True, "readOnly": True,
                "description": "Figures of this answer against the proposal, computed by the server when it was "
                               "submitted (" + ", ".join(k.name for k in kinds) + "); null when not recorded "
                               "(a kind without them, or a revision older than them). Never taken from the client."}


class QueueDepthSerializer(serializers.Serializer):
    queued = StrictIntegerField()
    total = StrictIntegerField()
    new = StrictIntegerField()
    predicted = StrictIntegerField()
    leased = StrictIntegerField()
    submitted = StrictIntegerField()
    accepted = StrictIntegerField()
    sent_back = StrictIntegerField()
    flagged = StrictIntegerField()
    paired = StrictIntegerField(help_text="answered once, waiting for a second operator's blind answer")


class ProjectSerializer(StrictModelSerializer):
    # The project API takes JSON only: values must have the JSON types the schema gives them.
    serializer_field_mapping = {
        **StrictModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField, models.FloatField: StrictFloatField,
        models.PositiveIntegerField: StrictIntegerField, models.CharField: StrictCharField,
        models.TextField: StrictCharField, models.SlugField: StrictSlugField,
    }
    kind = StrictChoiceField(choices=[])
    depth = serializers.SerializerMethodField()
    suspect_thresholds = serializers.DictField(
        child=StrictFloatField(), required=False,
        help_text="The kind's suspect-check thresholds this project sets (e.g. catheter: defect, ok; articles: "
                  "confident_cut, min_disagreements), each within its range; the kind's defaults for the rest. "
                  "The quality API lists them with defaults and ranges.")
    change_reason = StrictCharField(
        write_only=True, required=False, allow_blank=True, max_length=4000,
        help_text="Why the label-quality settings change (control_rate, review_sample_share, "
                  "review_full_below_accuracy, review_audit_share, double_answer_share, suspect_thresholds): kept "
                  "in their audit trail with who, when and the old and new values.")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "kind", "scope_key", "description", "queue_policy", "audit_share",
                  "review_required", "golden_share", "train_after_corrections", "train_after_minutes",
                  "auto_promote", "control_rate", "review_sample_share", "review_full_below_accuracy",
                  "suspect_thresholds", "review_audit_share", "double_answer_share", "change_reason", "created_at",
                  "depth"]
        read_only_fields = ["id", "created_at", "depth"]
        extra_kwargs = {"slug": {"required": False},
                        "review_sample_share": {"min_value": 0.0, "max_value": 1.0},
                        "review_full_below_accuracy": {"min_value": 0.0, "max_value": 1.0},
                        "review_audit_share": {"min_value": 0.0, "max_value": 1.0},
                        "double_answer_share": {"min_value": 0.0, "max_value": 1.0}}

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
    validate_control_rate = validate_audit_share
    validate_review_sample_share = validate_audit_share
    validate_review_full_below_accuracy = validate_audit_share
    validate_review_audit_share = validate_audit_share
    validate_double_answer_share = validate_audit_share

    TRIGGERS = ("train_after_corrections", "train_after_minutes", "auto_promote")

    def validate(self, attrs):
        # A project's training triggers are set at creation; changing them later is an admin's audited
        # decision, made at /api/v1/training-triggers/ (or on the training page), not a silent edit here.
        if self.instance is not None:
            for field in self.TRIGGERS:
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError(
                        {field: "change the training triggers at /api/v1/training-triggers/ (audited)"})
        # The thresholds are the kind's: checked against the kind the project has (or gets).
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        thresholds = attrs.get("suspect_thresholds", getattr(self.instance, "suspect_thresholds", None) or {})
        if kind in kind_names() and (errors := suspect_thresholds_errors(kind, thresholds)):
            raise serializers.ValidationError({"suspect_thresholds": errors})
        return attrs


class ItemAssetSerializer(serializers.Serializer):
    id = StrictIntegerField(source="asset.id")
    role = StrictCharField()
    name = StrictCharField(source="asset.original_name")
    width = StrictIntegerField(source="asset.width")
    height = StrictIntegerField(source="asset.height")
    working_width = StrictIntegerField(source="asset.working_width", allow_null=True)
    working_height = StrictIntegerField(source="asset.working_height", allow_null=True)
    derivatives = StrictCharField(source="asset.derivatives")
    working_url = serializers.SerializerMethodField()
    dzi_url = serializers.SerializerMethodField()

    def get_working_url(self, link) -> str:
        return reverse("asset-working", args=[link.asset_id])

    def get_dzi_url(self, link) -> str | None:
        return reverse("asset-dzi", args=[link.asset_id]) if link.asset.dzi else None


class RevisionSerializer(StrictModelSerializer):
    author = StrictCharField(source="author.username", default=None, allow_null=True)
    base = StrictIntegerField(source="base.number", default=None, allow_null=True)
    from_prediction = StrictIntegerField(source="from_prediction_id", allow_null=True)
    annotation = AnnotationField()
    metrics = RevisionMetricsField(read_only=True, allow_null=True)

    class Meta:
        model = Revision
        fields = ["number", "base", "author", "source", "from_prediction", "annotation", "diff", "edit_count",
                  "metrics", "created_at"]


class SubmittedRevisionSerializer(RevisionSerializer):
    """The answer to a submit, written out (the same as ``RevisionSerializer``'s fields give: a test compares
    them) without building a ModelSerializer's fields on every submit."""

    def to_representation(self, instance):
        return {"number": instance.number, "base": instance.base.number if instance.base_id else None,
                "author": instance.author.username if instance.author_id else None, "source": instance.source,
                "from_prediction": instance.from_prediction_id, "annotation": instance.annotation,
                "diff": instance.diff, "edit_count": instance.edit_count, "metrics": instance.metrics,
                "created_at": _iso(instance.created_at)}


class PredictionSerializer(StrictModelSerializer):
    """A proposal. ``maps``: per image, the URLs of the raster layers the worker made (null where it made
    none: only shots the model looked at twice get them); ``ood``: the out-of-distribution / adversarial
    flag and its score ({"flag", "score", "threshold"}), or null for kinds that have none."""

    model_version = serializers.SerializerMethodField(help_text="null for an imported annotation (source: import)")
    payload = AnnotationField()
    maps = serializers.SerializerMethodField()
    ood = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = ["id", "source", "model_version", "payload", "scores", "uncertainty", "stale", "created_at", "maps",
                  "ood"]

    def get_model_version(self, obj) -> dict | None:
        v = obj.model_version
        return None if v is None else {"id": v.pk, "kind": v.kind, "scope_key": v.scope_key, "number": v.number}

    def get_maps(self, obj) -> list[dict]:
        out = []
        for entry in (obj.scores or {}).get("maps", []):
            shot = int(entry["shot"])
            row = {"shot": shot}
            for layer in MAP_LAYERS:
                row[layer] = reverse("prediction-map", args=[obj.pk, shot, layer]) if entry.get(layer) else None
            out.append(row)
        return out

    def get_ood(self, obj) -> dict | None:
        return (obj.scores or {}).get("ood")


class ReviewSerializer(StrictModelSerializer):
    reviewer = StrictCharField(source="reviewer.username")
    revision = StrictIntegerField(source="revision.number")

    class Meta:
        model = Review
        fields = ["id", "revision", "reviewer", "decision", "comment", "created_at"]


class WorkItemSerializer(StrictModelSerializer):
    assets = ItemAssetSerializer(source="item_assets", many=True)
    head_revision = StrictIntegerField(source="head_revision.number", default=None, allow_null=True)
    lease_holder = StrictCharField(source="lease_holder.username", default=None, allow_null=True)

    class Meta:
        model = WorkItem
        fields = ["id", "project", "external_id", "state", "split", "uncertainty", "meta", "head_revision",
                  "lease_holder", "lease_expires_at", "assets", "created_at", "updated_at"]


class DraftSerializer(StrictModelSerializer):
    from_prediction = StrictIntegerField(source="from_prediction_id", allow_null=True)

    class Meta:
        model = Draft
        fields = ["annotation", "base_revision", "from_prediction", "updated_at"]


class DraftSaveSerializer(serializers.Serializer):
    annotation = AnnotationField()
    base_revision = StrictIntegerField(allow_null=True, min_value=1,
                                       help_text="The revision number the edit started from; null for none.")
    from_prediction = StrictIntegerField(required=False, allow_null=True, default=None)


class FlagSerializer(StrictModelSerializer):
    author = StrictCharField(source="author.username")
    resolved_by = StrictCharField(source="resolved_by.username", default=None)
    item = StrictIntegerField(source="item_id")

    class Meta:
        model = Flag
        fields = ["id", "item", "reason", "comment", "author", "created_at", "resolved_at", "resolved_by", "resolution"]


class FlagCreateSerializer(serializers.Serializer):
    reason = StrictChoiceField(choices=Flag.Reason.choices)
    comment = StrictCharField(required=False, allow_blank=True, default="", max_length=4000)


class FlagResolveSerializer(serializers.Serializer):
    comment = StrictCharField(required=False, allow_blank=True, default="", max_length=4000)


class HeldLeaseSerializer(StrictModelSerializer):
    class Meta:
        model = Lease
        fields = ["token", "expires_at"]


class WorkItemDetailSerializer(WorkItemSerializer):
    """An item as its page needs it. With a request in the context, also the caller's own draft and lease."""

    kind = StrictCharField(source="project.kind")
    current = RevisionSerializer(source="head_revision", allow_null=True)
    prediction = serializers.SerializerMethodField()
    reviews = ReviewSerializer(many=True)
    sent_back = serializers.SerializerMethodField(help_text="The review that sent the current revision back, "
                                                            "while its fix is pending; else null.")
    flag = serializers.SerializerMethodField(help_text="The item's open flag, or null.")
    draft = serializers.SerializerMethodField()
    lease = serializers.SerializerMethodField()

    class Meta(WorkItemSerializer.Meta):
        fields = WorkItemSerializer.Meta.fields + ["kind", "current", "prediction", "reviews", "sent_back", "flag",
                                                   "draft", "lease"]

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_prediction(self, item) -> PredictionSerializer(allow_null=True):
        fresh = item_fresh_prediction(item)
        return PredictionSerializer(fresh).data if fresh else None

    def get_sent_back(self, item) -> ReviewSerializer(allow_null=True):
        review = review_last_send_back(item=item)
        return ReviewSerializer(review).data if review else None

    def get_flag(self, item) -> FlagSerializer(allow_null=True):
        if item.state != ItemState.FLAGGED:
            return None
        flag = flag_open(item_id=item.pk)
        return FlagSerializer(flag).data if flag else None

    def get_draft(self, item) -> DraftSerializer(allow_null=True):
        draft = draft_get(item_id=item.pk, user=self._user())
        return DraftSerializer(draft).data if draft else None

    def get_lease(self, item) -> HeldLeaseSerializer(allow_null=True):
        # a lease just taken comes with the context; else the caller's live one, if any
        lease = self.context.get("lease")
        if lease is None or lease.item_id != item.pk:
            lease = lease_held(item_id=item.pk, user=self._user())
        return HeldLeaseSerializer(lease).data if lease else None


def _iso(value):
    """A datetime as DRF's DateTimeField writes it (ISO 8601, UTC as Z)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class LeaseSerializer(StrictModelSerializer):
    item = StrictIntegerField(source="item_id")
    holder = StrictCharField(source="holder.username")
    ahead = serializers.BooleanField(
        source="is_ahead", read_only=True,
        help_text="Leased ahead: taken beside the item the operator works on, drawn when they move on to it.")

    class Meta:
        model = Lease
        fields = ["token", "item", "holder", "created_at", "expires_at", "ahead"]

    def to_representation(self, instance):
        # Every take-next answers with one: written out, the same as the fields above give (a test compares
        # them), without building a ModelSerializer's fields per request.
        return {"token": str(instance.token), "item": instance.item_id, "holder": instance.holder.username,
                "created_at": _iso(instance.created_at), "expires_at": _iso(instance.expires_at),
                "ahead": instance.is_ahead}


class RevisionSubmitSerializer(serializers.Serializer):
    annotation = AnnotationField()
    base_revision = StrictIntegerField(
        allow_null=True, min_value=1, help_text="The revision number this edit started from; null for the first.")
    from_prediction = StrictIntegerField(required=False, allow_null=True)


class ReviewSubmitSerializer(serializers.Serializer):
    decision = StrictChoiceField(choices=Review.Decision.choices)
    comment = StrictCharField(required=False, allow_blank=True, default="")
    revision = StrictIntegerField(required=False, allow_null=True)


class PredictionCreateSerializer(serializers.Serializer):
    model_version = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    payload = AnnotationField()
    scores = serializers.JSONField(required=False, default=dict)
    uncertainty = StrictFloatField(min_value=0, max_value=1)


class ItemFilterSerializer(serializers.Serializer):
    state = StrictChoiceField(choices=ItemState.choices, required=False)
    split = StrictChoiceField(choices=WorkItem.Split.choices, required=False)

    def validate(self, attrs):
        # A query string's empty value (?state=) would otherwise count as absent and list everything.
        empty = {name: ["must be one of the listed values, not empty"] for name in self.fields
                 if self.initial_data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return attrs


class ConflictSerializer(serializers.Serializer):
    code = StrictCharField()
    detail = StrictCharField()
    item = StrictIntegerField()
    yours = serializers.JSONField()
    current = serializers.JSONField(allow_null=True, help_text="The current revision: number, annotation, author.")


class RepredictSerializer(serializers.Serializer):
    item = StrictIntegerField()
    queued = StrictBooleanField(help_text="false: a request for this item is pending already")


class UpNextSerializer(serializers.Serializer):
    """The item take-next would likely give next, and its images: the workspace fetches them ahead."""

    item = StrictIntegerField(source="pk")
    assets = ItemAssetSerializer(source="item_assets", many=True)
    # absent unless asked for (the view adds it): required=False documents it as optional, never null
    detail = WorkItemDetailSerializer(
        required=False,  # not read_only: spectacular lists read-only fields of a response as required
        help_text="With ?expand=item: the item as GET /items/{id}/ gives it to the caller (without a lease: "
                  "nothing is taken), so the workspace can draw it while take-next runs.")
