"""Shipped models: a scope without a champion starts from the model shipped with the code (where one
serves it at the size in use) instead of training one."""
import json
import uuid

import pytest

from webapp.mlops.models import PromotionAudit
from webapp.mlops.selectors import champion_get
from workers import pretrained, training, triggers
from workers.adapters import get_adapter
from workers.models import artifact_path

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def shipped_root(tmp_path):
    """A shipped-model folder holding a tiny catheter checkpoint (the tests' model size)."""
    root = tmp_path / "pretrained"
    get_adapter("catheter").bootstrap(out_dir=root / "catheter", scope_key="", size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    (root / "catheter" / pretrained.MANIFEST).write_text(json.dumps(
        {"kind": "catheter", "preset": "tiny", "scopes": ["*"], "command": "test", "train": {"steps": 1}}))
    return root


def _first_champion(project, scope):
    decision = triggers.check_scope("catheter", scope, project_id=project.pk)
    assert decision["decision"] == "bootstrap"
    assert training.run_training(decision["run"]).startswith("registered")
    return champion_get(kind="catheter", scope_key=scope)


def test_first_champion_is_the_shipped_model(settings, shipped_root, make_project, catheter_series_items, accept):
    settings.LOUPE_PRETRAINED_ROOT = str(shipped_root)
    scope = f"line:p-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope, review_required=False)
    golden = catheter_series_items(project, range(2))
    project.items.update(split="golden")
    for item, truth in golden:
        accept(item, truth)
    version = _first_champion(project, scope)
    assert version.config["mode"] == "pretrained"
    weights = artifact_path(version.artifact_uri) / "model.safetensors"
    assert weights.read_bytes() == (shipped_root / "catheter" / "model.safetensors").read_bytes()
    assert version.metrics["golden"]["items"] == 2            # judged on the golden set like any candidate
    assert PromotionAudit.objects.get(to_version=version).reason.startswith("pretrained")


def test_without_a_shipped_model_at_this_size_the_scope_bootstraps(settings, shipped_root, make_project,
                                                                   catheter_series_items):
    manifest = shipped_root / "catheter" / pretrained.MANIFEST
    manifest.write_text(manifest.read_text().replace('"tiny"', '"cpu"'))   # shipped for another size
    settings.LOUPE_PRETRAINED_ROOT = str(shipped_root)
    scope = f"line:b-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope)
    catheter_series_items(project, range(1))
    assert _first_champion(project, scope).config["mode"] == "bootstrap"
