"""Start the application the way the README's run command does (embedded default: SQLite, embedded
Redis, a worker), fetch the login page, the API schema and the health endpoint, then stop it all."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split("\n")
    children: dict[int, list[int]] = {}
    for line in out:
        if line.strip():
            p, pp = map(int, line.split())
            children.setdefault(pp, []).append(p)
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ignore_sigint() -> None:
    """Start the command as ``nohup … &`` does: with SIGINT ignored, a disposition children inherit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_run_command_starts_and_stops_everything(tmp_path, stop_signal):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "LOUPE_EMBEDDED_REDIS")}
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), MEDIA_ROOT=str(tmp_path / "media"), PYTHONUNBUFFERED="1")
    log = open(tmp_path / "run.log", "w")
    proc = subprocess.Popen([sys.executable, "manage.py", "rundemo", "--port", str(port), "--size", "tiny"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=ignore_sigint)
    base = f"http://127.0.0.1:{port}"
    family: set[int] = set()  # every process the command started, seen while they still had it as parent
    try:
        deadline = time.monotonic() + 240
        health = None
        while time.monotonic() < deadline:
            family |= descendants(proc.pid)
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-4000:]
            try:
                status, body = fetch(base + "/health/")
                import json

                health = json.loads(body)
                if status == 200 and health["workers"]["ok"]:
                    break
            except OSError:
                pass
            time.sleep(1)
        assert health and health["database"]["vendor"] == "sqlite" and health["redis"]["embedded"], health
        assert health["workers"]["count"] >= 1
        status, body = fetch(base + "/login/")
        assert status == 200 and b"Sign in" in body
        status, body = fetch(base + "/api/schema/")
        assert status == 200 and b"openapi" in body
        family |= descendants(proc.pid)
        assert len(family) >= 3, "expected the worker, the web server and the embedded Redis"
        text = (tmp_path / "run.log").read_text()
        assert "operator / operator-demo" in text
    finally:
        # Whatever failed above, nothing started here outlives the test.
        family |= descendants(proc.pid)
        proc.send_signal(stop_signal)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            kill_all(family)
            raise
        finally:
            log.close()
        leftovers = [pid for pid in family if alive(pid)]
        kill_all(set(leftovers))
    time.sleep(1)
    assert not leftovers, f"processes left running: {leftovers}"
    text = (tmp_path / "run.log").read_text()
    assert "Stopped." in text and f"Stopping ({signal.Signals(stop_signal).name})" in text
