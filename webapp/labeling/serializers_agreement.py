"""API shapes of operator agreement (items answered twice, blind) and of the audited label-quality settings."""
from rest_framework import serializers

from webapp.core.serializers import (
    StrictCharField, StrictChoiceField, StrictFloatField, StrictIntegerField,
)
from webapp.labeling.models import AnswerPair
from webapp.labeling.serializers import AnnotationField
from webapp.labeling.services.agreement import DECISIONS


class AgreementRowSerializer(serializers.Serializer):
    answered = StrictIntegerField(read_only=True, help_text="pairs both operators answered")
    agreed = StrictIntegerField(read_only=True, help_text="pairs whose agreement reached agrees_from")
    agreement_rate = StrictFloatField(read_only=True, help_text="agreed / answered")
    mean_agreement = StrictFloatField(read_only=True, help_text="mean of the kind's measure, 0..1")
    measures = serializers.DictField(child=StrictFloatField(), read_only=True,
                                     help_text="the mean of each of the kind's measures behind it (a yes/no one "
                                               "as the share of yes): catheter verdict_agrees, box_f1; articles "
                                               "cut_f1, page_type_agrees; omr status_agrees, corner_error_px")


class OperatorPairAgreementSerializer(AgreementRowSerializer):
    operators = serializers.ListField(child=StrictCharField(), read_only=True, min_length=2, max_length=2,
                                      help_text="the two operators, by name in order")


class AgreementSerializer(serializers.Serializer):
    kind = StrictCharField(read_only=True)
    double_answer_share = StrictFloatField(read_only=True, help_text="share of items answered twice")
    measure = StrictCharField(read_only=True, help_text="what agreement means for this kind")
    agrees_from = StrictFloatField(read_only=True, help_text="a pair agrees when its measure reaches this")
    waiting = StrictIntegerField(read_only=True, help_text="items waiting for their second answer")
    disagreements_open = StrictIntegerField(read_only=True, help_text="disagreements waiting for a reviewer")
    overall = AgreementRowSerializer(read_only=True, allow_null=True, help_text="null: no pair answered yet")
    pairs = OperatorPairAgreementSerializer(many=True, read_only=True)


class AnswerPairSerializer(serializers.Serializer):
    id = StrictIntegerField(read_only=True)
    item = StrictIntegerField(read_only=True)
    external_id = StrictCharField(read_only=True)
    state = StrictChoiceField(choices=AnswerPair.State.choices, read_only=True)
    first_operator = StrictCharField(read_only=True, allow_null=True)
    second_operator = StrictCharField(read_only=True, allow_null=True, help_text="null until served")
    first = AnnotationField(read_only=True, help_text="the first answer (the item's revision)")
    second = AnnotationField(read_only=True, allow_null=True, help_text="the second, blind answer")
    agreement = StrictFloatField(read_only=True, allow_null=True, help_text="0..1 by the kind's measure")
    measures = serializers.DictField(read_only=True, help_text="the kind's measures behind the agreement")
    resolution = StrictChoiceField(choices=[("", "not resolved"), *AnswerPair.Resolution.choices], read_only=True)
    merged_from = StrictChoiceField(choices=[("", "no merge"), ("first", "first"), ("second", "second")],
                                    read_only=True)
    resolution_label = StrictCharField(read_only=True)
    resolved_by = StrictCharField(read_only=True, allow_null=True)
    kept = AnnotationField(read_only=True, allow_null=True,
                           help_text="the answer the reviewer kept or merged (the item's accepted revision)")
    resolved_revision = StrictIntegerField(read_only=True, allow_null=True,
                                           help_text="the item's revision that was kept (trained on, exported)")
    comment = StrictCharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)


class AnswerPairDetailSerializer(AnswerPairSerializer):
    project = StrictIntegerField(read_only=True)
    difference = serializers.DictField(read_only=True, allow_null=True,
                                       help_text="the kind's review diff of the second answer against the first")


class PairResolveSerializer(serializers.Serializer):
    decision = StrictChoiceField(choices=DECISIONS)
    annotation = AnnotationField(required=False, help_text="the merged answer (decision: merge)")
    merged_from = StrictChoiceField(choices=["first", "second"], required=False,
                                    help_text="the answer the merge started from (decision: merge)")
    comment = StrictCharField(required=False, allow_blank=True, default="", max_length=4000)

    def validate(self, attrs):
        if attrs["decision"] == "merge":
            missing = {k: ["a merge needs it"] for k in ("annotation", "merged_from") if k not in attrs}
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class SettingChangeSerializer(serializers.Serializer):
    field = StrictCharField(read_only=True)
    old = serializers.JSONField(read_only=True, help_text="a number, or the suspect thresholds object")
    new = serializers.JSONField(read_only=True)


class ReviewSettingsChangeSerializer(serializers.Serializer):
    id = StrictIntegerField(read_only=True)
    changes = SettingChangeSerializer(many=True, read_only=True)
    actor = StrictCharField(read_only=True, allow_null=True, help_text="null: changed by a script")
    reason = StrictCharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
