"""The checkpoints shipped in pretrained/: small, documented, and they load and propose valid annotations."""
from pathlib import Path

import pytest

from webapp.labeling.kinds import get_kind
from webapp.labeling.selectors import item_asset_dims
from workers import pretrained
from workers.adapters import get_adapter
from workers.itemdata import load_items

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["catheter", "articles"])
def test_the_shipped_models_load_and_propose(kind, make_project, generated_items):
    info = pretrained.manifest(kind)
    assert info is not None, f"pretrained/{kind}/ is missing: python -m workers.pretrained build {kind}"
    folder = Path(pretrained.ROOT) / kind
    assert sum(p.stat().st_size for p in folder.iterdir()) <= pretrained.MAX_BYTES
    assert info["held_out"]["overall"] and info["preset"] == "cpu" and info["command"].startswith("python -m")
    adapter = get_adapter(kind)
    scope = "publisher:daily-courier" if kind == "articles" else "line:T"
    assert pretrained.serving(kind, scope, "cpu") is not None
    project = make_project(kind, scope_key=scope)
    made = generated_items(project, range(2))
    items = load_items([i.pk for i, _ in made], mode=adapter.image_mode)
    for item, proposal in zip(items, adapter.predict(adapter.load(folder, "cpu"), items, batch_size=2)):
        get_kind(kind).validate(proposal.annotation, item_asset_dims(item_id=item.item_id))


def test_the_shipped_catheter_model_judges_a_balloon_on_its_series(make_project, catheter_series_items):
    info = pretrained.manifest("catheter")
    series = info["series"]
    assert (Path(pretrained.ROOT) / "catheter" / pretrained.SERIES_LOG).read_text().strip()   # the command's log
    assert series["calibration"]["target_recall"] == 0.98 and set(series["calibration"]["by_length"]) == {"3", "8"}
    assert series["calibration"]["seed"] not in (pretrained.TRAIN_SEED, pretrained.HELD_OUT_SEED)
    assert series["held_out"]["seed"] == pretrained.HELD_OUT_SEED
    adapter = get_adapter("catheter")
    project = make_project("catheter", scope_key="line:T")
    made = catheter_series_items(project, [0, 1], shots=3)
    items = load_items([i.pk for i, _ in made], mode=adapter.image_mode)
    predictor = adapter.load(Path(pretrained.ROOT) / "catheter", "cpu")
    for proposal in adapter.predict(predictor, items, batch_size=6):
        point = proposal.scores["series"]["operating_point"]
        assert point["calibrated_shots"] == 3
        assert point["precision"] == series["calibration"]["by_length"]["3"]["precision"]
