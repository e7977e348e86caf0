"""REST API of label quality: mark control items, operators' control accuracy and agreement, suspect labels,
items answered twice and their disagreements, the risk-ordered review queue and the routing decisions of review
by risk."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.core.errors import NotFound
from webapp.core.query_params import query_choice
from webapp.labeling import selectors_agreement, selectors_quality
from webapp.labeling.models import AnswerPair, Project, ReviewRouting, SuspectLabel
from webapp.labeling.serializers_agreement import (
    AnswerPairDetailSerializer, AnswerPairSerializer, PairResolveSerializer,
)
from webapp.labeling.serializers_quality import (
    ControlMarkSerializer, ControlSerializer, ProjectQualitySerializer, ReviewQueueRowSerializer, RoutingSerializer,
    SuspectResolveSerializer, SuspectSerializer,
)
from webapp.labeling.services.agreement import pair_resolve
from webapp.labeling.services.controls import control_mark
from webapp.labeling.services.suspects import suspect_label_resolve


class ControlMarkView(APIView):
    permission_action = "project.manage"
    permission_target = "item:pk"

    @extend_schema(request=ControlMarkSerializer,
                   responses={200: ControlSerializer,
                              409: OpenApiResponse(description="The item is not accepted: it has no truth.")},
                   summary="Mark an accepted item as a control item (its current revision is the truth), or stop "
                           "serving it")
    def post(self, request, pk):
        body = ControlMarkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        control = control_mark(item_id=pk, user=request.user, active=body.validated_data["active"])
        row = next(c for c in selectors_quality.control_list(project_id=control.project_id) if c["id"] == control.pk)
        return Response(ControlSerializer(row).data)


class OperatorQualityView(APIView):
    permission_action = "quality.view"
    permission_target = "project:pk"

    @extend_schema(responses={200: ProjectQualitySerializer},
                   summary="Each operator's accuracy on control items, over time, and the project's control items")
    def get(self, request, pk):
        project = get_object_or_404(Project, pk=pk)
        return Response(ProjectQualitySerializer(selectors_quality.project_quality(project=project)).data)


class SuspectListView(APIView):
    permission_action = "quality.view"
    permission_target = "project:pk"

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=[*SuspectLabel.State.values, "all"],
                                                description="open (default), confirmed, corrected or all")],
                   responses={200: SuspectSerializer(many=True)},
                   summary="Accepted answers the champion contradicts with high confidence, with why")
    def get(self, request, pk):
        get_object_or_404(Project, pk=pk)
        state = query_choice(request.query_params, "state", (*SuspectLabel.State.values, "all"),
                             default=SuspectLabel.State.OPEN)
        rows = selectors_quality.suspect_list(project_id=pk, state=None if state == "all" else state)
        return Response(SuspectSerializer(rows, many=True).data)


class SuspectResolveView(APIView):
    permission_action = "item.review"
    permission_target = "item:pk"

    @extend_schema(request=SuspectResolveSerializer,
                   responses={200: SuspectSerializer,
                              409: OpenApiResponse(description="No suspect label waits on this item.")},
                   summary="Confirm the item's suspect answer, or correct it: either way training may use it again")
    def post(self, request, pk):
        body = SuspectResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        suspect = suspect_label_resolve(item_id=pk, reviewer=request.user, decision=data["decision"],
                                        annotation=data.get("annotation"), comment=data["comment"])
        row = next(s for s in selectors_quality.suspect_list(project_id=suspect.item.project_id, state=None)
                   if s["id"] == suspect.pk)
        return Response(SuspectSerializer(row).data)


class ReviewQueueView(APIView):
    permission_action = "item.review"
    permission_target = "project:pk"

    @extend_schema(responses={200: ReviewQueueRowSerializer(many=True)},
                   summary="The items waiting for review, riskiest first, each with its risk and why (the first 200)")
    def get(self, request, pk):
        get_object_or_404(Project, pk=pk)
        return Response(ReviewQueueRowSerializer(selectors_quality.review_queue(project_id=pk), many=True).data)


class ReviewRoutingListView(APIView):
    permission_action = "quality.view"
    permission_target = "project:pk"

    @extend_schema(parameters=[OpenApiParameter("decision", str, enum=ReviewRouting.Decision.values,
                                                description="only answers sent to review, or only those "
                                                            "accepted without review")],
                   responses={200: RoutingSerializer(many=True)},
                   summary="Review by risk's decisions (the audit trail), newest first (the latest 200)")
    def get(self, request, pk):
        get_object_or_404(Project, pk=pk)
        decision = request.query_params.get("decision")
        if decision is not None and decision not in ReviewRouting.Decision.values:
            raise ValidationError({"decision": [f"must be one of {', '.join(ReviewRouting.Decision.values)} "
                                                f"(got {decision!r})"]})
        rows = selectors_quality.review_routing_list(project_id=pk, decision=decision)
        return Response(RoutingSerializer(rows, many=True).data)


class AnswerPairListView(APIView):
    permission_action = "item.review"
    permission_target = "project:pk"

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=[*AnswerPair.State.values, "all"],
                                                description="disagreed (default: waiting for a reviewer), waiting, "
                                                            "agreed, resolved or all")],
                   responses={200: AnswerPairSerializer(many=True)},
                   summary="Items answered twice, with both answers and their agreement (the first 200)")
    def get(self, request, pk):
        get_object_or_404(Project, pk=pk)
        state = query_choice(request.query_params, "state", (*AnswerPair.State.values, "all"),
                             default=AnswerPair.State.DISAGREED)
        rows = selectors_agreement.disagreement_list(project_id=pk, state=None if state == "all" else state)
        return Response(AnswerPairSerializer(rows, many=True).data)


class AnswerPairView(APIView):
    permission_action = "item.review"
    permission_target = "item:pk"

    @extend_schema(responses={200: AnswerPairDetailSerializer,
                              404: OpenApiResponse(description="The item was not answered twice.")},
                   summary="The item's two answers side by side, their agreement and the kind's diff between them")
    def get(self, request, pk):
        pair = selectors_agreement.pair_of_item(item_id=pk)
        if pair is None:
            raise NotFound(f"item {pk} was not answered twice")
        return Response(AnswerPairDetailSerializer(pair).data)


class AnswerPairResolveView(APIView):
    permission_action = "item.review"
    permission_target = "item:pk"

    @extend_schema(request=PairResolveSerializer,
                   responses={200: AnswerPairDetailSerializer,
                              403: OpenApiResponse(description="The reviewer gave one of the two answers."),
                              409: OpenApiResponse(description="No disagreement waits on this item.")},
                   summary="Settle a disagreement: keep the first or the second answer, or merge (the reviewer's "
                           "edit starting from one of them); the item is accepted with it")
    def post(self, request, pk):
        body = PairResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        pair_resolve(item_id=pk, reviewer=request.user, decision=data["decision"],
                     annotation=data.get("annotation"), merged_from=data.get("merged_from", ""),
                     comment=data["comment"])
        return Response(AnswerPairDetailSerializer(selectors_agreement.pair_of_item(item_id=pk)).data)
