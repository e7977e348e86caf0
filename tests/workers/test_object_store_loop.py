"""The loop over three processes that share no disk, only PostgreSQL (or SQLite), Redis and the object store:
a web server (uvicorn), an infer worker (infer and cpu queues) and a train worker (train queue), each with
a private MEDIA_ROOT and LOUPE_MODEL_ROOT of its own.

upload (HTTP, to the web server) -> working copies and tiles (infer worker, from the bucket) -> tiles served
by the web server from the bucket -> bootstrap and promotion (train worker, artifact published to the
bucket) -> proposals (infer worker, model fetched from the bucket) -> corrections -> fine-tune (train
worker, working copies read through its cache) -> promotion -> re-scoring (infer worker, the new artifact
fetched from the bucket).

The S3 server is moto's server mode (see the ``s3_server`` fixture), an emulator standing in for AWS S3,
MinIO or Ceph RGW.
"""
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from webapp.accounts.services import token_for
from webapp.assets.models import Asset
from webapp.labeling.models import Prediction, WorkItem
from webapp.labeling.services import item_create
from webapp.mlops.models import ModelVersion
from webapp.mlops.selectors import champion_get
from webapp.mlops.services import champion_promote

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait(predicate, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    tails = "\n".join(f"--- {p}\n{Path(p).read_text()[-3000:]}" for p in logs)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}")


@pytest.fixture
def web_server(worker_env, tmp_path):
    procs = []

    def start(**extra_env):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log_path = tmp_path / "web.log"
        env = {k: v for k, v in {**worker_env, **extra_env}.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host",
                                     "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"

        def up():
            assert proc.poll() is None, log_path.read_text()
            try:
                return requests.get(f"{base}/health/?workers=0", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        _wait(up, 120, "the web server", [log_path])
        proc.base, proc.log_path = base, log_path
        return proc

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)


def _png(array) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def _stored_files(root: Path, folder: str) -> list[Path]:
    return [p for p in (root / folder).rglob("*") if p.is_file()] if (root / folder).exists() else []


def test_object_store_loop_over_processes_sharing_no_disk(object_store, web_server, start_worker, make_project,
                                                         accept, operator, admin_user, tmp_path):
    from workers.demo_sources import catheter_series

    private = {name: tmp_path / "machines" / name for name in ("web", "infer", "train")}

    def machine(name: str) -> dict:
        return {"LOUPE_STORAGE_URL": object_store.url, "MEDIA_ROOT": str(private[name] / "media"),
                "LOUPE_MODEL_ROOT": str(private[name] / "models"), "LOUPE_CACHE_BYTES": str(64 * 1024 ** 2)}

    web = web_server(**machine("web"))
    infer = start_worker("infer,cpu", **machine("infer"))
    train = start_worker("train", **machine("train"))
    logs = [web.log_path, infer.log_path, train.log_path]
    scope = f"line:s3-{uuid.uuid4().hex[:6]}"
    project = make_project("catheter", scope_key=scope, review_required=True, train_after_corrections=2,
                           train_after_minutes=60)

    # Upload: 8 series of 2 shots, through the web server's API, into the bucket.
    series = {i: catheter_series(i, 7, size=128, shots=2) for i in [*range(5), *range(100, 103)]}
    files = [("files", (f"s{i}_{k}.png", _png(shot.image), "image/png"))
             for i, (shots, _) in series.items() for k, shot in enumerate(shots)]
    auth = {"Authorization": f"Token {token_for(user=operator)}"}
    response = requests.post(f"{web.base}/api/v1/assets/", files=files, headers=auth, timeout=120)
    assert response.status_code == 201, response.text
    asset_ids = [r["asset"]["id"] for r in response.json()["results"]]
    assert len(asset_ids) == 16 and len(object_store.keys("assets/")) == 16
    items = {}
    for n, (i, (shots, truth)) in enumerate(series.items()):
        item = item_create(project=project, asset_ids=asset_ids[2 * n:2 * n + 2], external_id=f"s{i}",
                           meta={"setup": shots[0].setup})
        items[i] = (item, truth)
    golden = [items[i] for i in range(100, 103)]
    pool = [items[i] for i in range(5)]
    WorkItem.objects.filter(pk__in=[i.pk for i, _ in golden]).update(split="golden")

    # Working copies and tiles: built by the infer worker from the bucket, served by the web server from it.
    _wait(lambda: Asset.objects.filter(pk__in=asset_ids, derivatives=Asset.Derivatives.READY).count() == 16,
          240, "the derivatives", logs)
    asset = Asset.objects.get(pk=asset_ids[0])
    dzi = requests.get(f"{web.base}/assets/{asset.pk}/tiles.dzi", headers=auth, timeout=30)
    assert dzi.status_code == 200 and b'Width="128"' in dzi.content
    tile = requests.get(f"{web.base}/assets/{asset.pk}/tiles_files/7/0_0.jpeg", headers=auth, timeout=30)
    prefix = asset.dzi.rsplit("/", 1)[0]
    pack, index = (object_store.client.get_object(Bucket=object_store.bucket, Key=f"{prefix}/tiles.{suffix}")
                   ["Body"].read() for suffix in ("pack", "index.json"))
    offset, length = json.loads(index)["7/0_0"]
    assert tile.status_code == 200 and tile.content == pack[offset:offset + length]
    assert requests.get(f"{web.base}/assets/{asset.pk}/tiles.dzi", timeout=30, allow_redirects=False) \
        .status_code in (302, 401, 403)

    # Bootstrap on the train worker, proposals on the infer worker.
    for item, truth in golden:
        accept(item, truth)
    v1 = _wait(lambda: champion_get(kind="catheter", scope_key=scope), 420, "the first model", logs)
    pool_ids = [i.pk for i, _ in pool]
    _wait(lambda: Prediction.objects.filter(item_id__in=pool_ids, model_version=v1).count() == 5, 300,
          "proposals of v1", logs)

    # Corrections -> a fine-tune on the train worker -> promotion -> re-scoring on the infer worker.
    for item, truth in pool[:2]:
        accept(item, truth)
    v2 = _wait(lambda: ModelVersion.objects.filter(kind="catheter", scope_key=scope).exclude(pk=v1.pk).first(),
               420, "the fine-tuned candidate", logs)
    champion_promote(version_id=v2.pk, actor=admin_user, reason="test", override=not v2.promotable,
                     override_reason="tiny test model: slices are noise")
    unreviewed = [i.pk for i, _ in pool[2:]]
    _wait(lambda: Prediction.objects.filter(item_id__in=unreviewed, model_version=v2, stale=False).count() == 3,
          300, "re-scoring by v2", logs)

    # Everything went through the store: no process saw another's folders.
    for version in (v1, v2):
        assert object_store.keys(f"models/{version.artifact_uri}/"), version.artifact_uri
        assert (private["train"] / "models" / version.artifact_uri).is_dir()    # trained there
        assert (private["infer"] / "models" / version.artifact_uri).is_dir()    # fetched from the bucket
    assert not (private["web"] / "models").exists()
    for name in ("web", "infer", "train"):
        media = private[name] / "media"
        for folder in ("assets", "derived", "predictions", "imports"):
            assert not _stored_files(media, folder), (name, folder)
    for name in ("infer", "train"):   # working copies (and originals for the derivatives) came through the cache
        cached = _stored_files(private[name] / "media", ".cache")
        assert cached and all(p.relative_to(private[name] / "media" / ".cache").parts[0] in ("assets", "derived")
                              for p in cached), name
    assert len(object_store.keys("derived/")) == 16 * 4   # working copy, descriptor, tile pack and its index
    assert infer.poll() is None and train.poll() is None and web.poll() is None
    assert os.path.commonpath([private["infer"], private["train"]]) == str(tmp_path / "machines")
