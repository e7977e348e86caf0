from rest_framework import serializers

from webapp.core.serializers import (
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictChoiceField,
    StrictIntegerField,
    StrictModelSerializer,
)
from webapp.mlops.models import ModelVersion, OperatingThreshold, PromotionAudit, TrainingRun, TriggerChange


class ModelVersionSerializer(StrictModelSerializer):
    is_champion = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = ["id", "kind", "scope_key", "number", "artifact_uri", "digest", "config", "data_snapshot_id",
                  "metrics", "promotable", "blocked_reasons", "gate_verdict", "training_run", "created_at",
                  "is_champion"]

    def get_is_champion(self, obj) -> bool:
        return obj.pk in self.context.get("champions", set())


class PromoteSerializer(serializers.Serializer):
    reason = StrictCharField(max_length=2000, help_text="Why: written to the audit trail (required).")
    override = StrictBooleanField(required=False, default=False,
                                  help_text="Promote although the golden-set gate did not call it better "
                                            "(verdict worse or not_enough_evidence; needs override_reason).")
    override_reason = StrictCharField(max_length=2000, required=False, allow_blank=True, default="",
                                      help_text="Overrides only: why the gate's regression is acceptable "
                                                "(a second reason, different from reason).")


class RollbackSerializer(serializers.Serializer):
    kind = StrictCharField()
    scope_key = StrictCharField(required=False, allow_blank=True, default="")
    reason = StrictCharField(max_length=2000, help_text="Why: written to the audit trail (required).")
    to_version = StrictIntegerField(required=False, allow_null=True, default=None)


class PromotionAuditSerializer(StrictModelSerializer):
    actor = StrictCharField(source="actor.username", default=None, allow_null=True)
    from_version = ModelVersionSerializer(allow_null=True)
    to_version = ModelVersionSerializer()

    class Meta:
        model = PromotionAudit
        fields = ["id", "kind", "scope_key", "action", "from_version", "to_version", "actor", "reason", "override",
                  "override_reason", "created_at"]


class TrainingRunSerializer(StrictModelSerializer):
    class Meta:
        model = TrainingRun
        fields = ["id", "kind", "scope_key", "project", "state", "trigger", "base_version", "candidate", "params",
                  "step", "total_steps", "progress", "loss", "eta_seconds", "loss_curve", "log", "error",
                  "cancel_requested", "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class TrainingRunRequestSerializer(serializers.Serializer):
    kind = StrictCharField()
    scope_key = StrictCharField(required=False, allow_blank=True, default="")
    project = StrictIntegerField(required=False, allow_null=True, default=None, min_value=1,
                                 max_value=2**63 - 1)
    params = serializers.JSONField(required=False, default=dict)


class CompareRowSerializer(serializers.Serializer):
    slice = StrictCharField()
    n = StrictIntegerField(allow_null=True)
    candidate = StrictFloatField(allow_null=True)
    champion = StrictFloatField(allow_null=True)
    delta = StrictFloatField(allow_null=True)
    interval = serializers.ListField(child=StrictFloatField(), allow_null=True,
                                     help_text="Bootstrap interval of the difference (candidate - champion).")
    interval_method = StrictCharField(allow_null=True)
    regresses = StrictBooleanField(help_text="The difference is below -margin: the gate never calls "
                                             "such a version better.")
    significant = StrictBooleanField(help_text="The interval excludes 0.")
    positives = StrictIntegerField(allow_null=True, help_text="Golden items of the slice with something to "
                                                              "find (defective, with cuts); null: unknown.")
    verdict = StrictChoiceField(choices=["better", "worse", "not_enough_evidence"],
                                help_text="The gate's verdict on this slice (webapp.mlops.gate).")
    why = StrictCharField(help_text="What the verdict rests on (the interval, or too few items).")
    decidable = StrictBooleanField(help_text="Enough golden items (and positives) and an interval to decide on.")
    too_few = StrictBooleanField(help_text="Too few golden items (or positives) in the slice to decide.")
    metrics = serializers.ListField(child=serializers.DictField())


class CompareSerializer(serializers.Serializer):
    candidate = ModelVersionSerializer()
    against = ModelVersionSerializer(allow_null=True)
    primary = StrictCharField(source="comparison.primary", allow_null=True)
    margin = StrictFloatField(source="comparison.margin")
    confidence = StrictFloatField(source="comparison.confidence")
    draws = StrictIntegerField(source="comparison.draws")
    per_item = StrictBooleanField(source="comparison.per_item")
    verdict = StrictChoiceField(source="comparison.verdict", choices=["better", "worse", "not_enough_evidence"],
                                help_text="The gate's verdict on this pair, computed now (the verdict stored "
                                          "with the candidate is in gate.verdict).")
    min_items = StrictIntegerField(source="comparison.min_items",
                                   help_text="Golden items a slice needs before the gate decides on it.")
    min_positives = StrictIntegerField(source="comparison.min_positives")
    rows = CompareRowSerializer(source="comparison.rows", many=True)
    disagreements = serializers.ListField(source="comparison.disagreements", child=serializers.DictField())
    gate = serializers.DictField()
    golden = serializers.DictField()
    curve = serializers.DictField(help_text="Whether a golden-set curve to choose the operating threshold on "
                                            "is stored, and over what (the score, or e.g. the cut threshold tau).")
    warnings = serializers.ListField(child=StrictCharField())
    too_small = serializers.ListField(child=StrictCharField(),
                                      help_text="Slices with too few golden items (or positives) to decide on.")


class LineageSerializer(serializers.Serializer):
    version = ModelVersionSerializer()
    is_champion = StrictBooleanField()
    parent_id = StrictIntegerField(allow_null=True)
    parent_number = StrictIntegerField(allow_null=True)
    run = StrictIntegerField(source="run.pk", allow_null=True, default=None)
    trigger = StrictCharField(allow_null=True)
    mode = StrictCharField(allow_null=True)
    requested_by = StrictCharField(allow_null=True)
    data_snapshot_id = StrictCharField()
    n_corrections = StrictIntegerField(allow_null=True)
    n_replay = StrictIntegerField(allow_null=True)


class WorkerSerializer(serializers.Serializer):
    name = StrictCharField()
    queues = serializers.ListField(child=StrictCharField())
    device = StrictCharField(help_text="cpu, or the GPU (e.g. 'cuda: NVIDIA H200').")
    pid = StrictIntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    last_seen = serializers.DateTimeField(help_text="The last heartbeat.")
    age_s = StrictFloatField(help_text="Seconds since the last heartbeat.")
    stopped_at = serializers.DateTimeField(allow_null=True, help_text="Set when it shut down cleanly.")
    alive = StrictBooleanField(help_text="Beating (fewer than three heartbeats missed) and not stopped.")


class MonitoringSerializer(serializers.Serializer):
    days = StrictIntegerField()
    queues = serializers.ListField(child=serializers.DictField(),
                                   help_text="Per project: id, name, kind, scope_key, depth by state, oldest_age_s.")
    throughput = serializers.ListField(child=serializers.DictField(), help_text="operator, project, revisions.")
    edits = serializers.ListField(child=serializers.DictField(),
                                  help_text="Per project: series of {day, revisions, edits_per_revision}, the "
                                            "scope's promotions {at, action, to_version}, and the learning curve "
                                            "{by_version: [{version, revisions, edits_per_item, first, last}], "
                                            "blocks: [{items, until, edits_per_item, versions}]} of the human "
                                            "revisions that started from a model's proposal.")
    ood = serializers.ListField(child=serializers.DictField(), help_text="project, predictions, flagged, share.")
    workers = WorkerSerializer(many=True, help_text="Every worker by its last heartbeat.")


class ThresholdSerializer(StrictModelSerializer):
    actor = StrictCharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = OperatingThreshold
        fields = ["id", "model_version", "value", "basis", "actor", "reason", "created_at"]
        read_only_fields = fields


class ThresholdSetSerializer(serializers.Serializer):
    value = StrictFloatField(min_value=0.0, max_value=1.0, help_text="The operating threshold, 0 to 1.")
    reason = StrictCharField(max_length=2000, help_text="Why: written to the audit trail (required).")
    basis = StrictCharField(max_length=200, required=False, allow_blank=True, default="",
                            help_text="How it was chosen, e.g. 'recall >= 0.95 on the golden set'.")


class OperatingPointSerializer(serializers.Serializer):
    threshold = StrictFloatField()
    precision = StrictFloatField()
    recall = StrictFloatField()
    basis = StrictCharField()


class ThresholdStateSerializer(serializers.Serializer):
    current = ThresholdSerializer(allow_null=True)
    history = ThresholdSerializer(many=True)
    operating_point = OperatingPointSerializer(allow_null=True,
                                               help_text="For ?recall= or ?precision=: the point on the golden "
                                                         "set's precision-recall curve (null: none meets it).")


class TriggerChangeSerializer(StrictModelSerializer):
    actor = StrictCharField(source="actor.username", default=None, read_only=True)
    changes = serializers.DictField(help_text="{field: [old, new]} of the fields that changed.")

    class Meta:
        model = TriggerChange
        fields = ["id", "project", "project_name", "changes", "actor", "reason", "created_at"]
        read_only_fields = fields


class TrainingTriggersSerializer(serializers.Serializer):
    project = StrictIntegerField(source="pk")
    name = StrictCharField()
    kind = StrictCharField()
    scope_key = StrictCharField()
    train_after_corrections = StrictIntegerField(help_text="A run starts after this many new accepted "
                                                           "corrections in the scope...")
    train_after_minutes = StrictIntegerField(help_text="...or after this many minutes with at least one.")
    auto_promote = StrictBooleanField(help_text="A candidate that passes the gate becomes champion without "
                                                "an admin.")


class TrainingTriggersUpdateSerializer(serializers.Serializer):
    project = StrictIntegerField(min_value=1, max_value=2**63 - 1)
    train_after_corrections = StrictIntegerField(required=False, min_value=1, max_value=100_000)
    train_after_minutes = StrictIntegerField(required=False, min_value=1, max_value=7 * 24 * 60)
    auto_promote = StrictBooleanField(required=False)
    reason = StrictCharField(required=False, allow_blank=True, default="", max_length=2000,
                             help_text="Why (written to the audit trail).")


class TrainingTriggersStateSerializer(serializers.Serializer):
    projects = TrainingTriggersSerializer(many=True)
    changes = TriggerChangeSerializer(many=True, help_text="The latest changes, newest first.")


class TrainingTriggersResultSerializer(TrainingTriggersSerializer):
    change = TriggerChangeSerializer(allow_null=True, help_text="The audit entry; null when nothing changed.")
