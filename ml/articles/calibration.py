"""Per-publisher calibration: the cut threshold that meets a target precision (a PR curve over tau) and the
layout-geometry prior that the refinement uses, both measured on annotated pages."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ml.articles.config import ArticlesConfig
from ml.articles.data import Sample, synth_samples, to_gray, to_work
from ml.articles.metrics import page_metrics, summarize
from ml.articles.model import CutNet
from ml.articles.predict import forward_probs, segment_from_probs
from ml.articles.refine import GEOMETRY_WIDTH, GeometryPrior, PageGeometry, calibrate_geometry
from ml.articles.scanfix import fix_samples


def page_probs(model: CutNet, samples: Sequence[Sample], cfg: ArticlesConfig, device: torch.device):
    works = [to_work(s.image, cfg.train.work_width) for s in samples]
    return forward_probs(model, works, device, batch_size=32 if device.type == "cuda" else 4)


def page_geometries(samples: Sequence[Sample]) -> list[PageGeometry]:
    return [PageGeometry.measure(to_gray(s.image)) for s in samples]


def calibrate_geometry_per_publisher(samples: Sequence[Sample], geos: Sequence[PageGeometry] | None = None
                                     ) -> dict[str, dict]:
    """The layout-geometry prior of each publisher (and ``default`` over all) from annotated article pages."""
    arts = [s for s in samples if s.page_type == "article"]
    geos = geos if geos is not None else page_geometries(arts)
    pages = [(g, s.annotation.get("cuts", []), s.size[0]) for s, g in zip(arts, geos)]
    out = {"default": calibrate_geometry(pages).to_json()} if pages else {}
    for pub in sorted({s.publisher for s in arts}):
        out[pub] = calibrate_geometry([p for p, s in zip(pages, arts) if s.publisher == pub]).to_json()
    return out


def pr_over_tau(probs, samples: Sequence[Sample], cfg: ArticlesConfig, geometry: dict | None = None,
                geos: Sequence[PageGeometry] | None = None) -> dict[str, dict]:
    """Per publisher: cut precision / recall / F1 (and article F1) for every tau of the grid."""
    curves: dict[str, dict] = {}
    geos = geos if geos is not None else page_geometries(samples)
    for tau in cfg.post.tau_grid:
        per: dict[str, list] = {}
        for s, g, (cp, rp) in zip(samples, geos, probs):
            cuts, arts, _ = segment_from_probs(cp, rp, tau, cfg, s.size, page=g,
                                               prior=GeometryPrior.for_publisher(geometry, s.publisher))
            pm = page_metrics({"page_type": "article", "cuts": cuts, "articles": arts}, s.annotation, s.size)
            per.setdefault(s.publisher, []).append(pm)
            per.setdefault("_all", []).append(pm)
        for pub, pms in per.items():
            sm = summarize(pms)
            c = curves.setdefault(pub, {"tau": [], "precision": [], "recall": [], "f1": [], "article_f1": []})
            c["tau"].append(tau)
            c["precision"].append(sm["cut"]["precision"])
            c["recall"].append(sm["cut"]["recall"])
            c["f1"].append(sm["cut"]["f1"])
            c["article_f1"].append(sm["article"]["f1"])
    return curves


def tau_at_precision(curve: dict, min_precision: float) -> tuple[float, bool]:
    """The tau with the best recall whose precision is at least ``min_precision`` (else the best-F1 tau)."""
    ok = [i for i, p in enumerate(curve["precision"]) if p >= min_precision]
    if ok:
        i = max(ok, key=lambda i: (curve["recall"][i], curve["f1"][i]))
        return float(curve["tau"][i]), True
    i = int(np.argmax(curve["f1"]))
    return float(curve["tau"][i]), False


def calibrate(model: CutNet, samples: Sequence[Sample], cfg: ArticlesConfig, device: torch.device) -> dict:
    """Per publisher: the layout-geometry prior, then the cut threshold meeting the target precision."""
    arts = fix_samples([s for s in samples if s.page_type == "article"], cfg.post)
    geos = page_geometries(arts)
    geometry = calibrate_geometry_per_publisher(arts, geos)
    probs = page_probs(model, arts, cfg, device)
    curves = pr_over_tau(probs, arts, cfg, geometry, geos)
    th = {}
    for pub, c in curves.items():
        th["default" if pub == "_all" else pub], _ = tau_at_precision(c, cfg.post.target_precision)
    return {"thresholds": th, "geometry": geometry, "curves": curves}


def calibration_samples(cfg: ArticlesConfig, publishers: Sequence[str]) -> list[Sample]:
    """Pages for choosing thresholds and measuring the layout-geometry prior. They are rendered at the width
    the geometry is measured at (not the working width): ink and rules look different on a small page, and
    pages reach the predictor as working copies of scans, bigger than the model's input."""
    return synth_samples(cfg.train.val_pages_per_publisher, publishers, cfg.train.seed * 10 + 2,
                         max(cfg.train.work_width, GEOMETRY_WIDTH), scan_share=cfg.train.scan_share,
                         scan_max=cfg.train.scan_max)
