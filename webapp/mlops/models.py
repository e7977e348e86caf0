"""Model registry: immutable versions, one champion alias per scope, training runs, promotion audit."""
from django.conf import settings
from django.db import models


class ModelVersion(models.Model):
    kind = models.CharField(max_length=40)
    scope_key = models.CharField(max_length=200, blank=True, default="")
    number = models.PositiveIntegerField(help_text="Version number within the scope, from 1.")
    artifact_uri = models.CharField(max_length=500, help_text="Checkpoint folder: weights (safetensors) + config.")
    digest = models.CharField(max_length=64, blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    data_snapshot_id = models.CharField(max_length=100, blank=True, default="")
    metrics = models.JSONField(default=dict, blank=True, help_text="Golden-set metrics, overall and per slice.")
    promotable = models.BooleanField(default=True)
    blocked_reasons = models.JSONField(default=list, blank=True)
    gate_verdict = models.CharField(
        max_length=24, blank=True, default="",
        choices=[("better", "better"), ("worse", "worse"), ("not_enough_evidence", "not enough evidence")],
        help_text="The golden-set gate's verdict against the champion of its time (webapp.mlops.gate); "
                  "empty for a scope's first model and for versions registered before the verdict existed.")
    training_run = models.ForeignKey("TrainingRun", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "scope_key", "-number"]
        permissions = [("promote_modelversion", "Can promote and roll back model versions"),
                       ("train_modelversion", "Can start and cancel training runs")]
        constraints = [models.UniqueConstraint(fields=["kind", "scope_key", "number"], name="model_version_unique")]

    def __str__(self) -> str:
        scope = self.scope_key or "global"
        return f"{self.kind}/{scope} v{self.number}"


class ChampionAlias(models.Model):
    """The ``champion`` alias of a scope. The unique constraint guarantees at most one per scope."""

    kind = models.CharField(max_length=40)
    scope_key = models.CharField(max_length=200, blank=True, default="")
    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="champion_of")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "scope_key"], name="one_champion_per_scope")]


class PromotionAudit(models.Model):
    class Action(models.TextChoices):
        PROMOTE = "promote"
        ROLLBACK = "rollback"

    kind = models.CharField(max_length=40)
    scope_key = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=10, choices=Action.choices)
    from_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.TextField(blank=True)
    override = models.BooleanField(default=False, help_text="Promoted although the gate marked it not promotable.")
    override_reason = models.TextField(blank=True, default="",
                                       help_text="Why the gate's regression is acceptable (overrides only).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class TrainingRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    kind = models.CharField(max_length=40)
    scope_key = models.CharField(max_length=200, blank=True, default="")
    project = models.ForeignKey("labeling.Project", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="training_runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    trigger = models.CharField(max_length=20, default="manual")
    base_version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    candidate = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    params = models.JSONField(default=dict, blank=True)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    progress = models.FloatField(default=0.0)
    loss = models.FloatField(null=True, blank=True)
    eta_seconds = models.FloatField(null=True, blank=True)
    log = models.TextField(blank=True)
    loss_curve = models.JSONField(default=list, blank=True, help_text="[step, loss] as reported while it runs.")
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One active run per scope, guaranteed by the database as well as by the Redis lock.
            models.UniqueConstraint(fields=["kind", "scope_key"], condition=models.Q(state__in=["queued", "running"]),
                                    name="one_active_run_per_scope"),
        ]


class OperatingThreshold(models.Model):
    """The operating threshold chosen for a version (e.g. the catheter verdict threshold at a required
    recall). Append-only: the newest row of a version is in force, the older ones are its audit trail.
    Inference reads it at every batch, so a change applies from the next batch on."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="thresholds")
    value = models.FloatField()
    basis = models.CharField(max_length=200, blank=True, default="",
                             help_text="How it was chosen, e.g. 'recall >= 0.95 on the golden set'.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(value__gte=0.0, value__lte=1.0),
                                              name="operating_threshold_in_unit_interval")]


class WorkerHeartbeat(models.Model):
    """A Celery worker's last sign of life, written by the worker itself every few seconds
    (``workers/heartbeat.py``): which queues it consumes, on what device, since when."""

    name = models.CharField(max_length=200, unique=True, help_text="The worker's node name, e.g. infer@gpu-1.")
    queues = models.JSONField(default=list, blank=True)
    device = models.CharField(max_length=100, help_text="cpu, or the GPU it runs on (e.g. cuda: NVIDIA H200).")
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Set when the worker shut down cleanly.")

    class Meta:
        ordering = ["name"]


class TriggerChange(models.Model):
    """An admin's change of a project's training triggers (N corrections, T minutes, auto-promote).
    Append-only: the project holds the settings in force, these rows say who changed what, when, why."""

    project = models.ForeignKey("labeling.Project", null=True, on_delete=models.SET_NULL, related_name="+")
    project_name = models.CharField(max_length=200, help_text="Kept when the project is deleted.")
    changes = models.JSONField(help_text="{field: [old, new]} of the fields that changed.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class GoldenProposal(models.Model):
    """A version's proposal for one golden item, made to be compared, never shown to operators: what the
    compare page puts beside the golden truth and the other version's proposal. A version's ordinary
    prediction for the item (``labeling.Prediction``) is used where one exists; this holds the others."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="golden_proposals")
    item = models.ForeignKey("labeling.WorkItem", on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(help_text="The proposal, in the kind's annotation format.")
    scores = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "item"], name="one_golden_proposal_per_version")]
