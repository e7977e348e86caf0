"""The compare page's disagreeing golden item, side by side: the golden truth, the champion's proposal
and the candidate's, with each version's per-item figures; next / previous walk the disagreeing items.
A version's missing proposals are made by the infer worker on request and arrive over the mlops feed."""
from django.http import HttpResponse
from django.shortcuts import redirect, render

from webapp.accounts.permissions import requires
from webapp.core.query_params import query_id
from webapp.mlops import selectors
from webapp.mlops.selectors_golden import golden_item_sides
from webapp.mlops.services_golden import golden_proposals_request


def _content(request, pk: int, item_id: int):
    against_id = query_id(request.GET, "against")
    compared = selectors.version_compare(candidate_id=pk, against_id=against_id)
    if compared is None:
        return None
    sides = golden_item_sides(candidate=compared["candidate"], against=compared["against"], item_id=item_id,
                              disagreements=compared["comparison"]["disagreements"])
    return None if sides is None else {**sides, "candidate": compared["candidate"], "against": compared["against"],
                                       "primary": compared["comparison"]["primary"]}


def _suffix(against) -> str:
    return f"?against={against.pk}" if against is not None else ""


@requires("model.view")
def golden_item_page(request, pk: int, item_id: int):
    content = _content(request, pk, item_id)
    if content is None:
        return HttpResponse("no such version, or no such golden item of its kind", status=404)
    suffix = _suffix(content["against"])
    base = f"/models/{pk}/compare/items/"
    data = {"kind": content["kind"], "assets": content["assets"], "truth": content["truth"],
            "sides": [{k: v for k, v in s.items()} for s in content["sides"]],
            "previous": f"{base}{content['previous']}/{suffix}" if content["previous"] else None,
            "next": f"{base}{content['next']}/{suffix}" if content["next"] else None,
            "compare": f"/models/{pk}/compare/{suffix}"}
    missing = [s for s in content["sides"] if s["proposal"] is None]
    return render(request, "mlops/golden_item.html", {**content, "data": data, "missing": missing,
                                                      "suffix": suffix})


@requires("training.manage", methods=("POST",))
def golden_item_proposals_page(request, pk: int, item_id: int):
    """Ask the infer worker for the proposals this item still lacks (the page hears them arrive)."""
    content = _content(request, pk, item_id)
    if content is None:
        return HttpResponse("no such version, or no such golden item of its kind", status=404)
    golden_proposals_request(version_ids=[s["version"] for s in content["sides"]], item_ids=[item_id])
    return redirect(f"/models/{pk}/compare/items/{item_id}/{_suffix(content['against'])}"
                    f"{'&' if content['against'] else '?'}requested=1")
