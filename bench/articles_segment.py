"""Benchmark of ``segment``: pages/s at batch 1 and batched, measured side by side in one run, plus the
generator's cost per page at the working width and at 300 dpi.

    python bench/articles_segment.py [--ckpt DIR] [--device cpu|cuda] [--pages 16] [--batch 8]

Without --ckpt an untrained model of the device's size preset is used (throughput does not depend on the
weights; post-processing time does a little). On CUDA the FCN runs batched under bf16 autocast.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ml.articles import synth  # noqa: E402
from ml.articles.config import preset  # noqa: E402
from ml.articles.data import to_work  # noqa: E402
from ml.articles.model import CutNet  # noqa: E402
from ml.articles.predict import Predictor, forward_probs  # noqa: E402
from ml.common.device import default_size, pick_device  # noqa: E402


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt")
    ap.add_argument("--device", default=None)
    ap.add_argument("--size", default=None, help="preset when no checkpoint is given (default: by device)")
    ap.add_argument("--pages", type=int, default=None, help="default: 64 on CUDA, 16 on CPU")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--full-pages", type=int, default=2, help="pages rendered at 300 dpi for the generator timing")
    a = ap.parse_args()
    dev = pick_device(a.device)
    if a.ckpt:
        pred = Predictor.load(a.ckpt, dev)
    else:
        cfg = preset(a.size or default_size(dev))
        torch.manual_seed(0)
        model = CutNet(cfg.model.base, cfg.model.depth).to(dev).eval()
        pred = Predictor(model, cfg, {}, dev)
    cfg = pred.cfg
    a.pages = a.pages or (64 if dev.type == "cuda" else 16)
    ww = cfg.train.work_width
    bs = a.batch or (32 if dev.type == "cuda" else 8)
    res = {"device": str(dev), "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
           "size": cfg.size, "work_width": ww, "batch": bs, "pages": a.pages,
           "params": sum(p.numel() for p in pred.model.parameters()), "torch_threads": torch.get_num_threads()}
    # generator: working-width renders (what training uses) vs 300 dpi renders of the same layouts
    t = time.perf_counter()
    pages = synth.generate_pages(a.pages, seed=123, width=ww)
    res["synth_work_ms_per_page"] = 1000 * (time.perf_counter() - t) / a.pages
    lays = [synth.layout_page(p.gt["publisher"], p.gt["seed"]) for p in pages[: a.full_pages]]
    t = time.perf_counter()
    for lay in lays:
        synth.render(lay, ww)
    res["render_work_ms_per_page"] = 1000 * (time.perf_counter() - t) / max(1, len(lays))
    t = time.perf_counter()
    for lay in lays:
        synth.render(lay)
    res["render_300dpi_ms_per_page"] = 1000 * (time.perf_counter() - t) / max(1, len(lays))
    imgs = [p.image for p in pages]
    works = [to_work(im, ww) for im in imgs]
    # warm-up (allocations, cuDNN autotuning)
    pred.predict(imgs[:2], batch_size=2, force_article=True)
    forward_probs(pred.model, works[:bs], dev, bs)
    _sync(dev)

    def timed(fn):
        _sync(dev)
        t0 = time.perf_counter()
        fn()
        _sync(dev)
        return time.perf_counter() - t0

    # FCN alone, batch 1 vs batched
    t1 = timed(lambda: [forward_probs(pred.model, [w], dev, 1) for w in works])
    tb = timed(lambda: forward_probs(pred.model, works, dev, bs))
    res["fcn_pages_per_s_batch1"] = a.pages / t1
    res["fcn_pages_per_s_batched"] = a.pages / tb
    # end to end (page filter + FCN + post-processing), batch 1 vs batched
    e1 = timed(lambda: [pred.predict([im], batch_size=1, force_article=True) for im in imgs])
    eb = timed(lambda: pred.predict(imgs, batch_size=bs, force_article=True))
    ef = timed(lambda: pred.predict(imgs, batch_size=bs))
    res["segment_pages_per_s_batch1"] = a.pages / e1
    res["segment_pages_per_s_batched"] = a.pages / eb
    res["segment_with_filter_pages_per_s_batched"] = a.pages / ef
    res["batched_over_batch1_fcn"] = t1 / tb
    res["batched_over_batch1_segment"] = e1 / eb
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in res.items()}, indent=1))
    print(f"[{dev}] FCN {res['fcn_pages_per_s_batch1']:.2f} pages/s at batch 1, "
          f"{res['fcn_pages_per_s_batched']:.2f} batched ({bs}); segment end to end "
          f"{res['segment_pages_per_s_batch1']:.2f} vs {res['segment_pages_per_s_batched']:.2f} pages/s; "
          f"generator {res['render_work_ms_per_page']:.0f} ms/page at {ww} px vs "
          f"{res['render_300dpi_ms_per_page']:.0f} ms at 300 dpi", file=sys.stderr)


if __name__ == "__main__":
    main()
