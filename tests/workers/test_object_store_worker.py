"""Workers over the object store: a model artifact published by the machine that trained it is loaded by
another that never saw its folder, maps go to the bucket and the web process serves them from there,
working copies come through the bounded cache, whose size and evictions are counted."""
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from webapp.core import filestore
from webapp.core.filecache import FileCache
from webapp.labeling.models import Prediction
from webapp.mlops.services import champion_promote, model_version_register
from workers import inference, models
from workers.adapters import get_adapter

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_object_store_artifact_goes_through_the_store_to_another_machine(object_store, settings, tmp_path, client,
                                                                        operator, make_project,
                                                                        catheter_series_items):
    scope = "line:store"
    project = make_project("catheter", scope_key=scope)
    (item, _), = catheter_series_items(project, range(1), shots=2)
    folder = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / "store-test"
    get_adapter("catheter").bootstrap(out_dir=folder, scope_key=scope, size="tiny", budget_s=0, callbacks=[],
                                      log=lambda s: None)
    uri = models.artifact_publish(folder)
    stored = object_store.keys(f"models/{uri}/")
    assert uri == "catheter/store-test" and len(stored) == len([p for p in folder.rglob("*") if p.is_file()])
    version = model_version_register(kind="catheter", scope_key=scope, artifact_uri=uri)
    champion_promote(version_id=version.pk, actor=None, reason="store test")

    # Another machine: its own model folder and media folder, nothing but the store in common.
    settings.LOUPE_MODEL_ROOT = str(tmp_path / "elsewhere" / "models")
    settings.MEDIA_ROOT = str(tmp_path / "elsewhere" / "media")
    models.forget()
    predictor = models.predictor_for(version)
    fetched = Path(settings.LOUPE_MODEL_ROOT) / uri
    assert sorted(p.name for p in fetched.iterdir()) == sorted({k.rsplit("/", 1)[1] for k in stored})
    predictor.checkpoint_verdict_threshold = 0.0   # every shot over the floor: maps are made
    assert inference.predict([item.pk], fill=False)["predicted"] == 1
    assert filestore.cache().stats.misses == 2   # the item's two working copies, from the bucket
    maps = object_store.keys(f"predictions/{item.pk}/v{version.pk}/")
    assert len(maps) == 4 and not (Path(settings.MEDIA_ROOT) / "predictions").exists()
    # the web process serves them from the bucket, to signed-in users only
    prediction = Prediction.objects.get(item=item, model_version=version)
    url = f"/predictions/{prediction.pk}/maps/0/defect.png"
    assert client.get(url).status_code == 302
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    key = f"predictions/{item.pk}/v{version.pk}/shot0_defect.png"
    served = b"".join(response.streaming_content)
    assert served == object_store.client.get_object(Bucket=object_store.bucket, Key=key)["Body"].read()
    assert Image.open(io.BytesIO(served)).mode == "RGBA"

    with pytest.raises(FileNotFoundError, match="not in the object store"):
        models.artifact_path("catheter/never-published")


def test_object_store_cache_stays_within_its_bound(tmp_path):
    cache = FileCache(tmp_path / "cache", max_bytes=10_000)

    def writer(size):
        return lambda target: target.write_bytes(b"x" * size)

    for n in range(8):
        cache.get(f"a/{n}.bin", writer(2_000))
        os.utime(cache.path_of(f"a/{n}.bin"), ns=(n * 10**9, n * 10**9))   # a clear order of last use
        if n == 3:
            cache.get("a/0.bin", writer(2_000))   # a hit: 0 is now the most recent of the first four
            os.utime(cache.path_of("a/0.bin"), ns=(35 * 10**8, 35 * 10**8))
    held = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert held <= 10_000 and cache.stats.bytes_held == held
    assert cache.stats.hits == 1 and cache.stats.misses == 8 and cache.stats.evictions >= 3
    kept = sorted(p.name for p in (tmp_path / "cache" / "a").iterdir())
    assert "7.bin" in kept and "1.bin" not in kept
    with pytest.raises(ValueError):
        cache.path_of("../outside")
    with pytest.raises(OSError):
        cache.get("a/broken.bin", lambda target: (_ for _ in ()).throw(OSError("network down")))
    assert not list((tmp_path / "cache" / "a").glob("*.part"))
