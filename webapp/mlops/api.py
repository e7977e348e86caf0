"""Registry API: versions, champions, promotion and rollback (admins), training runs."""
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.mlops import monitoring, selectors, services
from webapp.mlops.models import ModelVersion
from webapp.core.errors import NotFound, ServiceError
from webapp.core.query_params import query_id
from webapp.mlops.serializers import (
    CompareSerializer, LineageSerializer, ModelVersionSerializer, MonitoringSerializer, ThresholdSerializer,
    ThresholdSetSerializer, ThresholdStateSerializer, PromoteSerializer, PromotionAuditSerializer, RollbackSerializer,
    TrainingRunRequestSerializer, TrainingRunSerializer, TrainingTriggersStateSerializer,
    TrainingTriggersResultSerializer, TrainingTriggersUpdateSerializer,
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

    @extend_schema(request=PromoteSerializer,
                   responses={200: PromotionAuditSerializer,
                              409: OpenApiResponse(description="Blocked by the golden-set gate (override it "
                                                               "with a reason).")},
                   summary="Make this version the champion of its scope")
    def post(self, request, pk):
        body = PromoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        audit = services.champion_promote(version_id=pk, actor=request.user, **body.validated_data)
        return Response(PromotionAuditSerializer(audit).data)


class RollbackView(APIView):
    permission_action = "model.promote"

    @extend_schema(request=RollbackSerializer,
                   responses={200: PromotionAuditSerializer,
                              404: OpenApiResponse(description="No such version, or no earlier champion."),
                              409: OpenApiResponse(description="Nothing to roll back to.")},
                   summary="Move a scope's champion back to the previous (or a given) version")
    def post(self, request):
        body = RollbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        audit = services.champion_rollback(kind=data["kind"], scope_key=data["scope_key"], actor=request.user,
                                           reason=data["reason"], to_version_id=data["to_version"])
        return Response(PromotionAuditSerializer(audit).data)


class CompareView(APIView):
    permission_action = "model.view"

    @extend_schema(parameters=[OpenApiParameter("against", int, description="Version to compare with "
                                                "(default: the scope's champion)")],
                   responses=CompareSerializer, summary="A candidate against the champion, per golden-set slice")
    def get(self, request, pk):
        against = query_id(request.query_params, "against")
        content = selectors.version_compare(candidate_id=pk, against_id=against)
        if content is None:
            raise NotFound(f"no model version {pk}")
        return Response(CompareSerializer(content, context={"champions": selectors.champion_ids()}).data)


class ScopeLineageView(APIView):
    permission_action = "model.view"

    @extend_schema(parameters=[OpenApiParameter("kind", str, required=True), OpenApiParameter("scope_key", str)],
                   responses=LineageSerializer(many=True), summary="A scope's versions with their lineage")
    def get(self, request):
        kind = request.query_params.get("kind", "").strip()
        if not kind:
            raise ServiceError("kind: required", details={"field": "kind"})
        rows = selectors.scope_lineage(kind=kind, scope_key=request.query_params.get("scope_key", ""))
        return Response(LineageSerializer(rows, many=True, context={"champions": selectors.champion_ids()}).data)


class PromotionAuditListView(generics.ListAPIView):
    serializer_class = PromotionAuditSerializer
    permission_action = "model.view"

    @extend_schema(parameters=[OpenApiParameter("kind", str), OpenApiParameter("scope_key", str),
                               OpenApiParameter("action", str, enum=["promote", "rollback"]),
                               OpenApiParameter("actor", str, description="username, or 'system'"),
                               OpenApiParameter("override", bool)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        q = self.request.query_params
        override = q.get("override")
        if override not in (None, "", "true", "false"):
            raise ServiceError("override: true or false", details={"field": "override"})
        if q.get("action") and q["action"] not in ("promote", "rollback"):
            raise ServiceError("action: promote or rollback", details={"field": "action"})
        return selectors.audit_list(kind=q.get("kind"), scope_key=q.get("scope_key"), action=q.get("action"),
                                    actor=q.get("actor"), override=None if not override else override == "true")


class TrainingRunListView(generics.ListAPIView):
    serializer_class = TrainingRunSerializer
    permission_action = {"GET": "training.view", "POST": "training.manage"}

    def get_queryset(self):
        return selectors.run_list(kind=self.request.query_params.get("kind"),
                                  state=self.request.query_params.get("state"))

    @extend_schema(request=TrainingRunRequestSerializer,
                   responses={201: TrainingRunSerializer, 404: OpenApiResponse(description="No such project."),
                              409: OpenApiResponse(description="A run is already active for the scope.")},
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

    @extend_schema(request=None, summary="Cancel a queued or running run",
                   responses={200: TrainingRunSerializer,
                              409: OpenApiResponse(description="The run has finished already.")})
    def post(self, request, pk):
        return Response(TrainingRunSerializer(services.training_run_cancel(run_id=pk, actor=request.user)).data)


class MonitoringView(APIView):
    permission_action = "model.view"

    @extend_schema(parameters=[OpenApiParameter("days", int, enum=[1, 7, 30, 90])], responses=MonitoringSerializer,
                   summary="Queues, operator throughput, edits per revision with promotions, OOD share, workers")
    def get(self, request):
        from datetime import timedelta

        from django.utils import timezone

        days = request.query_params.get("days", "30")
        if days not in ("1", "7", "30", "90"):
            raise ServiceError("days: one of 1, 7, 30, 90", details={"field": "days"})
        since = timezone.now() - timedelta(days=int(days))
        queues = monitoring.queue_overview()
        edits = []
        for row in queues:
            p = row["project"]
            e = monitoring.edits_per_day(project=p, since=since)
            edits.append({"project": p.pk, "series": e["series"],
                          "promotions": [{"at": a.created_at, "action": a.action, "to_version": a.to_version_id}
                                         for a in e["promotions"]],
                          "learning": monitoring.learning_curve(project=p, since=since)})
        data = {"days": int(days), "throughput": monitoring.operator_throughput(since=since), "edits": edits,
                "ood": monitoring.ood_share(since=since), "workers": monitoring.workers_now(),
                "queues": [{"project": r["project"].pk, "name": r["project"].name, "kind": r["project"].kind,
                            "scope_key": r["project"].scope_key, "depth": r["depth"],
                            "oldest_age_s": r["oldest_age_s"]} for r in queues]}
        return Response(MonitoringSerializer(data).data)


class ThresholdView(APIView):
    permission_action = {"GET": "model.view", "POST": "model.promote"}

    @extend_schema(parameters=[OpenApiParameter("recall", float), OpenApiParameter("precision", float)],
                   responses=ThresholdStateSerializer,
                   summary="The operating threshold in force, its history, and an operating point on the curve")
    def get(self, request, pk):
        if not ModelVersion.objects.filter(pk=pk).exists():
            raise NotFound(f"no model version {pk}")
        point = None
        for key in ("recall", "precision"):
            raw = request.query_params.get(key)
            if raw is None:
                continue
            try:
                value = float(raw)
                assert 0 < value <= 1
            except (ValueError, AssertionError):
                raise ServiceError(f"{key}: a number in (0, 1]", details={"field": key}) from None
            point = selectors.operating_point(version_id=pk, **{key: value})
            break
        data = {"current": selectors.threshold_current(version_id=pk),
                "history": list(selectors.threshold_history(version_id=pk)[:50]), "operating_point": point}
        return Response(ThresholdStateSerializer(data).data)

    @extend_schema(request=ThresholdSetSerializer, responses={201: ThresholdSerializer},
                   summary="Choose the operating threshold (audited; inference uses it from its next batch)")
    def post(self, request, pk):
        body = ThresholdSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.threshold_set(version_id=pk, actor=request.user, **body.validated_data)
        return Response(ThresholdSerializer(row).data, status=status.HTTP_201_CREATED)


class TrainingTriggersView(APIView):
    permission_action = {"GET": "training.view", "POST": "training.manage"}

    @extend_schema(parameters=[OpenApiParameter("project", int, description="One project only")],
                   responses=TrainingTriggersStateSerializer,
                   summary="Every project's training triggers (N corrections / T minutes, auto-promote) and changes")
    def get(self, request):
        project_id = query_id(request.query_params, "project")
        projects = selectors.training_triggers_list()
        if project_id is not None:
            projects = [p for p in projects if p.pk == project_id]
        changes = selectors.trigger_change_list(project_id=project_id)[:50]
        return Response(TrainingTriggersStateSerializer({"projects": projects, "changes": list(changes)}).data)

    @extend_schema(request=TrainingTriggersUpdateSerializer,
                   responses={200: TrainingTriggersResultSerializer,
                              404: OpenApiResponse(description="No such project.")},
                   summary="Change a project's training triggers (admins; audited with actor, values and reason)")
    def post(self, request):
        body = TrainingTriggersUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        project_id, reason = data.pop("project"), data.pop("reason")
        change = services.training_triggers_update(project_id=project_id, actor=request.user, reason=reason, **data)
        project = next(p for p in selectors.training_triggers_list() if p.pk == project_id)
        project.change = change
        return Response(TrainingTriggersResultSerializer(project).data)
