"""The labeling core, generic over task kinds: projects, work items, leases, revisions, reviews, predictions."""
import random
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Project(models.Model):
    class QueuePolicy(models.TextChoices):
        FIFO = "fifo", "First in, first out"
        UNCERTAINTY = "uncertainty", "Most uncertain first"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=40, help_text="A registered task kind: catheter, articles, omr, ...")
    scope_key = models.CharField(max_length=200, blank=True, default="",
                                 help_text="What one model serves, e.g. publisher:daily-courier or line:A.")
    description = models.TextField(blank=True)
    queue_policy = models.CharField(max_length=16, choices=QueuePolicy.choices, default=QueuePolicy.UNCERTAINTY)
    audit_share = models.FloatField(default=0.10, help_text="Share of take-next calls served at random (audit).")
    review_required = models.BooleanField(default=True)
    golden_share = models.FloatField(default=0.10, help_text="Share of new items frozen into the golden set.")
    train_after_corrections = models.PositiveIntegerField(default=8)
    train_after_minutes = models.PositiveIntegerField(default=10)
    auto_promote = models.BooleanField(default=False)
    control_rate = models.FloatField(default=0.0, help_text="Share of take-next calls that serve a control item "
                                                          "blind (0.05: one in twenty; 0: none).")
    # Review by risk (see services.review_risk): with review required, the riskiest share of submitted
    # answers goes to a reviewer, plus a small random audit; the rest is accepted without review.
    review_sample_share = models.FloatField(
        default=1.0, help_text="Share of submitted answers a reviewer sees, riskiest first (1: all of them).")
    review_full_below_accuracy = models.FloatField(
        default=0.8, help_text="An operator whose recent control accuracy is below this gets every answer "
                               "reviewed until it recovers (0: never).")
    suspect_thresholds = models.JSONField(
        default=dict, blank=True, help_text="The kind's suspect-check thresholds this project sets; the kind's "
                                            "defaults for the others.")
    review_audit_share = models.FloatField(
        default=0.05, help_text="Share of the answers below the sampled share that a reviewer sees anyway, at "
                                "random (review by risk's audit).")
    # Operator agreement (see services.agreement): this share of items is answered twice, blind.
    double_answer_share = models.FloatField(
        default=0.0, help_text="Share of items answered by two operators independently (0: none).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("manage_project", "Can create projects and change their settings")]

    def __str__(self) -> str:
        return self.name


class ItemState(models.TextChoices):
    NEW = "new"
    PREDICTED = "predicted"
    LEASED = "leased"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    SENT_BACK = "sent_back"
    FLAGGED = "flagged"      # an operator flagged it; out of the queue until a reviewer resolves the flag
    PAIRED = "paired"        # answered once, waiting for a second operator's blind answer (see AnswerPair)


# States an operator can take from the queue (besides leased items whose lease expired).
QUEUEABLE_STATES = (ItemState.NEW, ItemState.PREDICTED, ItemState.SENT_BACK)


def _audit_key() -> float:
    return random.random()


class WorkItem(models.Model):
    class Split(models.TextChoices):
        POOL = "pool", "Training pool"
        GOLDEN = "golden", "Golden set (never trained on)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=12, choices=ItemState.choices, default=ItemState.NEW)
    split = models.CharField(max_length=8, choices=Split.choices, default=Split.POOL)
    uncertainty = models.FloatField(null=True, blank=True, help_text="From the latest fresh prediction.")
    # The uncertainty queue's sort key: the uncertainty, or -1 before any prediction (those come last).
    # Kept non-null so one plain index serves the order on every database.
    queue_rank = models.FloatField(default=-1.0)
    audit_key = models.FloatField(default=_audit_key, help_text="Random key for the audit slice of the queue.")
    meta = models.JSONField(default=dict, blank=True, help_text="Slice keys (publisher, defect type, ...).")
    # A blind copy made for one operator: of a control item (see ControlAnswer), or of an item answered twice
    # for its second answer (see AnswerPair). Never shown in the API, so the operator cannot tell it apart;
    # never reviewed, exported, queued or trained on.
    control_copy = models.BooleanField(default=False)
    head_revision = models.ForeignKey("Revision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lease_holder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        permissions = [("label_workitem", "Can take items and submit revisions"),
                       ("review_workitem", "Can accept or send back submitted work")]
        indexes = [
            # Take-next, FIFO: the queueable items of a project in id order.
            models.Index(fields=["project", "id"], name="item_fifo_idx",
                         condition=Q(state__in=["new", "predicted", "sent_back"])),
            # Take-next, uncertainty: most uncertain first, unpredicted last.
            models.Index(fields=["project", "-queue_rank", "id"], name="item_uncert_idx",
                         condition=Q(state__in=["new", "predicted", "sent_back"])),
            models.Index(fields=["project", "audit_key"], name="item_audit_idx",
                         condition=Q(state__in=["new", "predicted", "sent_back"])),
            models.Index(fields=["project", "state"], name="item_state_idx"),
            models.Index(fields=["state", "lease_expires_at"], name="item_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.project.slug}#{self.pk}"


class WorkItemAsset(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="item_assets")
    asset = models.ForeignKey("assets.Asset", on_delete=models.PROTECT, related_name="item_links")
    position = models.PositiveSmallIntegerField(default=0)
    role = models.CharField(max_length=20, blank=True, default="", help_text="e.g. shot, page, original, photo")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["item", "position"], name="item_asset_position_unique")]


class Lease(models.Model):
    class End(models.TextChoices):
        RELEASED = "released"
        SUBMITTED = "submitted"
        EXPIRED = "expired"
        SKIPPED = "skipped"      # back to the queue, not offered to the same operator for a while
        FLAGGED = "flagged"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="leases")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leases")
    token = models.UUIDField(default=uuid.uuid4, unique=True)
    previous_state = models.CharField(max_length=12, choices=ItemState.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=End.choices, blank=True, default="")
    ahead_in = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Set while the item is leased ahead: taken for the operator beside the item they work on in "
                  "this project, so that the workspace draws it at once when they move on; cleared when they do.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # At most one open lease per item, guaranteed by the database.
            models.UniqueConstraint(fields=["item"], condition=Q(ended_at__isnull=True),
                                    name="one_open_lease_per_item"),
            # At most one item leased ahead per operator and project: the current one plus one, never more.
            models.UniqueConstraint(fields=["holder", "ahead_in"],
                                    condition=Q(ended_at__isnull=True, ahead_in__isnull=False),
                                    name="one_open_lease_ahead_per_holder_and_project"),
        ]

    @property
    def is_ahead(self) -> bool:
        return self.ahead_in_id is not None


class Revision(models.Model):
    """An append-only annotation state of an item. Never updated after it is written."""

    class Source(models.TextChoices):
        HUMAN = "human"
        MODEL = "model"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    base = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="revisions")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.HUMAN)
    model_version = models.ForeignKey("mlops.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    from_prediction = models.ForeignKey("Prediction", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    annotation = models.JSONField()
    diff = models.JSONField(default=dict, blank=True, help_text="Changes against the proposal it started from.")
    edit_count = models.PositiveIntegerField(default=0)
    metrics = models.JSONField(null=True, blank=True, help_text="The kind's figures of this answer against the "
                               "proposal, computed by the server when it was submitted (OMR: the fix's alignment "
                               "metrics); null where the kind records none or the revision predates them.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "number"]
        constraints = [models.UniqueConstraint(fields=["item", "number"], name="revision_number_unique")]


class Review(models.Model):
    class Decision(models.TextChoices):
        ACCEPT = "accept"
        SEND_BACK = "send_back"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]


class Prediction(models.Model):
    """A proposal for an item: a model version's output, or an annotation imported with the images
    (COCO, PAGE XML), which has no model version."""

    class Source(models.TextChoices):
        MODEL = "model"
        IMPORT = "import"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="predictions")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MODEL)
    model_version = models.ForeignKey("mlops.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="predictions", help_text="Empty for an imported annotation.")
    payload = models.JSONField(help_text="The proposal, in the kind's annotation format.")
    scores = models.JSONField(default=dict, blank=True)
    uncertainty = models.FloatField()
    stale = models.BooleanField(default=False, help_text="Made by a version that is no longer the champion.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A redelivered inference batch never writes a prediction twice.
            models.UniqueConstraint(fields=["item", "model_version"], name="one_prediction_per_item_version"),
            models.CheckConstraint(condition=models.Q(source="import", model_version__isnull=True)
                                   | models.Q(source="model", model_version__isnull=False),
                                   name="prediction_version_iff_model"),
        ]


class Draft(models.Model):
    """An operator's unfinished answer on an item, saved as they edit. One per (item, user); overwritten
    on every save, deleted when they submit. Never a revision: exports and training never read it."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    annotation = models.JSONField()
    base_revision = models.PositiveIntegerField(null=True, blank=True, help_text="The revision number it started from.")
    from_prediction = models.ForeignKey(Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="one_draft_per_item_user")]


class Flag(models.Model):
    """An operator's question about an item (unclear image, out of distribution, taxonomy). The item leaves
    the queue until a reviewer resolves the flag; then it goes back to the state it was taken from."""

    class Reason(models.TextChoices):
        UNCLEAR_IMAGE = "unclear_image", "Unclear image"
        OUT_OF_DISTRIBUTION = "out_of_distribution", "Out of distribution"
        TAXONOMY_QUESTION = "taxonomy_question", "Taxonomy question"
        OTHER = "other", "Other"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="flags")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    comment = models.TextField(blank=True)
    return_state = models.CharField(max_length=12, choices=ItemState.choices,
                                    help_text="Where resolving puts the item.")
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["item", "resolved_at"], name="flag_item_open_idx")]
        constraints = [
            # One open flag per item: a flagged item is out of the queue, nobody can flag it twice.
            models.UniqueConstraint(fields=["item"], condition=Q(resolved_at__isnull=True),
                                    name="one_open_flag_per_item"),
        ]


class ControlItem(models.Model):
    """An item with known truth (a golden item, or one a reviewer accepted) that take-next serves blind to
    operators, as a copy, to score their answers. The truth is the revision it had when it was marked."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="control_items")
    item = models.OneToOneField(WorkItem, on_delete=models.CASCADE, related_name="control")
    truth = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "active"], name="control_project_active_idx")]


class ControlAnswer(models.Model):
    """One serving of a control item to one operator: the blind copy, then their answer's score against the
    truth (the kind's own measure). At most one per control item and operator, by the database."""

    control = models.ForeignKey(ControlItem, on_delete=models.CASCADE, related_name="answers")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="control_answers")
    copy = models.OneToOneField(WorkItem, on_delete=models.CASCADE, related_name="control_answer")
    revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accuracy = models.FloatField(null=True, blank=True, help_text="0..1 by the kind's measure; empty until answered.")
    measures = models.JSONField(default=dict, blank=True)
    served_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["control", "operator"], name="one_control_answer_per_operator")]


class SuspectLabel(models.Model):
    """An accepted answer the champion contradicts with high confidence: held out of training until a
    reviewer confirms it (kept as it is) or corrects it (a new revision)."""

    class State(models.TextChoices):
        OPEN = "open"
        CONFIRMED = "confirmed"
        CORRECTED = "corrected"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="suspects")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+")
    prediction = models.ForeignKey(Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    confidence = models.FloatField()
    why = models.JSONField(default=dict, blank=True, help_text="The kind's reasons: classes, scores, thresholds.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_revision = models.ForeignKey(Revision, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+")
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["item"], condition=Q(state="open"),
                                               name="one_open_suspect_per_item")]


class ReviewRouting(models.Model):
    """Why a submitted answer went to a reviewer or was accepted without review: its risk score and the
    parts it was made of, written with the revision. The audit trail of review by risk; the review queue
    orders by it."""

    class Decision(models.TextChoices):
        REVIEW = "review"
        ACCEPT = "accept", "Accepted without review"

    class Reason(models.TextChoices):
        OPERATOR_BELOW_FLOOR = "operator_below_floor", "Operator's control accuracy below the floor"
        RISK_IN_SAMPLE = "risk_in_sample", "Risk among the sampled share"
        AUDIT = "audit", "Random audit"
        LOW_RISK = "low_risk", "Risk below the sampled share"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="routings")
    revision = models.OneToOneField(Revision, on_delete=models.CASCADE, related_name="routing")
    operator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices)
    risk = models.FloatField(help_text="0..1: the weighted sum of the parts.")
    parts = models.JSONField(default=dict, help_text="operator, disagreement, uncertainty (each 0..1), and "
                                                     "what they came from.")
    sample_share = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "-id"], name="routing_project_recent_idx")]



# The label-quality records of operator agreement and of audited settings live beside, to keep this file small.
from webapp.labeling.models_quality import AnswerPair, ControlMarkEvent, ReviewSettingsChange  # noqa: E402,F401
