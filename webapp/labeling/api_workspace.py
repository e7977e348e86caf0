"""REST API of the operator's workspace: drafts, skip, flags (and the reviewers' flag list)."""
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.core.parsers import AnnotationJSONParser
from webapp.core.query_params import query_bool
from webapp.core.serializers import ServiceErrorSerializer
from webapp.labeling import selectors, services
from webapp.labeling.models import Project, WorkItem
from webapp.labeling.serializers import (
    DraftSaveSerializer, DraftSerializer, FlagCreateSerializer, FlagResolveSerializer, FlagSerializer,
)


class DraftView(APIView):
    """The caller's own draft of an item: read, save (needs the lease), delete."""

    parser_classes = [AnnotationJSONParser]
    permission_action = {"GET": "item.view", "PUT": "item.label", "DELETE": "item.label"}
    permission_target = "item:pk"

    @extend_schema(responses={200: DraftSerializer, 404: OpenApiResponse(description="No draft.")},
                   summary="The caller's draft of the item")
    def get(self, request, pk):
        get_object_or_404(WorkItem, pk=pk)
        draft = selectors.draft_get(item_id=pk, user=request.user)
        if draft is None:
            return Response({"code": "not_found", "detail": "you have no draft of this item"}, status=404)
        return Response(DraftSerializer(draft).data)

    @extend_schema(request=DraftSaveSerializer,
                   responses={200: DraftSerializer, 400: OpenApiResponse(description="Invalid annotation"),
                              409: OpenApiResponse(description="The caller does not hold the item's lease.")},
                   summary="Save the caller's draft (validated like a revision; never a revision)")
    def put(self, request, pk):
        body = DraftSaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        draft = services.draft_save(item_id=pk, user=request.user, annotation=data["annotation"],
                                    base_revision=data["base_revision"], from_prediction_id=data["from_prediction"])
        return Response(DraftSerializer(draft).data)

    @extend_schema(responses={204: None}, summary="Delete the caller's draft")
    def delete(self, request, pk):
        services.draft_delete(item_id=pk, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SkipView(APIView):
    permission_action = "item.label"
    permission_target = "item:pk"

    @extend_schema(request=None, responses={204: None, 409: OpenApiResponse(description="No lease held.")},
                   summary="Give the item back to the queue; it is not offered to the caller again for a while")
    def post(self, request, pk):
        services.item_skip(item_id=pk, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FlagCreateView(APIView):
    permission_action = "item.label"
    permission_target = "item:pk"

    @extend_schema(request=FlagCreateSerializer, responses={201: FlagSerializer,
                                                            409: OpenApiResponse(description="No lease held.")},
                   summary="Flag the item with a reason: it leaves the queue until a reviewer resolves it")
    def post(self, request, pk):
        body = FlagCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = services.item_flag(item_id=pk, user=request.user, **body.validated_data)
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class ProjectFlagListView(generics.ListAPIView):
    """The project's flags, newest first (``?open=1``: only those waiting for a reviewer)."""

    permission_action = "item.review"
    permission_target = "project:pk"
    serializer_class = FlagSerializer

    @extend_schema(parameters=[OpenApiParameter("open", bool, description="only unresolved flags")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        get_object_or_404(Project, pk=self.kwargs["pk"])
        open_only = query_bool(self.request.query_params, "open", default=False)
        return selectors.flag_list(project_id=self.kwargs["pk"], open_only=open_only)


class ReviewDiffView(APIView):
    permission_action = "item.view"
    permission_target = "item:pk"

    @extend_schema(parameters=[OpenApiParameter("revision", int, description="revision number (default: current)")],
                   responses={200: OpenApiResponse(description='{"against": "proposal"|"previous"|"empty", "added", '
                                                               '"removed", "changed", "counts", "metrics" (the '
                                                               'revision\'s stored figures, null when not recorded), '
                                                               '...}')},
                   summary="What a revision added, removed and changed against the proposal it started from")
    def get(self, request, pk):
        raw = request.query_params.get("revision")
        revision = None
        if raw not in (None, ""):
            if not raw.isdigit():
                return Response({"revision": [f"must be a revision number (got {raw!r})"]}, status=400)
            revision = int(raw)
        return Response(selectors.revision_review_diff(item_id=pk, revision=revision))


class FlagResolveView(APIView):
    permission_action = "item.review"
    permission_target = "flag:pk"

    @extend_schema(request=FlagResolveSerializer,
                   responses={200: FlagSerializer,
                              409: OpenApiResponse(ServiceErrorSerializer,
                                                   description="The flag was resolved already.")},
                   summary="Resolve a flag: the item goes back to the queue")
    def post(self, request, pk):
        body = FlagResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        flag = services.flag_resolve(flag_id=pk, reviewer=request.user, comment=body.validated_data["comment"])
        return Response(FlagSerializer(flag).data)


class MyWorkView(APIView):
    permission_action = "account.self"

    @extend_schema(responses={200: OpenApiResponse(
        description='{"today": {"items", "median_seconds", "edits_per_item", "sent_back_share", ...}, "week": {...}}')},
                   summary="The caller's own figures for today and this week")
    def get(self, request):
        return Response(selectors.work_summary(user=request.user))
