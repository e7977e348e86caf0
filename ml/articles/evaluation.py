"""Evaluation of a checkpoint on held-out pages: segmentation metrics overall, per publisher and per page,
the page filter's figures, PR curves over the cut threshold; plots (``ml.articles.plots``) where asked."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ml.articles.calibration import page_geometries, page_probs, pr_over_tau, tau_at_precision
from ml.articles.config import with_post
from ml.articles.data import Sample
from ml.articles.metrics import page_metrics, prf, summarize
from ml.articles.plots import evaluation_plots
from ml.articles.predict import Predictor, segment_from_probs
from ml.articles.scanfix import fix_samples
from ml.common.metrics import auroc


def evaluate(checkpoint: str | Path, samples: Sequence[Sample], *, plots_dir: str | Path | None = None,
             target_precision: float | None = None, device: str | torch.device | None = None,
             post: dict | None = None, with_curves: bool = True) -> dict:
    """Metrics overall and per publisher on held-out pages (a JSON-serialisable dict).

    Segmentation metrics use the article pages (at each publisher's tau from the checkpoint); the page filter
    is scored on all pages. Also (``with_curves``): the PR curve over tau per publisher and the tau meeting
    the precision. ``post`` overrides post-processing settings of the checkpoint (e.g. ``{"deskew": False}``)."""
    pred = Predictor.load(checkpoint, device)
    pred.cfg = cfg = with_post(pred.cfg, post)
    tp_ = target_precision or cfg.post.target_precision
    res: dict = {"checkpoint": str(checkpoint), "pages": len(samples)}
    # page filter
    if pred.forest is not None:
        types = pred.classify([s.image for s in samples])
        thr = pred.forest.threshold_article
        p_art = np.array([t.get("article", 0.0) for t in types])
        y = np.array([s.page_type == "article" for s in samples], int)
        fil = {"threshold": thr, "pages": len(samples), "article_pages": int(y.sum())}
        if 0 < y.sum() < len(y):
            fil["auroc"] = auroc(p_art, y)
        if y.sum():
            fil["article_recall"] = float(np.mean(p_art[y == 1] >= thr))
        if (1 - y).sum():
            fil["non_article_rejected"] = float(np.mean(p_art[y == 0] < thr))
        res["page_filter"] = fil
    arts = fix_samples([s for s in samples if s.page_type == "article"], cfg.post)
    if arts:
        probs = page_probs(pred.model, arts, cfg, pred.device)
        geos = page_geometries(arts)
        per: dict[str, list] = {}
        pages = []
        for s, g, (cp, rp) in zip(arts, geos, probs):
            cuts, polys, _ = segment_from_probs(cp, rp, pred.tau_for(s.publisher), cfg, s.size, page=g,
                                                prior=pred.prior_for(s.publisher))
            pm = page_metrics({"page_type": "article", "cuts": cuts, "articles": polys}, s.annotation, s.size)
            per.setdefault(s.publisher, []).append(pm)
            c = pm["cuts"]
            # Per page: what a paired bootstrap over pages needs (the counts behind the micro-averaged F1).
            pages.append({"id": s.page_id, "publisher": s.publisher, "tp": c["tp"], "fp": c["fp"], "fn": c["fn"],
                          "cut_f1": prf(c["tp"], c["fp"], c["fn"])["f1"], "edits": pm["edits"]})
        res["per_page"] = pages
        res["overall"] = summarize([p for v in per.values() for p in v])
        res["per_publisher"] = {k: summarize(v) for k, v in sorted(per.items())}
        for k in res["per_publisher"]:
            res["per_publisher"][k]["tau"] = pred.tau_for(k)
        curves = pr_over_tau(probs, arts, cfg, pred.meta.get("geometry"), geos) if with_curves else {}
        res["pr_curves"] = curves
        res["tau_at_precision"] = {}
        for k, c in curves.items():
            t, ok = tau_at_precision(c, tp_)
            res["tau_at_precision"][k] = {"tau": t, "meets": ok, "min_precision": tp_,
                                          "recall": c["recall"][c["tau"].index(t)]}
    if plots_dir is not None:
        res["plots"] = evaluation_plots(res, Path(plots_dir))
    return res

