"""Faults of the parts themselves, under load: a private PostgreSQL cluster (its own data folder and port,
started here) is restarted mid-load, then made to refuse connections for --outage seconds; the private Redis
(channel layer, cache, broker) is restarted too. Operators and reviewers keep working over HTTP on loopback
the whole time (bench/kill_load.py's clients). Afterwards: every acknowledged write is in the database, no
item had two open leases at once, no answer was a 500 (a service out of reach is a 503 with Retry-After),
and the system recovered by itself (writes acknowledged after the last fault, /health/ 200 at the end).

    .venv/bin/python bench/fault_load.py [--operators 8] [--reviewers 2] [--seconds 80] [--outage 10]

Needs the PostgreSQL server binaries (Debian's postgresql package: initdb, pg_ctl) and a user `postgres`
to run them as when started as root. Nothing else on the machine is touched: the cluster lives in a
temporary folder (its path and the servers' logs printed at the end).
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kill_load import Client, Services, free_port, load_arguments, run_load, service_env, verify  # noqa: E402


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: initdb into a temporary folder, pg_ctl to start, stop, restart."""

    def __init__(self, work: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise SystemExit("needs PostgreSQL's server binaries (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.port = free_port()
        self.data = work / "pgdata"
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        work.chmod(0o777)   # the server runs as `postgres` when this runs as root
        self.data.mkdir()
        if self.run_as:
            shutil.chown(self.data, "postgres", "postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(self.run_as + [str(self.bin / tool), *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd="/tmp")

    def _ctl(self, action: str, *extra: str) -> None:
        self._pg("pg_ctl", action, "-D", str(self.data), "-w", "-t", "60", *extra)

    def start(self) -> None:
        self._ctl("start", "-l", str(self.data / "server.log"),
                  "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c max_connections=200")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")


class StatusClient(Client):
    """kill_load's client, also counting every 503 that came without a Retry-After."""

    def call(self, method, path, body=None):
        got = super().call(method, path, body)
        if got is not None and got[0] == 503 and not (got[1] or {}).get("retry_after"):
            self.tally["503 without retry_after"] += 1
        if got is not None and got[0] < 500:
            self.tally["answers below 500"] += 1
        return got


class StampedList(list):
    """The acknowledged revisions, with when each was acknowledged (recovery after the last fault)."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []

    def append(self, value):
        self.times.append(time.monotonic())
        super().append(value)


def fault_plan(services: Services, pg: PrivatePostgres, stop_at: float, outage: float, log: list) -> None:
    """Restart PostgreSQL at a quarter, refuse connections for `outage` s at a half, restart Redis at three
    quarters of the run; each fault with its time, so that recovery after the last one can be checked."""
    start = time.monotonic()
    span = stop_at - start

    def at(fraction: float) -> None:
        time.sleep(max(0.0, start + span * fraction - time.monotonic()))

    at(0.25)
    pg.restart()
    log.append(("postgres restarted", time.monotonic()))
    at(0.45)
    pg.stop()
    log.append(("postgres refusing", time.monotonic()))
    time.sleep(outage)
    pg.start()
    log.append(("postgres back", time.monotonic()))
    at(0.7)
    services.restart("redis")
    log.append(("redis restarted", time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    load_arguments(parser, seconds=80.0)
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL refuses connections")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loupe-fault-load-"))
    pg = PrivatePostgres(work)
    pg.start()
    tag = uuid.uuid4().hex[:6]
    services = Services(service_env(work, f"loupe-fl-{tag}", DATABASE_URL=pg.url, DB_POOL_MAX="16"), work)
    services.start_redis()
    faults: list = []
    try:
        revisions = StampedList()
        load = run_load(services, args, tag,
                        lambda stop_at: fault_plan(services, pg, stop_at, args.outage, faults),
                        client=StatusClient, revisions=revisions)
        tally = load.tally
        health = StatusClient(services.web_port, load.operators[0], Counter()).call("GET", "/health/?workers=0")
        from django.db import connection

        connection.close()
        if hasattr(connection, "close_pool"):   # the pool's connections died with the restarts
            connection.close_pool()
        figures = verify(load.project_id, list(revisions), load.reviews)
        last_fault = max(t for _, t in faults)
        figures["revisions acknowledged after the last fault"] = sum(1 for t in revisions.times if t > last_fault)
        figures["health at the end"] = health[0] if health else "no answer"
    finally:
        services.stop_all()
        pg.stop()
    print(f"logs: {work}")
    print(f"fault_load: {args.operators} operators, {args.reviewers} reviewers, {args.seconds:.0f} s; PostgreSQL "
          f"restarted, then refusing connections for {args.outage:.0f} s; Redis restarted")
    t0 = faults[0][1] if faults else 0
    for name, t in faults:
        print(f"  {name} at +{t - t0:.1f} s")
    for name, value in {**dict(tally), **figures}.items():
        print(f"  {name}: {value}")
    ok = (figures["lost revisions"] == 0 and figures["lost reviews"] == 0 and figures["double leases"] == 0
          and figures["revisions sharing a base"] == 0 and tally["500 answers"] == 0
          and tally["503 without retry_after"] == 0 and figures["revisions acknowledged after the last fault"] > 0
          and figures["health at the end"] == 200)
    print("OK: nothing lost, no double lease, no 500, recovered by itself" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
