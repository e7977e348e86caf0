"""Checkpoints as safetensors (weights) + JSON (config and metadata). Loading never unpickles.

A checkpoint is a directory holding ``model.safetensors`` and ``config.json``; extra named tensors
(e.g. normalisation statistics) and extra JSON files may sit beside them.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def save_checkpoint(path: str | os.PathLike, model: torch.nn.Module, config: dict[str, Any],
                    extra_json: dict[str, Any] | None = None) -> Path:
    """Write weights and config atomically (to a temp name, then rename) so readers never see half a file."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    tmp = path / (WEIGHTS + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, path / WEIGHTS)
    _write_json(path / CONFIG, config)
    for name, payload in (extra_json or {}).items():
        _write_json(path / name, payload)
    return path


def load_config(path: str | os.PathLike) -> dict[str, Any]:
    return json.loads((Path(path) / CONFIG).read_text())


def load_weights(path: str | os.PathLike, model: torch.nn.Module, device: torch.device | str = "cpu",
                 strict: bool = True) -> torch.nn.Module:
    state = load_file(str(Path(path) / WEIGHTS), device=str(device))
    model.load_state_dict(state, strict=strict)
    return model


def read_json(path: str | os.PathLike, name: str) -> dict[str, Any]:
    return json.loads((Path(path) / name).read_text())


def checkpoint_digest(path: str | os.PathLike) -> str:
    """Content hash of weights + config: a stable identity for a model version."""
    h = hashlib.sha256()
    for name in (WEIGHTS, CONFIG):
        with open(Path(path) / name, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _write_json(target: Path, payload: Any) -> None:
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True))
    os.replace(tmp, target)
