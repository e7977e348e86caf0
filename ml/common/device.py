"""Device selection. A worker may pin a device through LOUPE_DEVICE (e.g. ``cuda:1``); otherwise CUDA
is used when present. The device also picks the default model size (``gpu`` or ``cpu``)."""
from __future__ import annotations

import contextlib
import os

import torch


def pick_device(preferred: str | None = None) -> torch.device:
    name = preferred or os.environ.get("LOUPE_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Host to device. On CUDA through pinned (page-locked) memory and without blocking the host: the copy
    is queued on the stream ahead of the kernels that read it, and the host goes on preparing the next
    batch meanwhile."""
    if device.type == "cuda":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def default_size(device: torch.device | None = None) -> str:
    """Model size preset for the device: the full ``gpu`` one on CUDA, the small ``cpu`` one otherwise."""
    device = device or pick_device()
    return "gpu" if device.type == "cuda" else "cpu"


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA; a no-op context on CPU (CPU bf16 is slower than fp32 on small convnets)."""
    if enabled and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
