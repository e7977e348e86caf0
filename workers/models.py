"""The champion's predictor, loaded once per worker process and cached by version.

Versions are immutable, so a cached predictor never goes stale; the champion alias is looked up for
every batch (one indexed query), so a promotion or rollback reaches every inference worker at its next
batch, and ``champion_changed`` also drops this process's cache at once.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from django.conf import settings

from webapp.core import filestore
from webapp.mlops.selectors import champion_get, threshold_current
from workers.adapters import get_adapter

_CACHE: "OrderedDict[int, Any]" = OrderedDict()
_LOCK = threading.Lock()
KEEP = 4   # predictors kept per process (a few scopes' champions; each is small next to the GPU)


def device() -> str:
    from ml.common.device import pick_device

    return str(pick_device())


def model_size() -> str:
    from ml.common.device import default_size, pick_device

    return settings.LOUPE_MODEL_SIZE or default_size(pick_device())


def scope_dir(kind: str, scope_key: str) -> Path:
    """The folder of a scope's model artifacts under ``LOUPE_MODEL_ROOT``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", scope_key).strip("-") or "_global"
    return Path(settings.LOUPE_MODEL_ROOT) / kind / slug


ARTIFACTS = "models"   # the store's folder of model artifacts: models/<artifact_uri>/...


def artifact_path(uri: str) -> Path:
    """The artifact folder of a model version on local disk. With an object store, a worker that did not
    train the version copies it from the store on first use (versions are immutable: a folder, once
    here, stays right); an absolute path is a folder on this machine (benchmarks, tests)."""
    path = Path(uri)
    if path.is_absolute():
        return path
    local = Path(settings.LOUPE_MODEL_ROOT) / path
    if filestore.is_remote() and not local.is_dir():
        if not filestore.fetch_tree(f"{ARTIFACTS}/{path.as_posix()}", local):
            raise FileNotFoundError(f"model artifact {uri} is not in the object store")
    return local


def artifact_publish(folder: Path) -> str:
    """The artifact URI of a complete model folder under LOUPE_MODEL_ROOT, copied to the object store
    first where there is one (before any row names it, so that no worker looks for it too early)."""
    uri = folder.relative_to(Path(settings.LOUPE_MODEL_ROOT)).as_posix()
    if filestore.is_remote():
        filestore.save_tree(f"{ARTIFACTS}/{uri}", folder)
    return uri


def predictor_for(version: Any) -> Any:
    """The predictor of a model version (a registry row: kind, artifact_uri)."""
    with _LOCK:
        if version.pk in _CACHE:
            _CACHE.move_to_end(version.pk)
            return _CACHE[version.pk]
    predictor = get_adapter(version.kind).load(artifact_path(version.artifact_uri), device())
    with _LOCK:
        _CACHE[version.pk] = predictor
        while len(_CACHE) > KEEP:
            _CACHE.popitem(last=False)
    return predictor


def champion_predictor(kind: str, scope_key: str) -> tuple[Any, Any]:
    """(champion version or None, its predictor), with the operating threshold in force for it (looked up
    at every batch, like the champion: a threshold chosen by an admin applies from the next batch)."""
    version = champion_get(kind=kind, scope_key=scope_key)
    if version is None:
        return None, None
    predictor = predictor_for(version)
    chosen = threshold_current(version_id=version.pk)
    get_adapter(kind).apply_threshold(predictor, None if chosen is None else chosen.value)
    return version, predictor


def forget(version_id: int | None = None) -> None:
    with _LOCK:
        if version_id is None:
            _CACHE.clear()
        else:
            _CACHE.pop(version_id, None)
