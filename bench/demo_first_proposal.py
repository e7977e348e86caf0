"""How long a new user waits for the first proposal of each kind after `make demo` says the server is up.

Starts `manage.py rundemo` as the README's run command does (embedded default: SQLite, embedded Redis,
the demo data, a worker with beat and a training worker) on a fresh database and media folder, then, from
the moment /health/ first answers, polls the public API as the demo admin until each demo project has an
item in the `predicted` state. Prints, per kind, seconds from process start and from server up to that
first proposal; the last line is one JSON object. Stops everything it started.

    .venv/bin/python bench/demo_first_proposal.py [--size small] [--timeout 300]
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _sim_api import Api, ApiError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/health/?workers=0", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def first_predicted(api: Api, project_id: int) -> bool:
    answer = api.get(f"projects/{project_id}/items/", state="predicted", limit=1)
    rows = answer.get("results", answer) if isinstance(answer, dict) else answer
    return bool(rows)


def measure(size: str, timeout: float, workdir: Path) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LOUPE_EMBEDDED_REDIS")}
    env.update(SQLITE_PATH=str(workdir / "db.sqlite3"), MEDIA_ROOT=str(workdir / "media"), PYTHONUNBUFFERED="1")
    log_path = workdir / "rundemo.log"
    started = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "manage.py", "rundemo", "--port", str(port), "--size", size],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not health(base):
            if proc.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError(f"the demo did not come up; see {log_path}")
            time.sleep(0.2)
        up = time.monotonic()
        print(f"server up {up - started:.1f} s after start", flush=True)
        api = Api(base, "admin", "admin-demo")
        projects = {p["id"]: p for p in api.pages("projects/")}
        waiting = {pid: p for pid, p in projects.items()}
        first: dict[str, dict] = {}
        while waiting and time.monotonic() - up < timeout:
            for pid, project in list(waiting.items()):
                try:
                    if first_predicted(api, pid):
                        now = time.monotonic()
                        first[project["kind"]] = {"project": project["slug"], "after_start_s": round(now - started, 1),
                                                  "after_up_s": round(now - up, 1)}
                        print(f"{project['kind']:9s} first proposal {now - up:6.1f} s after the server was up "
                              f"({project['slug']})", flush=True)
                        del waiting[pid]
                except ApiError as exc:   # a busy SQLite may answer 503 for a moment
                    print(f"  retrying after: {exc}", flush=True)
            time.sleep(0.5)
        for project in waiting.values():
            print(f"{project['kind']:9s} no proposal within {timeout:.0f} s ({project['slug']})", flush=True)
        return {"size": size, "server_up_after_start_s": round(up - started, 1), "first_proposal": first,
                "missing": sorted(p["kind"] for p in waiting.values()), "load_average": os.getloadavg()[0]}
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="small", help="rundemo's --size (the README's `make demo` uses small)")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="loupe-first-proposal-") as tmp:
        result = measure(args.size, args.timeout, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
