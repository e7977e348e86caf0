from rest_framework import serializers

from webapp.mlops.models import ModelVersion, PromotionAudit, TrainingRun


class ModelVersionSerializer(serializers.ModelSerializer):
    is_champion = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = ["id", "kind", "scope_key", "number", "artifact_uri", "digest", "config", "data_snapshot_id",
                  "metrics", "promotable", "blocked_reasons", "training_run", "created_at", "is_champion"]

    def get_is_champion(self, obj) -> bool:
        return obj.pk in self.context.get("champions", set())


class PromoteSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why: written to the audit trail (required).")
    override = serializers.BooleanField(required=False, default=False,
                                        help_text="Promote although the golden-set gate blocked it (needs a reason).")


class RollbackSerializer(serializers.Serializer):
    kind = serializers.CharField()
    scope_key = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=2000, help_text="Why: written to the audit trail (required).")
    to_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class PromotionAuditSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None)
    from_version = ModelVersionSerializer(allow_null=True)
    to_version = ModelVersionSerializer()

    class Meta:
        model = PromotionAudit
        fields = ["id", "kind", "scope_key", "action", "from_version", "to_version", "actor", "reason", "override",
                  "created_at"]


class TrainingRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingRun
        fields = ["id", "kind", "scope_key", "project", "state", "trigger", "base_version", "candidate", "params",
                  "step", "total_steps", "progress", "loss", "eta_seconds", "log", "error", "cancel_requested",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields


class TrainingRunRequestSerializer(serializers.Serializer):
    kind = serializers.CharField()
    scope_key = serializers.CharField(required=False, allow_blank=True, default="")
    project = serializers.IntegerField(required=False, allow_null=True, default=None)
    params = serializers.JSONField(required=False, default=dict)
