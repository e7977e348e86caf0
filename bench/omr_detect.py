"""Detector throughput: pages/s of the Deep-Watershed detector on full 150-dpi pages (A4, 1240 x 1754).

    python bench/omr_detect.py [--device cpu|cuda] [--size cpu|gpu] [--checkpoint DIR] [--pages 8] [--batch N]

Prints the network alone (forward, bf16 autocast on CUDA) and network + energy->boxes post-processing,
side by side in one run. Without a checkpoint the weights are random (throughput does not depend on them;
post-processing then sees a random number of components, so its figure is only indicative).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.common.device import autocast, pick_device  # noqa: E402
from ml.omr.align import ink_map  # noqa: E402
from ml.omr.config import preset  # noqa: E402
from ml.omr.model import DeepWatershed, count_parameters  # noqa: E402
from ml.omr.predict import Predictor  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default=None)
    ap.add_argument("--size", choices=("cpu", "gpu"), default=None)
    ap.add_argument("--checkpoint", default=None)
    ap.add_argument("--pages", type=int, default=4, help="distinct rendered pages (repeated to fill batches)")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--images", default=None,
                    help="folder of rendered page PNGs to use instead of rendering (machines without verovio)")
    args = ap.parse_args(argv)
    device = pick_device(args.device)
    size = args.size or ("gpu" if device.type == "cuda" else "cpu")
    t0 = time.perf_counter()
    if args.images:
        import cv2

        pages = [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(Path(args.images).glob("*.png"))]
        pages = pages[: args.pages]
    else:
        from ml.omr.synth import make_page

        pages = [make_page(i).image for i in range(args.pages)]
    gen_s = time.perf_counter() - t0
    if args.checkpoint:
        pred = Predictor.load(args.checkpoint, device=device)
        model = pred.model
        size = pred.cfg.size
    else:
        cfg = preset(size, classes=tuple(f"c{i}" for i in range(45)))
        model = DeepWatershed(len(cfg.classes), cfg.energy_levels, cfg.widths).to(device).eval()
        pred = Predictor(model, cfg, {}, device)
    batch = args.batch or (16 if device.type == "cuda" else 1)
    iters = args.iters or (20 if device.type == "cuda" else 3)
    H, W = pages[0].shape
    m = model.pad_multiple
    Hp, Wp = -(-H // m) * m, -(-W // m) * m
    x = np.zeros((batch, 1, Hp, Wp), np.float32)
    for j in range(batch):
        x[j, 0, :H, :W] = ink_map(pages[j % len(pages)])
    xt = torch.from_numpy(x).to(device)
    if device.type == "cuda":
        xt = xt.contiguous(memory_format=torch.channels_last)
        model = model.to(memory_format=torch.channels_last)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    with torch.no_grad():
        for _ in range(2):                      # warm-up
            with autocast(device):
                model(xt)
        sync()
        t = time.perf_counter()
        for _ in range(iters):
            with autocast(device):
                model(xt)
        sync()
        net_s = (time.perf_counter() - t) / (iters * batch)
        one = xt[:1]
        t = time.perf_counter()
        for _ in range(iters):
            with autocast(device):
                model(one)
        sync()
        net1_s = (time.perf_counter() - t) / iters
    imgs = [pages[j % len(pages)] for j in range(batch)]
    pred.detect(imgs, batch_size=batch)         # warm-up
    sync()
    t = time.perf_counter()
    n_full = max(1, iters // 4)
    for _ in range(n_full):
        res = pred.detect(imgs, batch_size=batch)
    full_s = (time.perf_counter() - t) / (n_full * batch)
    report = {"device": str(device), "size": size, "parameters": count_parameters(model), "batch": batch,
              "page_px": [W, H], "bf16_autocast": device.type == "cuda", "generation_s": round(gen_s, 2),
              "network_pages_per_s": round(1 / net_s, 2), "network_ms_per_page": round(net_s * 1e3, 2),
              "network_pages_per_s_batch1": round(1 / net1_s, 2),
              "with_postprocess_pages_per_s": round(1 / full_s, 2),
              "detections_on_last_page": len(res[-1].detections),
              "checkpoint": args.checkpoint}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
