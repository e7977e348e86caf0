"""API shapes of label quality: control items, operators' control accuracy, suspect labels, review by risk."""
from rest_framework import serializers

from webapp.core.serializers import (
    StrictBooleanField, StrictCharField, StrictChoiceField, StrictFloatField, StrictIntegerField,
)
from webapp.labeling.models import ReviewRouting
from webapp.labeling.serializers import AnnotationField
from webapp.labeling.serializers_agreement import AgreementSerializer, ReviewSettingsChangeSerializer
from webapp.labeling.services.suspects import DECISIONS


class ControlMarkSerializer(serializers.Serializer):
    active = StrictBooleanField(default=True, help_text="false: stop serving the item as a control")


class ControlMarkEventSerializer(serializers.Serializer):
    active = StrictBooleanField(read_only=True, help_text="true: marked (served), false: unmarked")
    by = StrictCharField(read_only=True, allow_null=True)
    truth_revision = StrictIntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)


class ControlSerializer(serializers.Serializer):
    id = StrictIntegerField(read_only=True)
    item = StrictIntegerField(read_only=True, help_text="the control item (its copies are served, never it)")
    active = StrictBooleanField(read_only=True)
    truth_revision = StrictIntegerField(read_only=True, help_text="the revision answers are scored against")
    marked_by = StrictCharField(read_only=True)
    served = StrictIntegerField(read_only=True)
    answered = StrictIntegerField(read_only=True)
    mean_accuracy = StrictFloatField(read_only=True, allow_null=True)
    history = ControlMarkEventSerializer(many=True, read_only=True, help_text="every marking and unmarking, "
                                                                                "oldest first")


class AnswerPointSerializer(serializers.Serializer):
    answered_at = serializers.DateTimeField(read_only=True)
    accuracy = StrictFloatField(read_only=True)
    item = StrictIntegerField(read_only=True, help_text="the operator's copy of the control item")


class DayPointSerializer(serializers.Serializer):
    day = serializers.DateField(read_only=True)
    answered = StrictIntegerField(read_only=True)
    accuracy = StrictFloatField(read_only=True)


class OperatorQualitySerializer(serializers.Serializer):
    operator = StrictCharField(read_only=True)
    answered = StrictIntegerField(read_only=True, help_text="control items answered")
    accuracy = StrictFloatField(read_only=True, help_text="mean accuracy by the kind's measure, 0..1")
    series = AnswerPointSerializer(many=True, read_only=True, help_text="the latest 100 answers, oldest first")
    days = DayPointSerializer(many=True, read_only=True)


class SuspectThresholdSerializer(serializers.Serializer):
    name = StrictCharField(read_only=True)
    label = StrictCharField(read_only=True)
    value = StrictFloatField(read_only=True, help_text="what the project's suspect check uses")
    default = StrictFloatField(read_only=True)
    minimum = StrictFloatField(read_only=True)
    maximum = StrictFloatField(read_only=True)
    integer = StrictBooleanField(read_only=True, help_text="a count: whole numbers only")
    set_by_project = StrictBooleanField(read_only=True, help_text="the project set this value itself")
    learned = StrictFloatField(read_only=True, allow_null=True,
                               help_text="learned from the project's accepted answers: the model's mean confidence "
                                         "in what they say (used where the project sets no value); null until "
                                         "enough answers")
    learned_from = StrictIntegerField(read_only=True, help_text="model confidences the learned value rests on")


class ProjectQualitySerializer(serializers.Serializer):
    project = StrictIntegerField(read_only=True)
    kind = StrictCharField(read_only=True)
    control_rate = StrictFloatField(read_only=True)
    review_required = StrictBooleanField(read_only=True)
    review_sample_share = StrictFloatField(read_only=True, help_text="share of answers a reviewer sees (1: all)")
    review_full_below_accuracy = StrictFloatField(
        read_only=True, help_text="operators whose recent control accuracy is below this get full review")
    review_audit_share = StrictFloatField(
        read_only=True, help_text="share of the answers below the sampled share reviewed anyway, at random")
    double_answer_share = StrictFloatField(read_only=True, help_text="share of items answered twice, blind")
    suspect_thresholds = SuspectThresholdSerializer(many=True, read_only=True)
    measure = StrictCharField(read_only=True, help_text="what accuracy means for this kind")
    operators = OperatorQualitySerializer(many=True, read_only=True)
    controls = ControlSerializer(many=True, read_only=True)
    agreement = AgreementSerializer(read_only=True, help_text="operators' agreement on items answered twice")
    settings_changes = ReviewSettingsChangeSerializer(many=True, read_only=True,
                                                      help_text="the latest 50 audited settings changes")


class ControlAccuracySerializer(serializers.Serializer):
    answered = StrictIntegerField(read_only=True)
    accuracy = StrictFloatField(read_only=True, allow_null=True)


class SuspectSerializer(serializers.Serializer):
    id = StrictIntegerField(read_only=True)
    item = StrictIntegerField(read_only=True)
    revision = StrictIntegerField(read_only=True, help_text="the accepted revision under re-review")
    state = StrictCharField(read_only=True)
    author = StrictCharField(read_only=True, allow_null=True)
    author_control = ControlAccuracySerializer(read_only=True, help_text="the author's control accuracy here")
    confidence = StrictFloatField(read_only=True, help_text="the model's confidence against the answer")
    why = serializers.DictField(read_only=True, help_text="the kind's reasons: classes, cuts, thresholds")
    answer = AnnotationField(read_only=True)
    proposal = AnnotationField(read_only=True, allow_null=True)
    model_version = StrictIntegerField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    resolved_by = StrictCharField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    comment = StrictCharField(read_only=True)


class SuspectResolveSerializer(serializers.Serializer):
    decision = StrictChoiceField(choices=DECISIONS)
    annotation = AnnotationField(required=False, help_text="the corrected answer (decision: correct)")
    comment = StrictCharField(required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["decision"] == "correct" and "annotation" not in attrs:
            raise serializers.ValidationError({"annotation": ["a correction needs the corrected annotation"]})
        return attrs


class RoutingSerializer(serializers.Serializer):
    id = StrictIntegerField(read_only=True)
    item = StrictIntegerField(read_only=True)
    revision = StrictIntegerField(read_only=True, help_text="the submitted revision the decision is about")
    operator = StrictCharField(read_only=True, allow_null=True)
    decision = StrictChoiceField(choices=ReviewRouting.Decision.choices, read_only=True)
    reason = StrictChoiceField(choices=ReviewRouting.Reason.choices, read_only=True)
    reason_label = StrictCharField(read_only=True)
    risk = StrictFloatField(read_only=True, help_text="0..1, the weighted sum of the parts")
    parts = serializers.DictField(read_only=True, help_text="operator, disagreement, uncertainty (0..1 each), "
                                                            "weights, and what they came from")
    why = serializers.ListField(child=StrictCharField(), read_only=True, help_text="the parts in words")
    sample_share = StrictFloatField(read_only=True, help_text="the project's sampled share at the time")
    created_at = serializers.DateTimeField(read_only=True)


class ReviewQueueRowSerializer(serializers.Serializer):
    item = StrictIntegerField(read_only=True)
    external_id = StrictCharField(read_only=True)
    revision = StrictIntegerField(read_only=True, allow_null=True)
    author = StrictCharField(read_only=True, allow_null=True)
    submitted_at = serializers.DateTimeField(read_only=True, allow_null=True)
    routing = RoutingSerializer(read_only=True, allow_null=True,
                                help_text="null: submitted while the project reviewed everything")
