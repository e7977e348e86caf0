"""REST API of the labeling core: projects, items, take-next and leases, revisions, reviews, predictions,
exports. Views are thin: they parse, call a service or selector, and shape the answer."""
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.permissions import visible_project_ids
from webapp.core.parsers import AnnotationJSONParser
from webapp.core.query_params import query_choice
from webapp.core.streaming import stream_for
from webapp.core.throttles import SettingsScopedRateThrottle
from webapp.labeling import selectors, services
from webapp.labeling.exports import export_format_names, export_render
from webapp.labeling.models import Project
from webapp.labeling.serializers import (
    ConflictSerializer, ItemFilterSerializer, LeaseSerializer, PredictionCreateSerializer, PredictionSerializer,
    ProjectSerializer, RepredictSerializer, ReviewSerializer, ReviewSubmitSerializer, RevisionSerializer,
    RevisionSubmitSerializer, SubmittedRevisionSerializer, UpNextSerializer, WorkItemDetailSerializer,
    WorkItemSerializer,
)


class ProjectListView(generics.ListCreateAPIView):
    serializer_class = ProjectSerializer
    pagination_class = None
    permission_action = {"GET": "project.list", "POST": "project.create"}
    # JSON only: a form body cannot tell an empty slug or a "0" from a missing field.
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.project_list(project_ids=visible_project_ids(self.request.user))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method == "GET":
            context["depths"] = {p.pk: depth for p, depth in selectors.project_list_with_depths(
                project_ids=visible_project_ids(self.request.user))}
        return context

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("change_reason", None)   # a new project's settings are its first values, not a change
        serializer.instance = services.project_create(**data)


class ProjectDetailView(generics.RetrieveUpdateAPIView):
    serializer_class = ProjectSerializer
    queryset = Project.objects.all()
    permission_action = {"GET": "project.view", "PUT": "project.manage", "PATCH": "project.manage"}
    permission_target = "project:pk"
    parser_classes = [JSONParser]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "pk" in self.kwargs:
            context["depths"] = {int(self.kwargs["pk"]): selectors.queue_depth(project_id=int(self.kwargs["pk"]))}
        return context

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        reason = data.pop("change_reason", "")
        serializer.instance = services.project_update(project=serializer.instance, actor=self.request.user,
                                                      reason=reason, **data)


class ItemListView(generics.ListAPIView):
    serializer_class = WorkItemSerializer
    permission_action = "project.view"
    permission_target = "project:pk"

    @extend_schema(parameters=[ItemFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        get_object_or_404(Project, pk=self.kwargs["pk"])
        filters = ItemFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.item_list(project_id=self.kwargs["pk"], **filters.validated_data)


class TakeNextView(APIView):
    permission_action = "item.label"
    permission_target = "project:pk"

    @extend_schema(request=None, summary="Lease the next item of the project's queue",
                   parameters=[OpenApiParameter(
                       "expand", str, enum=["item"],
                       description="item: the answer also carries the taken item as GET /items/{id}/ gives it "
                                   "(`detail`), so the workspace shows it without a second request"),
                               OpenApiParameter(
                       "ahead", str, enum=["true"],
                       description="true: lease the item after the one the caller works on (their lease ahead, "
                                   "`ahead` true; the one they hold already if any): the workspace draws it at "
                                   "once when they move on. At most one per operator and project; 409 when the "
                                   "caller holds no item of the project. Without it, an operator who holds no "
                                   "current item gets their lease ahead, which becomes their current one.")],
                   responses={200: LeaseSerializer, 204: OpenApiResponse(description="The queue is empty."),
                              409: OpenApiResponse(description="The queue is under heavy contention; retry. With "
                                                               "ahead: the caller holds no item to lease ahead of.")})
    def post(self, request, pk):
        expand = query_choice(request.query_params, "expand", ("item",))
        if query_choice(request.query_params, "ahead", ("true",)):
            lease = services.lease_take_ahead(project_id=pk, user=request.user)
        else:
            lease = services.lease_take_next(project_id=pk, user=request.user)
        if lease is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = LeaseSerializer(lease).data
        if expand == "item":
            item = selectors.item_detail(item_id=lease.item_id)
            data["detail"] = WorkItemDetailSerializer(item, context={"request": request, "lease": lease}).data
        return Response(data)


class UpNextView(APIView):
    permission_action = "item.label"
    permission_target = "project:pk"

    @extend_schema(responses={200: UpNextSerializer, 204: OpenApiResponse(description="Nothing else is queued.")},
                   parameters=[OpenApiParameter(
                       "expand", str, enum=["item"],
                       description="item: the answer also carries the item as GET /items/{id}/ gives it (`detail`)")],
                   summary="The item take-next would most likely give the caller now, with its images; a guess "
                           "(nothing is taken): the workspace fetches the images while the operator works")
    def get(self, request, pk):
        expand = query_choice(request.query_params, "expand", ("item",))
        project = get_object_or_404(Project, pk=pk)
        up_next = selectors.item_up_next(project=project, user=request.user)
        if up_next is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = UpNextSerializer(up_next).data
        if expand == "item":
            item = selectors.item_detail(item_id=up_next.pk)
            data["detail"] = WorkItemDetailSerializer(item, context={"request": request}).data
        return Response(data)


class LeaseHeartbeatView(APIView):
    permission_action = "item.label"
    permission_target = "lease:token"

    @extend_schema(request=None, summary="Extend a lease",
                   responses={200: LeaseSerializer, 410: OpenApiResponse(description="The lease has ended.")})
    def post(self, request, token):
        return Response(LeaseSerializer(services.lease_heartbeat(token=token, user=request.user)).data)


class LeaseReleaseView(APIView):
    permission_action = "item.label"
    permission_target = "lease:token"

    @extend_schema(request=None, summary="Give the item back to the queue",
                   responses={204: None, 410: OpenApiResponse(description="The lease has ended.")})
    def post(self, request, token):
        services.lease_release(token=token, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemDetailView(APIView):
    permission_action = "item.view"
    permission_target = "item:pk"

    @extend_schema(responses=WorkItemDetailSerializer)
    def get(self, request, pk):
        return Response(WorkItemDetailSerializer(selectors.item_detail(item_id=pk), context={"request": request}).data)


class RevisionListView(APIView):
    parser_classes = [AnnotationJSONParser]
    permission_action = {"GET": "item.view", "POST": "item.label"}
    permission_target = "item:pk"

    @extend_schema(responses=RevisionSerializer(many=True), summary="The item's revisions, oldest first")
    def get(self, request, pk):
        return Response(RevisionSerializer(selectors.revision_history(item_id=pk), many=True).data)

    @extend_schema(request=RevisionSubmitSerializer,
                   responses={201: RevisionSerializer, 400: OpenApiResponse(description="Invalid annotation"),
                              409: ConflictSerializer}, summary="Submit a revision on top of a base revision")
    def post(self, request, pk):
        body = RevisionSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        revision = services.revision_submit(item_id=pk, user=request.user, annotation=body.validated_data["annotation"],
                                            base_revision=body.validated_data["base_revision"],
                                            from_prediction_id=body.validated_data.get("from_prediction"))
        return Response(SubmittedRevisionSerializer(revision).data, status=status.HTTP_201_CREATED)


class ReviewCreateView(APIView):
    permission_action = "item.review"
    permission_target = "item:pk"

    @extend_schema(request=ReviewSubmitSerializer, summary="Accept or send back",
                   responses={201: ReviewSerializer,
                              409: OpenApiResponse(description="The item is not waiting for review, or the "
                                                               "revision is not its current one.")})
    def post(self, request, pk):
        body = ReviewSubmitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = services.review_submit(item_id=pk, reviewer=request.user, **body.validated_data)
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class PredictionListView(APIView):
    permission_action = {"GET": "item.view", "POST": "item.predict"}
    permission_target = "item:pk"

    @extend_schema(responses=PredictionSerializer(many=True), summary="The item's predictions, newest first")
    def get(self, request, pk):
        item = selectors.item_detail(item_id=pk)
        return Response(PredictionSerializer(item.predictions.all(), many=True).data)

    @extend_schema(request=PredictionCreateSerializer, responses={201: PredictionSerializer, 200: PredictionSerializer},
                   summary="Record a model's prediction (admins and service accounts)")
    def post(self, request, pk):
        body = PredictionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        prediction, created = services.prediction_record(
            item_id=pk, model_version_id=data["model_version"], payload=data["payload"], scores=data["scores"],
            uncertainty=data["uncertainty"])
        return Response(PredictionSerializer(prediction).data, status=201 if created else 200)


class RepredictView(APIView):
    permission_action = "item.repredict"
    permission_target = "item:pk"
    throttle_classes = [SettingsScopedRateThrottle]
    throttle_scope = "repredict"

    @extend_schema(request=None, summary="Ask for a fresh proposal of the current champion, ahead of backfill",
                   responses={202: OpenApiResponse(RepredictSerializer,
                                                   description="Queued (queued: false when a request for the "
                                                               "item is pending already); the prediction arrives "
                                                               "as a prediction.created event."),
                              404: OpenApiResponse(description="No such item."),
                              409: OpenApiResponse(description="The item is accepted."),
                              429: OpenApiResponse(description="Too many requests; see Retry-After.")})
    def post(self, request, pk):
        item, queued = services.item_repredict(item_id=pk)
        return Response({"item": item.pk, "queued": queued}, status=status.HTTP_202_ACCEPTED)


# What the export formats answer with: JSON lines, and the kinds' formats (JSON, CSV, zipped XML).
EXPORT_CONTENT_TYPES = ("application/x-ndjson", "application/json", "text/csv", "application/zip")
# The JSON formats answer one JSON document (an object), not a string: documented as what it is.
JSON_EXPORT_SCHEMA = {
    "type": "object", "additionalProperties": True,
    "description": "format=coco: a COCO dataset ({info, images, annotations, categories}); format=deepscores: "
                   "a DeepScoresV2 dataset in that dataset's own layout; format=alignments: {alignments: [...]}, "
                   "one row per accepted pair.",
}


class ExportView(APIView):
    permission_action = "project.export"
    permission_target = "project:pk"

    def perform_content_negotiation(self, request, force=False):
        # Here ``?format=`` names an export format (coco, pagexml, ...), not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[OpenApiParameter("format", str, enum=export_format_names(), default="jsonl",
                                                description="jsonl, or one of the project kind's formats")],
                   responses={**{(200, content_type): OpenApiTypes.BINARY for content_type in EXPORT_CONTENT_TYPES},
                              (200, "application/json"): JSON_EXPORT_SCHEMA,
                              400: OpenApiResponse(description="Not a format of this project's kind")},
                   summary="Export the accepted annotations of a project (streamed)")
    def get(self, request, pk):
        project = get_object_or_404(Project, pk=pk)
        fmt = request.query_params.get("format", "jsonl")
        try:
            chunks, content_type, filename = export_render(project=project, format_name=fmt)
        except LookupError as exc:
            raise ValidationError({"format": str(exc)}) from None
        response = StreamingHttpResponse(stream_for(request, chunks), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
