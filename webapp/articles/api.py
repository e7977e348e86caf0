"""REST API of the articles editor: the articles recomputed after a cut edit (one implementation, in
``formats.articles.layout``; the browser draws, the server computes)."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.articles import selectors
from webapp.articles.serializers import RecomputeAnswerSerializer, RecomputeSerializer
from webapp.core.parsers import AnnotationJSONParser


class RecomputeView(APIView):
    parser_classes = [AnnotationJSONParser]
    permission_action = "item.label"
    permission_target = "item:pk"

    @extend_schema(request=RecomputeSerializer,
                   responses={200: RecomputeAnswerSerializer,
                              400: OpenApiResponse(description="A bad cut, article, snap index or merge id "
                                                               "(the field is named)")},
                   summary="Snap edited cuts onto the page's layout and recompute its articles (stores nothing)")
    def post(self, request, pk):
        body = RecomputeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        return Response(selectors.article_layout_recompute(item_id=pk, cuts=d["cuts"], articles=d["articles"],
                                                           snap=d["snap"], merge=d.get("merge")))
