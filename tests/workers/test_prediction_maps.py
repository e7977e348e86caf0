"""Catheter maps: the inference worker stores a defect map and a saliency PNG per shot the model looked at
twice (score over the floor, or flagged), the prediction names their URLs and its OOD flag, and the web
process serves them to signed-in users only (404 where none was made)."""
import io
import math
from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image

from webapp.labeling.models import Prediction
from webapp.mlops.services import champion_promote, model_version_register
from workers import inference
from workers.adapters import get_adapter
from workers.models import predictor_for

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _champion(scope: str):
    out = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / "maps-test"
    get_adapter("catheter").bootstrap(out_dir=out, scope_key=scope, size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    version = model_version_register(kind="catheter", scope_key=scope, artifact_uri="catheter/maps-test")
    champion_promote(version_id=version.pk, actor=None, reason="maps test")
    return version


def test_maps_are_stored_served_and_named(make_project, catheter_series_items, client, operator, api_for):
    scope = "line:maps"
    project = make_project("catheter", scope_key=scope)
    (looked_at, _), (clean, _) = catheter_series_items(project, range(2), shots=2)
    version = _champion(scope)
    predictor = predictor_for(version)   # the worker's own cached predictor

    # The checkpoint's verdict threshold (the one the adapter goes back to without an admin's choice) and
    # its flag threshold steer the floor: first every shot is over it, then none is and nothing is flagged.
    predictor.checkpoint_verdict_threshold = 0.0
    assert inference.predict([looked_at.pk], fill=False)["predicted"] == 1
    predictor.checkpoint_verdict_threshold, predictor.flag_threshold = 1.5, math.inf
    assert inference.predict([clean.pk], fill=False)["predicted"] == 1

    api = api_for(operator)
    detail = api.get(f"/api/v1/items/{looked_at.pk}/").json()
    maps, ood = detail["prediction"]["maps"], detail["prediction"]["ood"]
    assert [m["shot"] for m in maps] == [0, 1] and all(m["defect"] and m["saliency"] for m in maps)
    assert set(ood) == {"flag", "score", "threshold"} and isinstance(ood["flag"], bool) and ood["score"] >= 0
    assert detail["prediction"]["scores"]["ood"] == ood

    assert client.get(maps[0]["defect"]).status_code == 302        # signed-in users only
    client.force_login(operator)
    dims = [a for a in detail["assets"]]
    for m, asset in zip(maps, dims):
        for layer in ("defect", "saliency"):
            response = client.get(m[layer])
            assert response.status_code == 200 and response["Content-Type"] == "image/png"
            png = Image.open(io.BytesIO(b"".join(response.streaming_content)))
            assert png.mode == "RGBA" and max(png.size) <= 256
            assert abs(png.size[0] / png.size[1] - asset["width"] / asset["height"]) < 0.02   # the shot's aspect

    none = api.get(f"/api/v1/items/{clean.pk}/").json()["prediction"]
    assert none["maps"] == [{"shot": 0, "defect": None, "saliency": None},
                            {"shot": 1, "defect": None, "saliency": None}]
    pk = Prediction.objects.get(item=clean).pk
    assert client.get(f"/predictions/{pk}/maps/0/defect.png").status_code == 404
    assert client.get(f"/predictions/{pk}/maps/0/secrets.png").status_code == 404
    assert client.get("/predictions/987654/maps/0/defect.png").status_code == 404
