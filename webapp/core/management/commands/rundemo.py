"""Run the whole application on one machine: embedded Redis, migrations, demo data, a Celery worker
(with beat) and the ASGI web server. Ctrl-C stops all of it."""
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


def _interrupt(*_):
    raise KeyboardInterrupt


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
        signal.signal(signal.SIGTERM, _interrupt)
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
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            self._stop_all()

    def _spawn(self, cmd, env):
        self.children.append(subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True))

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
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        stop_embedded_redis()
        self.stdout.write("Stopped.")
