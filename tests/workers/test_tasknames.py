"""Every task has one name, in webapp.core.tasknames: each registered name resolves to a task of the
Celery app, every Loupe task is registered under a name of the registry, and every name the web app and
the workers enqueue (or schedule) is one of them."""
from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

import workers.tasks  # noqa: F401  (registers every task, as the worker does at start)
from webapp.config.celery import app
from webapp.core import tasknames

ROOT = Path(__file__).resolve().parents[2]


def _enqueued_names(package: str) -> list[tuple[str, str]]:
    """(file, name) of the first argument of every ``enqueue(...)`` / ``send_task(...)`` call in a package,
    resolved through the registry; a string literal or anything else unresolvable is returned as is."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        aliases = {"PREDICT_TASK": tasknames.PREDICT_ITEMS}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            fn = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if fn not in ("enqueue", "send_task"):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Attribute) and getattr(arg.value, "id", "") == "tasknames":
                name = getattr(tasknames, arg.attr, f"tasknames.{arg.attr} (missing)")
            elif isinstance(arg, ast.Name) and arg.id in aliases:
                name = aliases[arg.id]
            elif isinstance(arg, ast.Name) and arg.id == "task_name":   # enqueue's own parameter
                continue
            else:
                name = ast.unparse(arg)
            found.append((str(path.relative_to(ROOT)), name))
    return found


def test_every_registry_name_resolves_to_a_task_on_its_queue():
    assert len(set(tasknames.ALL)) == len(tasknames.ALL)
    for name in tasknames.ALL:
        assert name in app.tasks, f"{name} is in the registry but no task is registered under it"
        assert app.amqp.router.route({}, name)["queue"].name == tasknames.queue_of(name)
    ours = {name for name in app.tasks if name.startswith("loupe.")}
    assert ours == set(tasknames.ALL), f"tasks registered outside webapp.core.tasknames: {ours - set(tasknames.ALL)}"


def test_every_enqueued_name_is_registered():
    calls = _enqueued_names("webapp") + _enqueued_names("workers")
    assert {f for f, _ in calls} >= {"webapp/mlops/services.py", "webapp/labeling/services/loop.py",
                                     "webapp/assets/services.py", "workers/triggers.py", "workers/inference.py"}
    unknown = [(f, name) for f, name in calls if name not in app.tasks or name not in tasknames.ALL]
    assert not unknown, f"enqueued by a name that is not a registered task of the registry: {unknown}"


def test_every_scheduled_name_is_registered():
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasknames.ALL and entry["task"] in app.tasks


def test_a_task_outside_the_registry_is_refused():
    import pytest

    from workers.base import loupe_task

    with pytest.raises(ValueError, match="not in webapp.core.tasknames"):
        loupe_task("loupe.cpu.not_a_registered_task")
