"""The registry in the Django admin: everything readable by admins, nothing that is history editable.

Versions are immutable, the champion moves only through promotion (which audits it), and the audit
trail is never rewritten: these admin pages are read-only; promotion happens on the compare page or the API."""
from django.contrib import admin

from webapp.accounts.permissions import can
from webapp.mlops.models import (
    ChampionAlias, ModelVersion, OperatingThreshold, PromotionAudit, TrainingRun, WorkerHeartbeat,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and can(request.user, "model.view")

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "scope_key", "number", "promotable", "created_at")
    list_filter = ("kind", "promotable")
    search_fields = ("scope_key", "digest", "data_snapshot_id")


@admin.register(ChampionAlias)
class ChampionAliasAdmin(ReadOnlyAdmin):
    list_display = ("kind", "scope_key", "model_version", "updated_at")


@admin.register(PromotionAudit)
class PromotionAuditAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "kind", "scope_key", "from_version", "to_version", "actor", "override",
                    "reason")
    list_filter = ("action", "kind", "override")
    search_fields = ("reason", "override_reason", "actor__username")


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "scope_key", "state", "trigger", "progress", "created_at", "finished_at")
    list_filter = ("state", "kind", "trigger")


@admin.register(OperatingThreshold)
class OperatingThresholdAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "model_version", "value", "basis", "actor", "reason")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "queues", "device", "last_seen", "started_at", "stopped_at")
