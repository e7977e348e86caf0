"""The reviewer's page of an item answered twice: both answers drawn side by side on the item's images, their
agreement by the kind's measure, and (for a disagreement) keep the first, keep the second, or merge: edit
starting from one of them. Keyboard: 1 / 2 keep, m / n merge from the first / second, Ctrl+Enter saves."""
import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from webapp.accounts.permissions import requires
from webapp.core.errors import ServiceError
from webapp.labeling import selectors_agreement
from webapp.labeling.kinds import AnnotationError
from webapp.labeling.models import AnswerPair, Project
from webapp.labeling.services.agreement import pair_resolve


@requires("item.review", target="item:pk")
def answer_pair_page(request, pk):
    pair = selectors_agreement.pair_of_item(item_id=pk)
    if pair is None:
        raise Http404(f"item {pk} was not answered twice")
    project = Project.objects.get(pk=pair["project"])
    mine = request.user.get_username() in (pair["first_operator"], pair["second_operator"])
    data = {"kind": project.kind, "assets": selectors_agreement.item_assets_for_page(item_id=pk),
            "first": pair["first"], "second": pair["second"], "kept": pair["kept"]}
    measures = [(name.replace("_", " "), "yes" if value is True else "no" if value is False else
                 "—" if value is None else value) for name, value in sorted(pair["measures"].items())]
    return render(request, "labeling/answer_pair.html", {
        "project": project, "pair": pair, "data": data, "mine": mine, "measures": measures,
        "may_resolve": pair["state"] == AnswerPair.State.DISAGREED and not mine,
        "first_json": json.dumps(pair["first"], indent=1), "second_json": json.dumps(pair["second"], indent=1),
        "next": next((p["item"] for p in selectors_agreement.disagreement_list(project_id=project.pk)
                      if p["item"] != pk), None),
    })


@requires("item.review", target="item:pk", methods=("POST",))
def answer_pair_resolve_page(request, pk):
    decision = request.POST.get("decision", "")
    annotation = None
    try:
        if decision == "merge":
            try:
                annotation = json.loads(request.POST.get("annotation", ""))
            except ValueError as exc:
                raise ServiceError(f"the merged answer is not valid JSON: {exc}") from None
        pair_resolve(item_id=pk, reviewer=request.user, decision=decision, annotation=annotation,
                     merged_from=request.POST.get("merged_from", ""), comment=request.POST.get("comment", ""))
    except (ServiceError, AnnotationError) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("answer-pair", pk=pk)
    labels = {"keep_first": "kept the first answer", "keep_second": "kept the second answer", "merge": "merged"}
    messages.success(request, f"Item {pk}: {labels[decision]}; the item is accepted with it.")
    return redirect("answer-pair", pk=pk)
