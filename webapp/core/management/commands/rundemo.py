"""Run the whole application on one machine: embedded Redis, migrations, demo data, a Celery worker
(with beat) and the ASGI web server. Ctrl-C (SIGINT) or SIGTERM stops all of it.

Both signals are handled explicitly: a process started from a shell that ignores SIGINT (``nohup … &``,
some supervisors) inherits the ignored disposition, and Python then installs no KeyboardInterrupt
handler of its own. The children run in sessions of their own (a terminal's Ctrl-C reaches only this
process), so this process stops each of them, then the embedded Redis.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from webapp.core.embedded_redis import stop_embedded_redis

DEMO_LOGINS = [("operator", "operator-demo"), ("operator2", "operator2-demo"), ("reviewer", "reviewer-demo"),
               ("admin", "admin-demo")]


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum, _frame):
    # Further signals while stopping would cut the teardown short: it has its own timeouts.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _default_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


class Command(BaseCommand):
    help = "Start Loupe with everything it needs on this machine (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="Skip generating the demo projects.")
        parser.add_argument("--size", default=os.environ.get("LOUPE_DEMO_SIZE", "small"),
                            choices=["tiny", "small", "medium"], help="How much demo data to generate.")
        parser.add_argument("--concurrency", type=int, default=1, help="Worker processes.")

    def handle(self, *args, **opts):
        self.children: list[subprocess.Popen] = []
        env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1")
        for sig in STOP_SIGNALS:
            signal.signal(sig, _interrupt)
        try:
            self.stdout.write(f"Redis: {settings.REDIS_URL}{' (embedded)' if os.environ.get('LOUPE_EMBEDDED_REDIS') else ''}")
            self.stdout.write(f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
            call_command("migrate", interactive=False, verbosity=0)
            if not opts["no_seed"]:
                subprocess.run([sys.executable, "-m", "workers.demo", "seed", "--size", opts["size"]],
                               env=env, check=True)
            var = settings.BASE_DIR / "var"
            self._spawn([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "-B",
                         "-Q", "infer,cpu", "--concurrency", str(opts["concurrency"]), "-l", "INFO",
                         "-s", str(var / "celerybeat-schedule"), "-n", "loupe@%h"], env)
            # Training has its own worker so that predictions never wait behind a training run.
            self._spawn([sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker",
                         "-Q", "train", "--concurrency", "1", "-l", "INFO", "-n", "loupe-train@%h"], env)
            self._spawn([sys.executable, "-m", "daphne", "-b", opts["host"], "-p", str(opts["port"]),
                         "webapp.config.asgi:application"], env)
            url = f"http://{opts['host']}:{opts['port']}/"
            self._wait_for(url + "health/?workers=0")
            self.stdout.write(self.style.SUCCESS(f"\nLoupe is running at {url}"))
            self.stdout.write("Demo logins: " + ", ".join(f"{u} / {p}" for u, p in DEMO_LOGINS))
            self.stdout.write(f"API docs: {url}api/docs/   Health: {url}health/   Press Ctrl-C to stop.\n")
            while all(child.poll() is None for child in self.children):
                time.sleep(0.5)
            self.stderr.write("A process stopped; shutting down.")
        except KeyboardInterrupt as exc:
            self.stdout.write(f"\nStopping ({exc or 'SIGINT'})…")
        finally:
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            self._stop_all()

    def _spawn(self, cmd, env):
        # Children get the default dispositions back (they inherit an ignored SIGINT otherwise).
        self.children.append(subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True,
                                              preexec_fn=_default_signals))

    def _wait_for(self, url, timeout=60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the web server did not answer at {url} within {timeout:.0f} s")

    def _stop_all(self):
        for child in self.children:
            _signal_group(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(child.pid, signal.SIGKILL)
                child.wait(timeout=5)
            # A worker's pool processes outlive their parent for a moment: the group goes as a whole.
            _signal_group(child.pid, signal.SIGKILL)
        stop_embedded_redis()
        self.stdout.write("Stopped.")


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
