"""REST API of the omr kind: recomputing an alignment from the operator's point pairs."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.core.throttles import SettingsScopedRateThrottle
from webapp.omr import selectors, services


class RecomputeRequestSerializer(serializers.Serializer):
    point_pairs = serializers.JSONField(help_text="[[[x_original, y_original], [x_photo, y_photo]], ...], at least "
                                                  "4 pairs, original-image pixels on each side")


class RecomputeView(APIView):
    """Recompute the item's alignment from point pairs: the aligner's operator-points path on a worker."""

    permission_action = "item.label"
    permission_target = "item:pk"
    throttle_classes = [SettingsScopedRateThrottle]
    throttle_scope = "omr_recompute"

    @extend_schema(request=RecomputeRequestSerializer, summary="Recompute the alignment from point pairs",
                   responses={202: OpenApiResponse(description='{"request", "state": "pending", "homography" (the '
                                                               'pairs\' own, original -> photo), "point_pairs", '
                                                               '"residual_max"}; the worker\'s result arrives as an '
                                                               'omr.recomputed event and at the result URL'),
                              400: OpenApiResponse(description="Bad point pairs (the field is named) or not an "
                                                               "omr pair."),
                              409: OpenApiResponse(description="The working copies are not ready.")})
    def post(self, request, pk):
        body = RecomputeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        answer = services.alignment_recompute_request(item_id=pk, point_pairs=body.validated_data["point_pairs"])
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class RecomputeResultView(APIView):
    permission_action = "item.view"
    permission_target = "item:pk"

    @extend_schema(summary="A recompute's result: {state: pending} until the worker answers, then {state: done, "
                           "homography, metrics, verdict, reasons, ...} or {state: failed, detail}",
                   responses={200: OpenApiResponse(description="The request's state and result."),
                              404: OpenApiResponse(description="No such request for this item (or expired).")})
    def get(self, request, pk, request_id):
        body = selectors.alignment_recompute_get(item_id=pk, request_id=str(request_id))
        if body is None:
            return Response({"code": "not_found", "detail": "no such recompute request for this item (they are "
                                                            "kept for an hour)"}, status=404)
        return Response(body)
