"""Run the whole application on one machine: embedded Redis, migrations, demo data, a Celery worker
(with beat) and the ASGI web server. Ctrl-C (SIGINT) or SIGTERM stops all of it.

Both signals are handled explicitly: a process started from a shell that ignores SIGINT (``nohup … &``,
some supervisors) inherits the ignored disposition, and Python then installs no KeyboardInterrupt
handler of its own. The children run in sessions of their own (a terminal's Ctrl-C reaches only this
process), so this process stops each of them, then the embedded Redis.

The processes write their logs to ``var/log/`` (one file each); the terminal keeps the URL, the logins
and one live status line: workers up, queue depths per project, training progress.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from webapp.core.embedded_redis import stop_embedded_redis

DEMO_LOGINS = [("operator", "operator-demo"), ("operator2", "operator2-demo"), ("reviewer", "reviewer-demo"),
               ("admin", "admin-demo")]


STATUS_EVERY_S = 2.0        # status line refresh on a terminal
STATUS_LINE_EVERY_S = 30.0  # without a terminal (a log file), a new line at most this often, when it changed
WORKER_PING_EVERY_S = 10.0
EXPECTED_WORKERS = 2        # the infer/cpu worker and the training worker


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum, _frame):
    # Further signals while stopping would cut the teardown short: it has its own timeouts.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _default_signals() -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def status_line(workers_up: int | None) -> str:
    """One short line: workers up, queued items per project, what trains now."""
    from webapp.labeling.selectors import project_list_with_depths
    from webapp.mlops.models import TrainingRun

    depths = " ".join(f"{p.slug} {d['queued']}" + (f" (+{d['flagged']} flagged)" if d.get("flagged") else "")
                      for p, d in project_list_with_depths())
    runs = TrainingRun.objects.filter(state__in=[TrainingRun.State.QUEUED, TrainingRun.State.RUNNING]).order_by("id")
    training = ", ".join(f"{r.kind}/{r.scope_key or 'global'} "
                         + (f"{round(100 * r.progress)}%" if r.state == TrainingRun.State.RUNNING else "queued")
                         for r in runs) or "idle"
    workers = "?" if workers_up is None else str(workers_up)
    return f"workers {workers}/{EXPECTED_WORKERS} up · queued: {depths or '-'} · training: {training}"


class Command(BaseCommand):
    help = "Start Loupe with everything it needs on this machine (the README's run command)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-seed", action="store_true", help="Skip generating the demo projects.")
        parser.add_argument("--size", default=os.environ.get("LOUPE_DEMO_SIZE", "small"),
                            choices=["tiny", "small", "medium"], help="How much demo data to generate.")
        parser.add_argument("--concurrency", type=int, default=0,
                            help="Inference worker processes (default: from the device).")

    def handle(self, *args, **opts):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.background: list[tuple[str, subprocess.Popen]] = []   # may end on their own (the golden sets)
        env = dict(os.environ, REDIS_URL=settings.REDIS_URL, PYTHONUNBUFFERED="1")
        for sig in STOP_SIGNALS:
            signal.signal(sig, _interrupt)
        self.log_dir = settings.BASE_DIR / "var" / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            embedded = " (embedded)" if os.environ.get("LOUPE_EMBEDDED_REDIS") else ""
            self.stdout.write(f"Redis: {settings.REDIS_URL}{embedded}")
            self.stdout.write(f"Database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
            call_command("migrate", interactive=False, verbosity=0)
            if not opts["no_seed"]:
                self.stdout.write(f"Generating the demo data (log: {self._rel(self.log_dir / 'seed.log')})…")
                with open(self.log_dir / "seed.log", "w") as log:
                    done = subprocess.run([sys.executable, "-m", "workers.demo", "seed", "--size", opts["size"]],
                                          env=env, stdout=subprocess.PIPE, stderr=log, text=True)
                if done.returncode:
                    raise CommandError(f"seeding the demo data failed: see {self.log_dir / 'seed.log'}")
                self.stdout.write(done.stdout.strip())
            var = settings.BASE_DIR / "var"
            concurrency = ["--concurrency", str(opts["concurrency"])] if opts["concurrency"] else []
            self._spawn("worker", [sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker", "-B",
                                   "-Q", "infer,cpu", *concurrency, "-l", "INFO",
                                   "-s", str(var / "celerybeat-schedule"), "-n", "loupe@%h"], env)
            # Training has its own worker so that predictions never wait behind a training run.
            self._spawn("train-worker", [sys.executable, "-m", "celery", "-A", "webapp.config.celery", "worker",
                                         "-Q", "train", "--concurrency", "1", "-l", "INFO",
                                         "-n", "loupe-train@%h"], env)
            self._spawn("web", [sys.executable, "-m", "daphne", "-b", opts["host"], "-p", str(opts["port"]),
                                "webapp.config.asgi:application"], env)
            url = f"http://{opts['host']}:{opts['port']}/"
            self._wait_for(url + "health/?workers=0")
            if not opts["no_seed"] and opts["size"] != "tiny":
                # The golden sets the gate decides on take minutes to generate: they grow in the background
                # (at a lower priority than the workers); until then the gate says it has too few items.
                self._spawn("golden", ["nice", "-n", "10", sys.executable, "-m", "workers.demo", "golden",
                                       "--size", opts["size"]], env, background=True)
                self.stdout.write(f"Golden sets: generated in the background "
                                  f"(log: {self._rel(self.log_dir / 'golden.log')})")
            self.stdout.write(self.style.SUCCESS(f"\nLoupe is running at {url}"))
            self.stdout.write("Demo logins: " + ", ".join(f"{u} / {p}" for u, p in DEMO_LOGINS))
            self.stdout.write(f"API docs: {url}api/docs/   Health: {url}health/   Logs: {self._rel(self.log_dir)}/   "
                              "Press Ctrl-C to stop.\n")
            self._watch()
            self.stderr.write("\nA process stopped; shutting down. " + ", ".join(
                f"{name}: see {self._rel(self.log_dir / (name + '.log'))}" for name, c in self.children
                if c.poll() is not None))
        except KeyboardInterrupt as exc:
            self.stdout.write(f"\nStopping ({exc or 'SIGINT'})…")
        finally:
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            self._stop_all()

    def _rel(self, path) -> str:
        try:
            return str(path.relative_to(settings.BASE_DIR))
        except ValueError:
            return str(path)

    def _spawn(self, name, cmd, env, background: bool = False):
        log = open(self.log_dir / f"{name}.log", "a")
        # Children get the default dispositions back (they inherit an ignored SIGINT otherwise).
        (self.background if background else self.children).append(
            (name, subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True, stdout=log,
                                    stderr=subprocess.STDOUT, preexec_fn=_default_signals)))

    def _watch(self):
        """Until a child stops: refresh the status line (in place on a terminal; else a line now and then)."""
        from django.db import close_old_connections

        from webapp.core.health import check_workers

        tty = self.stdout.isatty()
        workers_up, last_ping, last_status, last_line, last_printed = None, 0.0, 0.0, 0.0, ""
        while all(child.poll() is None for _, child in self.children):
            now = time.monotonic()
            if now - last_status >= STATUS_EVERY_S:
                last_status = now
                if now - last_ping >= WORKER_PING_EVERY_S:
                    last_ping = now
                    workers_up = check_workers(timeout=0.5).get("count", 0)
                try:
                    text = status_line(workers_up)
                except Exception as exc:  # noqa: BLE001 - a status hiccup (database busy) must not stop the demo
                    text = f"status unavailable: {type(exc).__name__}"
                finally:
                    close_old_connections()
                if tty:
                    self.stdout.write("\r\033[K" + text[:shutil.get_terminal_size().columns - 1], ending="")
                    self.stdout.flush()
                elif text != last_printed and now - last_line >= STATUS_LINE_EVERY_S:
                    self.stdout.write(text)
                    last_line, last_printed = now, text
            time.sleep(0.5)

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
        processes = self.background + self.children
        for _, child in processes:
            _signal_group(child.pid, signal.SIGTERM)
        for _, child in processes:
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
