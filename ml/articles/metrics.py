"""Page-level metrics: cut precision / recall / F1 (one-to-one within 1% of the page width), article F1
(IoU >= 0.5, Hungarian), edits per page and the share of pages that need no edit."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ml.articles.geometry import polygon_iou_matrix
from ml.common.metrics import f1, hungarian_match

CUT_TOL = 0.01       # a predicted cut matches a true one within 1% of the page width
MOVE_TOL = 0.10      # an unmatched pair this close is one "move" edit instead of a delete plus an add
ARTICLE_IOU = 0.5


def _pt_seg(px, py, s) -> float:
    x0, y0, x1, y1 = s
    dx, dy = x1 - x0, y1 - y0
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else min(1.0, max(0.0, ((px - x0) * dx + (py - y0) * dy) / L2))
    return float(np.hypot(px - (x0 + t * dx), py - (y0 + t * dy)))


def segment_distance(a: dict, b: dict) -> float:
    """Hausdorff distance between two segments (max over endpoints of the distance to the other segment)."""
    sa = (a["x0"], a["y0"], a["x1"], a["y1"])
    sb = (b["x0"], b["y0"], b["x1"], b["y1"])
    return max(_pt_seg(sa[0], sa[1], sb), _pt_seg(sa[2], sa[3], sb),
               _pt_seg(sb[0], sb[1], sa), _pt_seg(sb[2], sb[3], sa))


def _vertical(c: dict) -> bool:
    return abs(c["x1"] - c["x0"]) < abs(c["y1"] - c["y0"])


def _cost(pred: Sequence[dict], gt: Sequence[dict]) -> np.ndarray:
    cost = np.full((len(pred), len(gt)), np.inf)
    for i, p in enumerate(pred):
        for j, g in enumerate(gt):
            if _vertical(p) == _vertical(g):
                cost[i, j] = segment_distance(p, g)
    return cost


def cut_stats(pred: Sequence[dict], gt: Sequence[dict], page_width: float, tol: float = CUT_TOL) -> dict:
    """tp / fp / fn at ``tol`` x page width, and the edits an operator needs: adds + deletes + moves."""
    cost = _cost(pred, gt)
    matches = hungarian_match(cost, tol * page_width) if cost.size else []
    mp = {i for i, _ in matches}
    mg = {j for _, j in matches}
    rp = [i for i in range(len(pred)) if i not in mp]
    rg = [j for j in range(len(gt)) if j not in mg]
    moves = 0
    if rp and rg:
        sub = cost[np.ix_(rp, rg)]
        moves = len(hungarian_match(sub, MOVE_TOL * page_width))
    tp = len(matches)
    fp, fn = len(pred) - tp, len(gt) - tp
    return {"tp": tp, "fp": fp, "fn": fn, "moves": moves, "adds": fn - moves, "deletes": fp - moves,
            "edits": fp + fn - moves}


def article_stats(pred: Sequence[Sequence[Sequence[float]]], gt: Sequence[Sequence[Sequence[float]]],
                  page_size: tuple[int, int], iou: float = ARTICLE_IOU) -> dict:
    if not pred or not gt:
        return {"tp": 0, "fp": len(pred), "fn": len(gt), "mean_iou": 0.0}
    m = polygon_iou_matrix(pred, gt, page_size)
    matches = hungarian_match(1.0 - m, 1.0 - iou)
    return {"tp": len(matches), "fp": len(pred) - len(matches), "fn": len(gt) - len(matches),
            "mean_iou": float(np.mean([m[i, j] for i, j in matches])) if matches else 0.0}


def page_metrics(pred_ann: dict, gt_ann: dict, page_size: tuple[int, int]) -> dict:
    """Both annotations in the platform format, same coordinates (original page pixels)."""
    c = cut_stats(pred_ann.get("cuts", []), gt_ann.get("cuts", []), page_size[0])
    a = article_stats([x["polygon"] for x in pred_ann.get("articles", [])],
                      [x["polygon"] for x in gt_ann.get("articles", [])], page_size)
    type_ok = pred_ann.get("page_type", "article") == gt_ann.get("page_type", "article")
    edits = c["edits"] + (0 if type_ok else 1)
    return {"cuts": c, "articles": a, "page_type_ok": type_ok, "edits": edits}


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else (1.0 if fn == 0 else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    return {"precision": p, "recall": r, "f1": f1(p, r), "tp": tp, "fp": fp, "fn": fn}


def summarize(pages: Iterable[dict]) -> dict:
    """Micro-averaged cut and article P/R/F1 over pages, edits per page, share of pages with no edit."""
    pages = list(pages)
    if not pages:
        return {"pages": 0}
    cs = [p["cuts"] for p in pages]
    arts = [p["articles"] for p in pages]
    edits = np.array([p["edits"] for p in pages])
    return {"pages": len(pages),
            "cut": prf(sum(c["tp"] for c in cs), sum(c["fp"] for c in cs), sum(c["fn"] for c in cs)),
            "article": prf(sum(a["tp"] for a in arts), sum(a["fp"] for a in arts), sum(a["fn"] for a in arts)),
            "edits_mean": float(edits.mean()), "edits_median": float(np.median(edits)),
            "no_edit_share": float(np.mean(edits == 0)),
            "moves": int(sum(c["moves"] for c in cs)), "adds": int(sum(c["adds"] for c in cs)),
            "deletes": int(sum(c["deletes"] for c in cs))}
