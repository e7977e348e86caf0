"""Registry API: versions, champions, promotion and rollback (admins), training runs."""
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.mlops import selectors, services
from webapp.mlops.models import ModelVersion
from webapp.mlops.serializers import (
    ModelVersionSerializer, PromoteSerializer, PromotionAuditSerializer, RollbackSerializer,
    TrainingRunRequestSerializer, TrainingRunSerializer,
)


class ModelVersionListView(generics.ListAPIView):
    serializer_class = ModelVersionSerializer
    permission_action = "model.view"

    @extend_schema(parameters=[OpenApiParameter("kind", str), OpenApiParameter("scope_key", str)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.version_list(kind=self.request.query_params.get("kind"),
                                      scope_key=self.request.query_params.get("scope_key"))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "champions": selectors.champion_ids()}


class ModelVersionDetailView(generics.RetrieveAPIView):
    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.all()
    permission_action = "model.view"

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "champions": selectors.champion_ids()}


class PromoteView(APIView):
    permission_action = "model.promote"

    @extend_schema(request=PromoteSerializer, responses={200: PromotionAuditSerializer},
                   summary="Make this version the champion of its scope")
    def post(self, request, pk):
        body = PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        audit = services.champion_promote(version_id=pk, actor=request.user, **body.validated_data)
        return Response(PromotionAuditSerializer(audit).data)


class RollbackView(APIView):
    permission_action = "model.promote"

    @extend_schema(request=RollbackSerializer, responses={200: PromotionAuditSerializer},
                   summary="Move a scope's champion back to the previous (or a given) version")
    def post(self, request):
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        audit = services.champion_rollback(kind=data["kind"], scope_key=data["scope_key"], actor=request.user,
                                           reason=data["reason"], to_version_id=data["to_version"])
        return Response(PromotionAuditSerializer(audit).data)


class PromotionAuditListView(generics.ListAPIView):
    serializer_class = PromotionAuditSerializer
    permission_action = "model.view"

    def get_queryset(self):
        return selectors.audit_list(kind=self.request.query_params.get("kind"))


class TrainingRunListView(generics.ListAPIView):
    serializer_class = TrainingRunSerializer
    permission_action = {"GET": "training.view", "POST": "training.manage"}

    def get_queryset(self):
        return selectors.run_list(kind=self.request.query_params.get("kind"),
                                  state=self.request.query_params.get("state"))

    @extend_schema(request=TrainingRunRequestSerializer, responses={201: TrainingRunSerializer},
                   summary="Queue a training run for a scope (one active run per scope)")
    def post(self, request):
        body = TrainingRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        run = services.training_run_request(kind=data["kind"], scope_key=data["scope_key"], project_id=data["project"],
                                            actor=request.user, params=data["params"])
        return Response(TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


class TrainingRunDetailView(generics.RetrieveAPIView):
    serializer_class = TrainingRunSerializer
    permission_action = "training.view"

    def get_queryset(self):
        return selectors.run_list()


class TrainingRunCancelView(APIView):
    permission_action = "training.manage"

    @extend_schema(request=None, responses=TrainingRunSerializer, summary="Cancel a queued or running run")
    def post(self, request, pk):
        return Response(TrainingRunSerializer(services.training_run_cancel(run_id=pk, actor=request.user)).data)
