"""An admin's operating threshold reaches inference at its next batch (real tiny catheter model)."""
import pytest

from webapp.labeling.models import Prediction
from webapp.mlops.models import OperatingThreshold
from webapp.mlops.services import champion_promote, model_version_register, threshold_set
from workers import inference
from workers.adapters import get_adapter

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_threshold_change_changes_the_next_inference(settings, make_project, catheter_series_items, admin_user):
    from pathlib import Path

    project = make_project("catheter", scope_key="line:T")
    items = [i for i, _ in catheter_series_items(project, range(6))]
    out = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / "t1"
    get_adapter("catheter").bootstrap(out_dir=out, scope_key="line:T", size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    version = model_version_register(kind="catheter", scope_key="line:T", artifact_uri=str(out))
    champion_promote(version_id=version.pk, actor=admin_user, reason="first model")

    def verdicts(batch):
        inference.predict([i.pk for i in batch], fill=False)
        return [Prediction.objects.get(item=i, model_version=version).payload["verdict"] for i in batch]

    threshold_set(version_id=version.pk, value=1.0, actor=admin_user, reason="nothing is a defect (test)")
    assert verdicts(items[:2]) == ["ok", "ok"]
    threshold_set(version_id=version.pk, value=0.0, actor=admin_user, reason="everything is a defect (test)",
                  basis="recall >= 1")
    assert verdicts(items[2:4]) == ["defect", "defect"]      # the very next batch, same process, same cache
    OperatingThreshold.objects.all().delete()               # none in force: the checkpoint's own again
    own = get_adapter("catheter").load(out, "cpu").verdict_threshold
    assert 0 < own < 1
    verdicts(items[4:])
    from workers.models import predictor_for

    assert predictor_for(version).verdict_threshold == own
