"""Images as stored: the validated original, its working copy and its deep-zoom tile pyramid."""
from django.conf import settings
from django.db import models


class Asset(models.Model):
    class Derivatives(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    # De-duplication shares the stored bytes (content-addressed files), never the record: the same file
    # uploaded into two projects is two assets, so a member of one never reaches the other's.
    sha256 = models.CharField(max_length=64, db_index=True,
                              help_text="Content hash: names the stored file, shared by every record of it.")
    project = models.ForeignKey("labeling.Project", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+",
                                help_text="The project it was uploaded into; none: an upload outside any "
                                          "project, one record per uploader.")
    original = models.CharField(max_length=500, help_text="Path of the original under MEDIA_ROOT.")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=16)
    mode = models.CharField(max_length=16)
    width = models.PositiveIntegerField(help_text="Width after EXIF orientation.")
    height = models.PositiveIntegerField()
    byte_size = models.BigIntegerField()
    exif_orientation = models.PositiveSmallIntegerField(default=1)
    working_copy = models.CharField(max_length=500, blank=True)
    working_width = models.PositiveIntegerField(null=True, blank=True)
    working_height = models.PositiveIntegerField(null=True, blank=True)
    dzi = models.CharField(max_length=500, blank=True, help_text="Path of the .dzi descriptor under MEDIA_ROOT.")
    derivatives = models.CharField(max_length=8, choices=Derivatives.choices, default=Derivatives.PENDING)
    derivatives_error = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sha256", "project"], condition=models.Q(project__isnull=False),
                                    name="asset_sha256_per_project"),
            models.UniqueConstraint(fields=["sha256", "uploaded_by"], condition=models.Q(project__isnull=True),
                                    name="asset_sha256_per_uploader"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.width}×{self.height})"

    @property
    def scale_to_working(self) -> float:
        """Factor from original pixels to working-copy pixels (1.0 until the copy exists)."""
        if not self.working_width:
            return 1.0
        return self.working_width / self.width


class ZipImport(models.Model):
    """A large zip upload expanded by a worker (cpu queue) instead of in the web request."""

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    name = models.CharField(max_length=255, help_text="The uploaded file's name.")
    archive = models.CharField(max_length=500, help_text="The stored archive under MEDIA_ROOT (removed when done).")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # Where the images go: {} for plain assets, {"project": id, "grouping": name} to make work items.
    target = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.QUEUED)
    members_total = models.PositiveIntegerField(default=0)
    members_done = models.PositiveIntegerField(default=0)
    report = models.JSONField(null=True, blank=True, help_text="The upload report, as the upload API answers it.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
