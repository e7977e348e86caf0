"""Label-quality records: the history of control marking, audited settings changes, and items answered twice
(``AnswerPair``). Imported by ``models`` (the app's models module), so Django registers them with the app."""
from django.conf import settings
from django.db import models

from webapp.labeling.models import ControlItem, Project, Revision, WorkItem


class ControlMarkEvent(models.Model):
    """Each marking or unmarking of a control item: who, when, and the truth it had then (the history behind
    ``ControlItem.marked_by``, which names only the latest)."""

    control = models.ForeignKey(ControlItem, on_delete=models.CASCADE, related_name="events")
    active = models.BooleanField()
    truth = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]


class ReviewSettingsChange(models.Model):
    """An audited change of a project's label-quality settings: who, when, each field's old and new value,
    and why."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="review_settings_changes")
    changes = models.JSONField(help_text="{field: [old, new]}")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class AnswerPair(models.Model):
    """An item answered by two operators independently: the first answer on the item itself, the second on a
    blind copy (``second_copy``) that starts from the same proposal. Their agreement is scored by the kind's
    control measure; a disagreement waits for a reviewer, who keeps one answer or merges them. The row is the
    audit trail of all of it."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the second answer"
        AGREED = "agreed", "Agreed (normal review routing)"
        DISAGREED = "disagreed", "Disagreed: waiting for a reviewer"
        RESOLVED = "resolved", "Resolved by a reviewer"

    class Resolution(models.TextChoices):
        KEPT_FIRST = "kept_first", "Kept the first answer"
        KEPT_SECOND = "kept_second", "Kept the second answer"
        MERGED = "merged", "Merged"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.OneToOneField(WorkItem, on_delete=models.CASCADE, related_name="answer_pair")
    first_revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    first_operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                       related_name="+")
    second_copy = models.OneToOneField(WorkItem, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="pair_of_copy")
    second_operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    second_revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    agreement = models.FloatField(null=True, blank=True, help_text="0..1 by the kind's control measure.")
    measures = models.JSONField(default=dict, blank=True)
    resolution = models.CharField(max_length=12, choices=Resolution.choices, blank=True, default="")
    merged_from = models.CharField(max_length=6, blank=True, default="", help_text="first or second: what the "
                                   "reviewer's merge started from.")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "state"], name="pair_project_state_idx")]
