"""Each kind's adapter against the real ml package (tiny preset): a first model from the generator,
batched proposals that pass the kind's validator in original pixels, training samples from accepted
items, a fine-tune, and golden-set figures in the gate's format."""
import pytest

from formats.articles.layout import cuts_at_threshold

from webapp.labeling.kinds import get_kind
from webapp.labeling.selectors import item_asset_dims
from workers.adapters import ADAPTERS, get_adapter
from workers.itemdata import load_items

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("kind", sorted(k for k in ADAPTERS if k in ("catheter", "articles")))
def test_adapter_contract(kind, make_project, generated_items, tmp_path):
    adapter = get_adapter(kind)
    scope = "publisher:daily-courier" if kind == "articles" else "line:T"
    project = make_project(kind, scope_key=scope)
    made = generated_items(project, range(4))
    logs = []
    first = tmp_path / "first"
    adapter.bootstrap(out_dir=first, scope_key=scope, size="tiny", budget_s=0, callbacks=[], log=logs.append)
    assert (first / "model.safetensors").exists() and (first / "config.json").exists()

    predictor = adapter.load(first, "cpu")
    items = load_items([i.pk for i, _ in made], mode=adapter.image_mode)
    assert len(items) == 4
    proposals = adapter.predict(predictor, items, batch_size=3)
    spec = get_kind(kind)
    for item, proposal in zip(items, proposals):
        spec.validate(proposal.annotation, item_asset_dims(item_id=item.item_id))
        assert 0.0 <= proposal.uncertainty <= 1.0
        if kind == "articles":  # the editor's threshold preview and snapping need no new inference, no image
            scores = proposal.scores
            assert set(scores["geometry"]) == {"frame", "gutters", "rules"}
            at_tau = cuts_at_threshold(scores["candidates"], scores["tau"])
            assert [{k: c[k] for k in ("x0", "y0", "x1", "y1")} for c in at_tau] == proposal.annotation["cuts"]

    for (item, truth), loaded in zip(made, items):
        loaded.annotation = truth
    samples = adapter.samples(items)
    assert samples
    tuned = tmp_path / "tuned"
    adapter.finetune(base_dir=first, new=samples[:2], replay=samples[2:], out_dir=tuned, steps=2, callbacks=[],
                     log=logs.append)
    assert (tuned / "model.safetensors").exists()
    figures = adapter.evaluate(tuned, samples, "cpu").to_json()
    assert {"overall", "slices", "primary"} <= set(figures) <= {"overall", "slices", "primary", "items",
                                                                 "threshold_curve"}
    for rec in figures.get("items", []):   # per golden item, where the kind provides them
        assert rec["item"] in {i.item_id for i in items} and 0 <= rec["value"] <= 1 and rec["slices"]
    if kind == "articles":   # per page: the cut counts behind the publisher's micro F1, and the curve over tau
        article_pages = [i for i in items if (i.annotation or {}).get("page_type", "article") == "article"]
        assert len(figures["items"]) == len(article_pages) > 0
        for rec in figures["items"]:
            assert rec["slices"] == ["publisher:daily-courier"] and {"tp", "fp", "fn"} <= set(rec)
        curve = figures["threshold_curve"]
        assert len(curve["thresholds"]) == len(curve["precision"]) == len(curve["recall"]) > 1

        # an admin's threshold is the scope's cut tau: the next proposals use it, and a stored proposal made
        # at another tau is predicted again (None), one made at this tau stays as it is
        adapter.apply_threshold(predictor, 0.9)
        again = adapter.predict(predictor, items[:1], batch_size=1)[0]
        assert again.scores["tau"] == 0.9
        assert adapter.rescore(predictor, again.annotation, again.scores, again.uncertainty) is not None
        assert adapter.rescore(predictor, proposals[0].annotation, proposals[0].scores, 0.5) is None
        adapter.apply_threshold(predictor, None)
    assert figures["primary"] in figures["overall"]
    for values in figures["slices"].values():
        assert figures["primary"] in values or values.get("pages") == 0
