"""The checkpoints shipped in pretrained/: small, documented, and they load and propose valid annotations."""
from pathlib import Path

import pytest

from webapp.labeling.kinds import get_kind
from webapp.labeling.selectors import item_asset_dims
from workers import pretrained
from workers.adapters import get_adapter
from workers.itemdata import load_items

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["catheter"])
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
