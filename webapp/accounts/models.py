"""Project membership: who works on which project, and in which role there.

The model lives in accounts (beside the permission table that reads it) and names the project by its
app label, so accounts imports nothing from labeling.
"""
from django.conf import settings
from django.db import models


class ProjectMembership(models.Model):
    class Role(models.TextChoices):
        OPERATOR = "operator", "Operator: takes, labels, uploads, exports"
        REVIEWER = "reviewer", "Reviewer: also accepts or sends back submitted work"

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_project_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"
