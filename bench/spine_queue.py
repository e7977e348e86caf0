"""Queue benchmark on PostgreSQL: the real ASGI application under uvicorn, clients over HTTP on loopback.

Two modes (both by default, closed first):
- closed loop: ``--clients`` (20) operators doing take-next + submit as fast as the server answers, for
  ``--seconds``; prints p50/p95 of each call and the saturation throughput (items/s);
- open loop: ``--operators`` (50) operators at a human pace (one action every ``--pace`` seconds, jittered
  +-50 %), alternating take-next and submit, for ``--open-seconds``; latencies are measured from the
  moment the action was due (a slow answer delays the next action, and that delay counts), so a
  saturated server cannot hide behind its own slowness. Prints p50/p95/p99 per call and the errors.
Both print the double leases: an item handed to two clients, and items with two open lease rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loupe_h3 python bench/spine_queue.py \\
        [--mode closed|open|both] [--items 100000] [--compare main]

``--compare REF`` first runs the same benchmark (this file, same arguments) against the server code of the
git revision REF (exported with ``git archive`` into a temp folder), then against this tree, and prints
both results and their ratios: before and after, same machine, same load, one run.

The benchmark creates (and empties afterwards) its own database ``<database of DATABASE_URL>_bench`` on
that server; the 100,000 items are seeded with set-based INSERTs (seconds).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_database_url(base: str) -> str:
    parts = urlparse(base)
    name = (parts.path.strip("/") or "loupe") + "_bench"
    return urlunparse(parts._replace(path=f"/{name}"))


def recreate_database(base_url: str) -> None:
    import psycopg

    name = urlparse(bench_database_url(base_url)).path.strip("/")
    admin = urlunparse(urlparse(base_url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(n_items: int, n_users: int) -> tuple[int, list[str]]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from webapp.accounts.services import project_member_add, token_for, user_create
    from webapp.assets.models import Asset
    from webapp.labeling.services import project_create

    project = project_create(name="Bench catheter", kind="catheter", queue_policy="fifo", audit_share=0.1,
                             review_required=False, golden_share=0.0)
    asset = Asset.objects.create(sha256="0" * 64, original="bench.png", original_name="bench.png", format="PNG",
                                 mode="L", width=512, height=512, byte_size=1)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Set-based inserts: the rows as bulk_create would write them, without building 100k objects.
        cursor.execute(
            "INSERT INTO labeling_workitem (project_id, external_id, state, split, queue_rank, audit_key, meta, "
            "control_copy, created_at, updated_at) "
            "SELECT %s, 'b' || g, 'new', 'pool', -1, random(), '{}', false, now(), now() "
            "FROM generate_series(1, %s) AS g", [project.pk, n_items])
        cursor.execute(
            "INSERT INTO labeling_workitemasset (item_id, asset_id, position, role) "
            "SELECT id, %s, 0, 'shot' FROM labeling_workitem WHERE project_id = %s", [asset.pk, project.pk])
        cursor.execute("ANALYZE")
    print(f"seeded {n_items} items in {time.perf_counter() - started:.1f} s", flush=True)
    operators = [user_create(username=f"bench{i}", password="bench-pass-1", role="operator") for i in range(n_users)]
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
SUBMIT_BODY = json.dumps({"annotation": ANNOTATION, "base_revision": None}).encode()


class Operator:
    """One client: a keep-alive connection and the two calls. Records latencies, leases seen, errors."""

    def __init__(self, port: int, token: str, project_id: int, record: dict):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self.token, self.project_id, self.record = token, project_id, record

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        try:
            self.conn.request("POST", path, body=body, headers=self.headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return 0, repr(exc).encode()

    def take(self, due: float) -> int | None:
        """Take-next; the item id, or None (queue empty or an error). Latency counted from ``due``."""
        status, body = self._post(f"/api/v1/projects/{self.project_id}/take-next/", b"")
        self.record["take"].append((time.perf_counter() - due) * 1000)
        if status == 204:
            return None
        if status != 200:
            self.record["errors"].append(f"take-next {status} {body[:200]!r}")
            return None
        item = json.loads(body)["item"]
        self.record["taken"].append((self.token, item))
        return item

    def submit(self, item: int, due: float) -> bool:
        status, body = self._post(f"/api/v1/items/{item}/revisions/", SUBMIT_BODY)
        self.record["submit"].append((time.perf_counter() - due) * 1000)
        if status != 201:
            self.record["errors"].append(f"submit {status} {body[:200]!r}")
            return False
        return True


def closed_loop(op: Operator, stop_at: float) -> None:
    while time.perf_counter() < stop_at:
        item = op.take(time.perf_counter())
        if item is None:
            if not op.record["errors"]:
                break  # queue empty
            continue
        op.submit(item, time.perf_counter())


def open_loop(op: Operator, stop_at: float, pace: float, rng: random.Random) -> None:
    """Human pace: each action is due ``pace`` +-50 % after the previous one was due (not after it ended)."""
    due = time.perf_counter() + rng.uniform(0, pace)  # operators start spread over one period
    item = None
    while True:
        if due >= stop_at:
            return
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        if item is None:
            item = op.take(due)
        else:
            op.submit(item, due)
            item = None
        due += pace * rng.uniform(0.5, 1.5)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 when it is gone). Here rather than in a helper module (and
    imported by loop_infer.py): ``--compare`` copies this one file into an older tree."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def _database_backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds spent by the server processes and by their PostgreSQL backends during a run: a figure
    per item that the other loads of a shared machine do not move much (wall-clock latencies they do)."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def snapshot(self) -> dict[str, dict[int, float]]:
        return {"server": {p: _cpu_seconds(p) for p in _descendants(self.server_pid)},
                "database": {p: _cpu_seconds(p) for p in _database_backends()}}

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {part: sum(cpu - before[part].get(pid, 0.0) for pid, cpu in after[part].items())
                for part in after}


def run_clients(port: int, tokens: list[str], project_id: int, mode: str, seconds: float, pace: float) -> dict:
    record = {"take": [], "submit": [], "taken": [], "errors": []}
    operators = [Operator(port, t, project_id, record) for t in tokens]
    stop_at = time.perf_counter() + seconds
    if mode == "closed":
        threads = [threading.Thread(target=closed_loop, args=(op, stop_at)) for op in operators]
    else:
        threads = [threading.Thread(target=open_loop, args=(op, stop_at, pace, random.Random(i)))
                   for i, op in enumerate(operators)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    record["elapsed"] = time.perf_counter() - started
    return record


def report(mode: str, record: dict, n_clients: int) -> dict:
    from django.db.models import Count

    from webapp.labeling.models import Lease

    # A double lease is one item handed to two different clients (a client may get its own lease back).
    holders = Counter(item for _, item in set(record["taken"]))
    doubles = sum(n - 1 for n in holders.values() if n > 1)
    open_twice = (Lease.objects.filter(ended_at__isnull=True).values("item").annotate(n=Count("id"))
                  .filter(n__gt=1).count())
    take, submit, elapsed = record["take"], record["submit"], record["elapsed"]
    cpu = record.get("cpu", {})
    per_item = {part: round(seconds * 1000 / max(1, len(submit)), 2) for part, seconds in cpu.items()}
    summary = {"server_cpu_ms_per_item": per_item.get("server"), "database_cpu_ms_per_item": per_item.get("database"),
               "mode": mode, "clients": n_clients, "seconds": round(elapsed, 1), "take_n": len(take),
               "submit_n": len(submit), "items_per_s": round(len(submit) / elapsed, 1),
               "errors": len(record["errors"]), "double_leases": doubles, "items_with_two_open_leases": open_twice}
    for name, values in (("take", take), ("submit", submit)):
        for q in (50, 95, 99):
            summary[f"{name}_p{q}_ms"] = round(pct(values, q), 1)
    print(f"[{mode} loop] clients: {n_clients}  run: {elapsed:.1f} s")
    print(f"  take-next: n={len(take)}  p50={pct(take, 50):.1f} ms  p95={pct(take, 95):.1f} ms  "
          f"p99={pct(take, 99):.1f} ms")
    print(f"  submit:    n={len(submit)}  p50={pct(submit, 50):.1f} ms  p95={pct(submit, 95):.1f} ms  "
          f"p99={pct(submit, 99):.1f} ms")
    print(f"  throughput: {len(submit) / elapsed:.1f} items/s")
    if per_item:
        print(f"  CPU per item (take-next + submit): server {per_item['server']} ms, "
              f"PostgreSQL {per_item['database']} ms")
    print(f"  double leases: {doubles} (seen by clients), {open_twice} items with more than one open lease")
    print(f"  errors: {len(record['errors'])}" + (f"  first: {record['errors'][0]}" if record["errors"] else ""),
          flush=True)
    return summary


def run_here(args) -> list[dict]:
    base = os.environ["DATABASE_URL"]
    recreate_database(base)
    url = bench_database_url(base)
    prefix = f"loupe-bench-{os.getpid()}"
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="webapp.config.settings",
                      LOUPE_LEASE_TTL_SECONDS="600", LOUPE_KEY_PREFIX=prefix,
                      LOUPE_LOCAL=os.environ.get("LOUPE_LOCAL", "1"))
    modes = ["closed", "open"] if args.mode == "both" else [args.mode]
    project_id, tokens = seed(args.items, max(args.clients if "closed" in modes else 0,
                                              args.operators if "open" in modes else 0))
    port = free_port()
    env = dict(os.environ, LOG_LEVEL="WARNING")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
                               "--no-access-log"], cwd=ROOT, env=env)
    summaries = []
    try:
        wait_up(port)
        for mode in modes:
            n = args.clients if mode == "closed" else args.operators
            meter = CpuMeter(server.pid)
            before = meter.snapshot()
            record = run_clients(port, tokens[:n], project_id, mode,
                                 args.seconds if mode == "closed" else args.open_seconds, args.pace)
            record["cpu"] = meter.spent(before, meter.snapshot())
            summaries.append(report(mode, record, n))
    finally:
        server.terminate()
        server.wait(timeout=30)
        from django.conf import settings
        from django.db import connections

        connections.close_all()
        recreate_database(base)  # leave an empty database behind, not 100k rows
        _drop_redis_keys(settings.REDIS_URL, prefix)
    return summaries


def _drop_redis_keys(url: str, prefix: str) -> None:
    """The run's events and queued trigger checks (nobody consumes them) go with it."""
    import redis

    client = redis.Redis.from_url(url)
    for pattern in (f"{prefix}*", f"*{prefix}*"):
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)


def run_baseline(ref: str, argv: list[str]) -> list[dict]:
    """This benchmark against the server code of ``ref``: its tree exported to a temp folder, with this file
    copied in (the same clients and seeding), run in a child process; its JSON summary read back."""
    tree = Path(tempfile.mkdtemp(prefix="loupe-bench-base-"))
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        shutil.copy(__file__, tree / "bench" / "spine_queue.py")
        if (ROOT / "node_modules").exists():
            (tree / "node_modules").symlink_to((ROOT / "node_modules").resolve())
        out = subprocess.run([sys.executable, str(tree / "bench" / "spine_queue.py"), *argv, "--json-last"],
                             cwd=tree, capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        if out.returncode not in (0, 1) or not lines:
            print(out.stderr[-3000:])
            raise RuntimeError(f"baseline run failed ({out.returncode})")
        return json.loads(lines[-1])
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("closed", "open", "both"), default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20, help="closed loop: clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="closed loop: run length")
    parser.add_argument("--operators", type=int, default=50, help="open loop: simulated operators")
    parser.add_argument("--open-seconds", type=float, default=180.0, help="open loop: run length")
    parser.add_argument("--pace", type=float, default=2.0, help="open loop: mean seconds between two actions")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--compare", metavar="REF", help="run REF's server code first, then this tree's")
    parser.add_argument("--json-last", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    base = os.environ.get("DATABASE_URL")
    if not base or not base.startswith("postgres"):
        print("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database there)")
        return 2
    print(f"load average at start: {open('/proc/loadavg').read().split()[:3]}", flush=True)
    before = None
    if args.compare:
        argv = [f"--mode={args.mode}", f"--items={args.items}", f"--clients={args.clients}",
                f"--seconds={args.seconds}", f"--operators={args.operators}", f"--open-seconds={args.open_seconds}",
                f"--pace={args.pace}", f"--workers={args.workers}"]
        print(f"=== before: server code of {args.compare}", flush=True)
        before = run_baseline(args.compare, argv)
        print("=== after: this tree", flush=True)
    after = run_here(args)
    if before:
        print("=== side by side (before -> after)")
        keys = ["items_per_s", "server_cpu_ms_per_item", "database_cpu_ms_per_item", "take_p50_ms", "take_p95_ms",
                "take_p99_ms", "submit_p50_ms", "submit_p95_ms", "submit_p99_ms", "errors", "double_leases"]
        for b, a in zip(before, after):
            print(f"[{a['mode']} loop]")
            for k in keys:
                print(f"  {k}: {b[k]} -> {a[k]}")
            if b["items_per_s"]:
                print(f"  throughput after/before: {a['items_per_s'] / b['items_per_s']:.2f}")
            if b["server_cpu_ms_per_item"] and a["server_cpu_ms_per_item"]:
                print(f"  server CPU per item before/after: "
                      f"{b['server_cpu_ms_per_item'] / a['server_cpu_ms_per_item']:.2f}")
    print(f"load average at end: {open('/proc/loadavg').read().split()[:3]}", flush=True)
    if args.json_last:
        print(json.dumps(after))
    bad = any(s["double_leases"] or s["items_with_two_open_leases"] or s["errors"] for s in after)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
