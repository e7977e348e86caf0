"""Queue benchmark: 100,000 items in PostgreSQL, 20 concurrent clients over HTTP on loopback doing
take-next + submit in a loop. Prints p50/p95 of each call and the number of double leases.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/spine_queue.py [--items 100000]

It creates (and drops afterwards) its own database ``loupe_bench`` on that server, and serves the real
ASGI application with uvicorn (``--workers`` processes) on a free loopback port.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_database_url(base: str) -> str:
    parts = urlparse(base)
    return urlunparse(parts._replace(path="/loupe_bench"))


def recreate_database(base_url: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS loupe_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE loupe_bench")


def seed(n_items: int, n_clients: int) -> tuple[int, list[str]]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from webapp.accounts.services import project_member_add, token_for, user_create
    from webapp.assets.models import Asset
    from webapp.labeling.models import WorkItem, WorkItemAsset
    from webapp.labeling.services import project_create

    project = project_create(name="Bench catheter", kind="catheter", queue_policy="fifo", audit_share=0.1,
                             review_required=False, golden_share=0.0)
    asset = Asset.objects.create(sha256="0" * 64, original="bench.png", original_name="bench.png", format="PNG",
                                 mode="L", width=512, height=512, byte_size=1)
    started = time.perf_counter()
    batch = 5000
    for start in range(0, n_items, batch):
        items = WorkItem.objects.bulk_create(
            [WorkItem(project=project, external_id=f"b{i}") for i in range(start, min(n_items, start + batch))])
        WorkItemAsset.objects.bulk_create([WorkItemAsset(item=item, asset=asset, position=0, role="shot") for item in items])
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {n_items} items in {time.perf_counter() - started:.1f} s")
    operators = [user_create(username=f"bench{i}", password="bench-pass-1", role="operator") for i in range(n_clients)]
    for user in operators:
        project_member_add(project_id=project.pk, user=user)
    tokens = [token_for(user=user) for user in operators]
    return project.pk, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health/?workers=0")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("server did not start")


ANNOTATION = {"verdict": "defect", "shots": [{"defects": [{"type": "axial_scratch", "box": [10, 20, 60, 200]}]}]}


def client_loop(port, token, project_id, stop_at, take_ms, submit_ms, taken_items, errors):
    """One operator: take-next, then submit, as fast as the server answers. ``taken_items`` gets
    (client, item) for every distinct lease this client received."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    while time.perf_counter() < stop_at:
        t0 = time.perf_counter()
        conn.request("POST", f"/api/v1/projects/{project_id}/take-next/", body=b"", headers=headers)
        response = conn.getresponse()
        body = response.read()
        take_ms.append((time.perf_counter() - t0) * 1000)
        if response.status == 204:
            break
        if response.status != 200:
            errors.append(f"take-next {response.status} {body[:200]!r}")
            continue
        item = json.loads(body)["item"]
        taken_items.append((token, item))
        payload = json.dumps({"annotation": ANNOTATION, "base_revision": None}).encode()
        t1 = time.perf_counter()
        conn.request("POST", f"/api/v1/items/{item}/revisions/", body=payload, headers=headers)
        response = conn.getresponse()
        body = response.read()
        submit_ms.append((time.perf_counter() - t1) * 1000)
        if response.status != 201:
            errors.append(f"submit {response.status} {body[:200]!r}")


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgres"):
        print("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database there)")
        return 2
    recreate_database(base)
    url = bench_database_url(base)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="webapp.config.settings", LOUPE_LEASE_TTL_SECONDS="600")
    project_id, tokens = seed(args.items, args.clients)
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                               "--no-access-log"], cwd=ROOT, env=env)
    try:
        wait_up(port)
        take_ms, submit_ms, taken, errors = [], [], [], []
        stop_at = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=client_loop, args=(port, t, project_id, stop_at, take_ms, submit_ms, taken, errors))
                   for t in tokens]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    from django.db.models import Count

    from webapp.labeling.models import Lease

    # A double lease is one item handed to two different clients (a client may get its own lease back).
    holders = Counter(item for _, item in set(taken))
    doubles_seen = sum(n - 1 for n in holders.values() if n > 1)
    leased_twice = Lease.objects.values("item").annotate(n=Count("id")).filter(n__gt=1).count()
    print(f"items: {args.items}  clients: {args.clients}  server processes: {args.workers}  run: {elapsed:.1f} s")
    print(f"take-next: n={len(take_ms)}  p50={pct(take_ms, 50):.1f} ms  p95={pct(take_ms, 95):.1f} ms  "
          f"mean={statistics.fmean(take_ms):.1f} ms")
    print(f"submit:    n={len(submit_ms)}  p50={pct(submit_ms, 50):.1f} ms  p95={pct(submit_ms, 95):.1f} ms  "
          f"mean={statistics.fmean(submit_ms):.1f} ms")
    print(f"throughput: {len(submit_ms) / elapsed:.1f} items/s")
    print(f"double leases: {doubles_seen} (seen by clients), {leased_twice} items with more than one lease row")
    print(f"errors: {len(errors)}" + (f"  first: {errors[0]}" if errors else ""))
    from django.db import connections

    connections.close_all()
    recreate_database(base)  # leave an empty database behind, not 100k rows
    return 0 if doubles_seen == 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
