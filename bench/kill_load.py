"""Load with kills: operators and reviewers work over HTTP on loopback while the web server and the Celery
worker are killed with SIGKILL and the Redis broker is restarted, again and again. Afterwards every
acknowledged write (a 201 for a revision or a review) must be in the database, no item may have had two
open leases at once, and no two revisions may share a base (a lost update).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/loupe_h3 .venv/bin/python bench/kill_load.py \\
        [--operators 8] [--reviewers 2] [--items 400] [--seconds 90] [--kill-every 6]

It migrates the database it is given and works in a project of its own there. Redis is a private
redis-server on a free port, started and restarted here (without persistence, so a restart loses every
queued task and cached counter: the database must not depend on them). PostgreSQL itself is not restarted:
it may be shared with others on this machine. Loops are bounded by --seconds and by --max-calls per client.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ANNOTATION = {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [10, 20, 60, 200]}]}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def service_env(work: Path, key_prefix: str, **extra: str) -> dict[str, str]:
    """The environment of the web server and the worker: media, models and cache keys of this run only."""
    return dict(os.environ, LOUPE_LOCAL="1", LOUPE_KEY_PREFIX=key_prefix, LOUPE_BOOTSTRAP="0",
                MEDIA_ROOT=str(work / "media"), LOUPE_MODEL_ROOT=str(work / "models"), LOG_LEVEL="WARNING",
                PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="webapp.config.settings",
                LOUPE_LEASE_TTL_SECONDS="60", **extra)


class Services:
    """The private Redis, the web server and the worker, each restartable; all children of this process."""

    SHARED = ("DATABASE_URL", "REDIS_URL", "LOUPE_LOCAL", "LOUPE_KEY_PREFIX", "MEDIA_ROOT", "DJANGO_SETTINGS_MODULE",
              "LOUPE_BOOTSTRAP")

    def __init__(self, env: dict, work: Path):
        self.env, self.work = env, work
        self.redis_port, self.web_port = free_port(), free_port()
        self.env["REDIS_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"
        self.procs: dict[str, subprocess.Popen] = {}
        self.counts: Counter = Counter()
        # this process seeds and verifies through Django: the same database, Redis and settings as the servers
        os.environ.update({k: env[k] for k in self.SHARED if k in env})

    def _start(self, name: str, cmd: list[str]) -> None:
        log = open(self.work / f"{name}.log", "a")
        self.procs[name] = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def start_redis(self) -> None:
        self._start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(self.work)])
        self._wait(lambda: _redis_ping(self.redis_port), "redis")

    def start_web(self) -> None:
        self._start("web", [sys.executable, "-m", "uvicorn", "webapp.config.asgi:application", "--host", "127.0.0.1",
                            "--port", str(self.web_port), "--log-level", "warning"])
        self._wait(lambda: _http_ok(self.web_port), "web server")

    def start_worker(self) -> None:
        self._start("worker", [sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "-Q",
                               "cpu,infer", "--concurrency", "1", "-l", "WARNING",
                               "-n", f"kill-load-{uuid.uuid4().hex[:6]}@%h"])

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
        self.counts[f"{name} killed"] += 1

    def restart(self, name: str) -> None:
        self.kill(name)
        {"redis": self.start_redis, "web": self.start_web, "worker": self.start_worker}[name]()

    def stop_all(self) -> None:
        for name in ("web", "worker", "redis"):
            if name in self.procs and self.procs[name].poll() is None:
                self.kill(name)
                self.counts[f"{name} killed"] -= 1  # the final stop is no fault injected

    @staticmethod
    def _wait(ready, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _http_ok(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health/?workers=0")
        return conn.getresponse().status == 200
    except OSError:
        return False


class Client:
    """One HTTP client; any connection error (a killed server) is counted and answered as None."""

    def __init__(self, port: int, token: str, tally: Counter):
        self.port, self.tally = port, tally
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None] | None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            conn.request(method, path, body=json.dumps(body).encode() if body is not None else b"",
                         headers=self.headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.tally["connection errors"] += 1
            time.sleep(0.2)
            return None
        if response.status >= 500:
            self.tally[f"{response.status} answers"] += 1
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, None


def operator_loop(client: Client, project_id: int, stop_at: float, max_calls: int, acked: list) -> None:
    for _ in range(max_calls):
        if time.monotonic() > stop_at:
            return
        taken = client.call("POST", f"/api/v1/projects/{project_id}/take-next/")
        if taken is None or taken[0] != 200:
            if taken and taken[0] == 204:
                time.sleep(0.2)
            continue
        item = taken[1]["item"]
        detail = client.call("GET", f"/api/v1/items/{item}/")
        if detail is None or detail[0] != 200:
            continue
        current = detail[1]["current"]
        base = current["number"] if current else None
        saved = client.call("POST", f"/api/v1/items/{item}/revisions/",
                            {"annotation": ANNOTATION, "base_revision": base})
        if saved and saved[0] == 201:
            acked.append((item, saved[1]["number"], saved[1]["author"]))


def reviewer_loop(client: Client, project_id: int, stop_at: float, max_calls: int, acked: list) -> None:
    n = 0
    while n < max_calls and time.monotonic() < stop_at:
        listed = client.call("GET", f"/api/v1/projects/{project_id}/items/?state=submitted&limit=20")
        n += 1
        if listed is None or listed[0] != 200 or not listed[1]["results"]:
            time.sleep(0.3)
            continue
        for row in listed[1]["results"]:
            decision = "accept" if row["id"] % 3 else "send_back"
            done = client.call("POST", f"/api/v1/items/{row['id']}/reviews/",
                               {"decision": decision, "revision": row["head_revision"], "comment": "bench"})
            n += 1
            if done and done[0] == 201:
                acked.append(done[1]["id"])


@dataclass
class Load:
    """What a load run acknowledged (revisions as (item, number, author), review ids) and counted."""
    project_id: int
    operators: list[str]
    tally: Counter
    revisions: list
    reviews: list


def load_arguments(parser: argparse.ArgumentParser, seconds: float) -> None:
    parser.add_argument("--operators", type=int, default=8)
    parser.add_argument("--reviewers", type=int, default=2)
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--max-calls", type=int, default=5000, help="per client: the loops are bounded")


def run_load(services: Services, args: argparse.Namespace, tag: str, faults: Callable[[float], None], *,
             client: type[Client] = Client, revisions: list | None = None) -> Load:
    """Seed a project, start the web server and the worker, and let ``args.operators`` operators and
    ``args.reviewers`` reviewers work over HTTP for ``args.seconds`` while ``faults(stop_at)`` injects faults
    in a thread of its own. ``revisions``: the list the acknowledged revisions are appended to."""
    project_id, operators, reviewers = seed(args.items, args.operators, args.reviewers, tag)
    services.start_web()
    services.start_worker()
    load = Load(project_id, operators, Counter(), [] if revisions is None else revisions, [])
    stop_at = time.monotonic() + args.seconds
    threads = [threading.Thread(target=operator_loop, args=(client(services.web_port, t, load.tally), project_id,
                                                            stop_at, args.max_calls, load.revisions))
               for t in operators]
    threads += [threading.Thread(target=reviewer_loop, args=(client(services.web_port, t, load.tally), project_id,
                                                             stop_at, args.max_calls, load.reviews))
                for t in reviewers]
    threads.append(threading.Thread(target=faults, args=(stop_at,)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return load


def chaos_loop(services: Services, stop_at: float, every: float, lock: threading.Lock) -> None:
    order = ["web", "worker", "redis"]
    n = 0
    while time.monotonic() + every < stop_at:
        time.sleep(every)
        with lock:
            services.restart(order[n % len(order)])
        n += 1


def seed(n_items: int, n_operators: int, n_reviewers: int, tag: str) -> tuple[int, list[str], list[str]]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from webapp.accounts.services import project_member_add, token_for, user_create
    from webapp.assets.models import Asset
    from webapp.labeling.models import WorkItem, WorkItemAsset
    from webapp.labeling.services import project_create

    project = project_create(name=f"Kill load {tag}", kind="catheter", queue_policy="fifo", audit_share=0.1,
                             review_required=True, golden_share=0.0)
    asset, _ = Asset.objects.get_or_create(sha256="1" * 64, defaults=dict(
        original="kill-load.png", original_name="kill-load.png", format="PNG", mode="L", width=512, height=512,
        byte_size=1))
    items = WorkItem.objects.bulk_create([WorkItem(project=project, external_id=f"k{i}") for i in range(n_items)])
    WorkItemAsset.objects.bulk_create([WorkItemAsset(item=i, asset=asset, position=0, role="shot") for i in items])
    def member(name: str, role: str) -> str:
        user = user_create(username=f"kl-{tag}-{name}", password="kill-load-1", role=role)
        project_member_add(project_id=project.pk, user=user, role=role)
        return token_for(user=user)

    operators = [member(f"op{i}", "operator") for i in range(n_operators)]
    reviewers = [member(f"rv{i}", "reviewer") for i in range(n_reviewers)]
    return project.pk, operators, reviewers


def verify(project_id: int, revisions: list, reviews: list) -> dict[str, int]:
    from django.db import connection
    from django.db.models import Count

    from webapp.labeling.models import Lease, Review, Revision

    connection.close()  # the server restarts may have outlived this process's connection
    stored = set(Revision.objects.filter(item__project_id=project_id)
                 .values_list("item_id", "number", "author__username"))
    lost_revisions = sum(1 for key in revisions if tuple(key) not in stored)
    stored_reviews = set(Review.objects.filter(item__project_id=project_id).values_list("id", flat=True))
    lost_reviews = sum(1 for pk in reviews if pk not in stored_reviews)
    double = 0
    leases = Lease.objects.filter(item__project_id=project_id).order_by("item_id", "created_at", "id")
    previous = None
    for lease in leases:
        if previous is not None and previous.item_id == lease.item_id:
            if previous.ended_at is None or previous.ended_at > lease.created_at:
                double += 1
        previous = lease
    same_base = (Revision.objects.filter(item__project_id=project_id, base__isnull=False)
                 .values("item_id", "base_id").annotate(n=Count("id")).filter(n__gt=1).count())
    return {"acknowledged revisions": len(revisions), "lost revisions": lost_revisions,
            "acknowledged reviews": len(reviews), "lost reviews": lost_reviews, "double leases": double,
            "revisions sharing a base": same_base, "leases": leases.count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    load_arguments(parser, seconds=90.0)
    parser.add_argument("--kill-every", type=float, default=6.0, help="seconds between injected faults")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("needs DATABASE_URL=postgres://... (the figure is about PostgreSQL)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="loupe-kill-load-"))
    tag = uuid.uuid4().hex[:6]
    services = Services(service_env(work, f"loupe-kl-{tag}"), work)
    services.start_redis()
    try:
        load = run_load(services, args, tag,
                        lambda stop_at: chaos_loop(services, stop_at, args.kill_every, threading.Lock()))
        figures = verify(load.project_id, load.revisions, load.reviews)
    finally:
        services.stop_all()
    print(f"kill_load: {args.operators} operators, {args.reviewers} reviewers, {args.seconds:.0f} s, "
          f"a fault every {args.kill_every:.0f} s (PostgreSQL not restarted: shared)")
    for name, value in {**dict(services.counts), **dict(load.tally), **figures}.items():
        print(f"  {name}: {value}")
    ok = figures["lost revisions"] == 0 and figures["lost reviews"] == 0 and figures["double leases"] == 0 \
        and figures["revisions sharing a base"] == 0
    print("OK: no acknowledged write lost, no double lease" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
