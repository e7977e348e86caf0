"""Predictor throughput for ml.catheter: images/s at batch size 1 and batched, measured side by side.

    python bench/catheter_predict.py [--checkpoint CKPT] [--device cpu|cuda] [--n 64] [--batch-size 16]

Without --checkpoint a freshly initialised model of the device's preset (``cpu``: 256 px, ``gpu``: 512 px)
is saved to a temp dir and loaded through ``Predictor.load`` (throughput does not depend on the weights).
Inputs are 512x512 synthetic photos made in memory (a few unique ones, repeated). Every prediction runs the
full path: resize, forward, guided-backprop saliency, entropy, decoding of boxes. On CUDA it uses bf16
autocast. Also prints the forward-only (no saliency) batched rate. Prints one JSON line at the end.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from ml.catheter.config import SynthConfig, preset  # noqa: E402
from ml.catheter.model import build_model  # noqa: E402
from ml.catheter.predict import Predictor  # noqa: E402
from ml.catheter.synth import generate_sample  # noqa: E402
from ml.common.checkpoint import save_checkpoint  # noqa: E402
from ml.common.device import autocast, default_size, pick_device  # noqa: E402


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--device", default=None)
    ap.add_argument("--preset", default=None, help="model preset when no checkpoint (default: from device)")
    ap.add_argument("--n", type=int, default=None, help="images in the batched run (default 64 cpu / 1024 cuda)")
    ap.add_argument("--n1", type=int, default=None, help="images in the batch-1 run (default 16 cpu / 128 cuda)")
    ap.add_argument("--batch-size", type=int, default=None, help="default 16 cpu / 64 cuda")
    ap.add_argument("--unique", type=int, default=16, help="distinct synthetic images (repeated to --n)")
    a = ap.parse_args()
    dev = pick_device(a.device)
    cuda = dev.type == "cuda"
    n = a.n or (1024 if cuda else 64)
    n1 = a.n1 or (128 if cuda else 16)
    bs = a.batch_size or (64 if cuda else 16)
    t0 = time.perf_counter()
    unique = [generate_sample(123, i, SynthConfig(size=512, defect_rate=0.5)).image for i in range(a.unique)]
    gen_s = time.perf_counter() - t0
    images = [unique[i % len(unique)] for i in range(n)]
    tmp = None
    ckpt = a.checkpoint
    if ckpt is None:
        cfg = preset(a.preset or default_size(dev))
        tmp = tempfile.TemporaryDirectory()
        ckpt = tmp.name
        torch.manual_seed(0)
        save_checkpoint(ckpt, build_model(cfg.model), {"kind": "catheter", "config": cfg.to_dict()})
    pred = Predictor.load(ckpt, device=dev)
    size = pred.cfg.model.input_size
    print(f"device={dev} preset={pred.cfg.size} input={size}px images=512x512 batch={bs} "
          f"(synthetic data {gen_s:.1f}s)", flush=True)
    pred.predict(images[:bs], batch_size=bs)          # warm-up (cudnn autotune, allocator)
    pred.predict(images[:2], batch_size=1)
    _sync(dev)
    t = time.perf_counter()
    pred.predict(images[:n1], batch_size=1)
    _sync(dev)
    b1 = n1 / (time.perf_counter() - t)
    t = time.perf_counter()
    pred.predict(images, batch_size=bs)
    _sync(dev)
    bb = n / (time.perf_counter() - t)
    x = pred.preprocess(images[:bs])
    with torch.no_grad(), autocast(dev):
        pred.model(x)
        _sync(dev)
        reps = max(1, n // bs)
        t = time.perf_counter()
        for _ in range(reps):
            pred.model(x)
        _sync(dev)
    fwd = reps * bs / (time.perf_counter() - t)
    res = {"device": str(dev), "dtype": "bf16-autocast" if cuda else "fp32", "input_px": size, "batch_size": bs,
           "images_per_s_batch1": round(b1, 2), "images_per_s_batched": round(bb, 2),
           "batched_over_batch1": round(bb / b1, 2), "forward_only_images_per_s_batched": round(fwd, 2),
           "n_batch1": n1, "n_batched": n, "total_s": round(time.perf_counter() - t0, 1)}
    print(f"batch 1: {b1:.1f} images/s | batch {bs}: {bb:.1f} images/s ({bb / b1:.2f}x) | "
          f"forward only, batch {bs}: {fwd:.1f} images/s")
    print(json.dumps(res))
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
