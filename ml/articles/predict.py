"""Batched inference: page filter, FCN, post-processing; coordinates in the input image's pixels (or in
``original_sizes`` when the caller passes working copies of bigger pages)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch

from formats.articles.layout import candidates_from_levels

from ml.articles.config import ArticlesConfig
from ml.articles.data import to_gray, to_work
from ml.articles.model import CutNet
from ml.articles.pagefilter import Forest, image_features, text_features
from ml.articles.postprocess import Segment, article_polygons, extract_cuts
from ml.articles.refine import GeometryPrior, PageGeometry, refine_cuts, text_frame
from ml.articles.scan import map_annotation
from ml.articles.scanfix import fix_scan
from ml.common.checkpoint import load_config, load_weights
from ml.common.device import autocast, pick_device, to_device


@dataclass
class PagePrediction:
    page_type: str
    page_type_scores: dict[str, float]
    cuts: list[dict]
    articles: list[dict]
    uncertainty: float
    width: int
    height: int
    tau: float
    publisher: str | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"page_type": self.page_type, "page_type_scores": self.page_type_scores,
                "articles": self.articles, "cuts": self.cuts, "uncertainty": round(self.uncertainty, 4),
                "width": self.width, "height": self.height, "tau": self.tau, "publisher": self.publisher}

    def to_annotation(self) -> dict:
        return {"page_type": self.page_type,
                "cuts": [{k: c[k] for k in ("x0", "y0", "x1", "y1")} for c in self.cuts],
                "articles": [{"id": a["id"], "polygon": a["polygon"]} for a in self.articles]}


def model_input(work: np.ndarray) -> np.ndarray:
    """(3, H, W) float32: ink, x and y in [-1, 1] over the page."""
    h, w = work.shape
    ink = (255.0 - work.astype(np.float32)) / 255.0
    xs = np.broadcast_to(np.linspace(-1, 1, w, dtype=np.float32)[None, :], (h, w))
    ys = np.broadcast_to(np.linspace(-1, 1, h, dtype=np.float32)[:, None], (h, w))
    return np.stack([ink, xs, ys])


def forward_probs(model: CutNet, works: Sequence[np.ndarray], device: torch.device,
                  batch_size: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut probability (H, W) and region probabilities (3, H, W) of working copies, batched."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    m = model.multiple
    model.eval()
    for i in range(0, len(works), batch_size):
        chunk = works[i:i + batch_size]
        H = max(w.shape[0] for w in chunk)
        W = max(w.shape[1] for w in chunk)
        H, W = H + (-H) % m, W + (-W) % m
        x = np.zeros((len(chunk), 3, H, W), np.float32)
        for k, w in enumerate(chunk):
            x[k, :, :w.shape[0], :w.shape[1]] = model_input(w)
        xt = to_device(torch.from_numpy(x), device)
        with torch.no_grad(), autocast(device):
            y = model(xt).float()
        cut = torch.sigmoid(y[:, 0]).cpu().numpy()
        reg = torch.softmax(y[:, 1:], 1).cpu().numpy()
        for k, w in enumerate(chunk):
            h_, w_ = w.shape
            out.append((cut[k, :h_, :w_], reg[k, :, :h_, :w_]))
    return out


def _cuts_at(cut_prob: np.ndarray, region_prob: np.ndarray, tau: float, cfg: ArticlesConfig,
             geo: PageGeometry | None, prior: GeometryPrior | None) -> list[Segment]:
    """Cut segments (working pixels) at threshold ``tau``, snapped onto the page's geometry when given."""
    h, w = cut_prob.shape
    segs = extract_cuts(cut_prob, tau, cfg.post, region_prob)
    if geo is not None and segs:
        kx, ky = geo.width / w, geo.height / h
        fine = refine_cuts([Segment(s.x0 * kx, s.y0 * ky, s.x1 * kx, s.y1 * ky, s.score) for s in segs], geo, prior,
                           prob=cut_prob, scale=(kx, ky), tau=tau)
        segs = [Segment(s.x0 / kx, s.y0 / ky, s.x1 / kx, s.y1 / ky, s.score) for s in fine]
    return segs


def segment_from_probs(cut_prob: np.ndarray, region_prob: np.ndarray, tau: float, cfg: ArticlesConfig,
                       out_size: tuple[int, int], page: np.ndarray | PageGeometry | None = None,
                       prior: GeometryPrior | None = None) -> tuple[list[dict], list[dict], float]:
    """Cuts and articles in ``out_size`` pixels, and the segmentation's uncertainty. With the ``page`` image
    (any resolution) or its measured geometry, the cuts are snapped onto its gutters, rules, junctions and
    frame (``prior``: the publisher's calibrated offsets)."""
    h, w = cut_prob.shape
    sx, sy = out_size[0] / w, out_size[1] / h
    geo = None
    if page is not None:
        geo = page if isinstance(page, PageGeometry) else PageGeometry.measure(to_gray(page))
    segs = _cuts_at(cut_prob, region_prob, tau, cfg, geo, prior)
    polys = article_polygons(region_prob, segs, cfg.post)
    cuts = [s.to_json(sx, sy) for s in segs]
    arts = [{"id": f"a{i + 1}", "polygon": [[round(x * sx, 1), round(y * sy, 1)] for x, y in poly],
             "score": round(score, 4)} for i, (poly, score) in enumerate(polys)]
    amb = np.count_nonzero((cut_prob > 0.2) & (cut_prob < 0.8))
    u = amb / max(1, np.count_nonzero(cut_prob > 0.2))
    if segs:
        u = max(u, 1.0 - min(s.score for s in segs))
    return cuts, arts, float(np.clip(u, 0.0, 1.0))


CANDIDATE_LEVELS = tuple(round(0.1 * k, 1) for k in range(1, 10))   # 0.1 .. 0.9


def cut_candidates(cut_prob: np.ndarray, region_prob: np.ndarray, tau: float, proposal: list[dict],
                   cfg: ArticlesConfig, out_size: tuple[int, int], geo: PageGeometry | None,
                   prior: GeometryPrior | None) -> list[dict]:
    """Every cut the model proposes at some threshold, with the highest threshold that keeps it
    (``confidence``): the editor previews another threshold from these without a new inference. The cuts
    at ``tau`` are exactly ``proposal``."""
    h, w = cut_prob.shape
    sx, sy = out_size[0] / w, out_size[1] / h
    levels = {t: [s.to_json(sx, sy) for s in _cuts_at(cut_prob, region_prob, t, cfg, geo, prior)]
              for t in CANDIDATE_LEVELS if t != tau}
    levels[tau] = proposal
    return candidates_from_levels(levels, tau, out_size[0])


def layout_geometry(geo: PageGeometry, prior: GeometryPrior | None, out_size: tuple[int, int]) -> dict:
    """What the refinement measured, in ``out_size`` pixels: the text-area frame, the column grid's
    gutters and the printed rules (the editor snaps drawn cuts onto them; no image needed there)."""
    k = out_size[0] / geo.width
    ky = out_size[1] / geo.height
    f = text_frame(geo.extent, geo.width, prior or GeometryPrior())
    frame = [max(0.0, f.left * k), max(0.0, f.top * ky), min(float(out_size[0]), f.right * k),
             min(float(out_size[1]), f.bottom * ky)]
    rules = []
    n, _, stats, _ = cv2.connectedComponentsWithStats(geo.rules.astype(np.uint8), connectivity=8)
    long_ = 0.05 * geo.width
    for i in range(1, n):
        x, y, bw, bh, _ = stats[i]
        if bw >= long_ and bh <= 0.2 * bw:
            yc = (y + bh / 2) * ky
            rules.append([round(x * k, 1), round(yc, 1), round((x + bw) * k, 1), round(yc, 1)])
        elif bh >= long_ and bw <= 0.2 * bh:
            xc = (x + bw / 2) * k
            rules.append([round(xc, 1), round(y * ky, 1), round(xc, 1), round((y + bh) * ky, 1)])
    return {"frame": [round(v, 1) for v in frame], "gutters": [round(g * k, 1) for g in geo.gutters],
            "rules": rules[:400]}


class Predictor:
    def __init__(self, model: CutNet, cfg: ArticlesConfig, thresholds: dict[str, float], device: torch.device,
                 forest: Forest | None = None, forest_text: Forest | None = None, meta: dict | None = None):
        self.model, self.cfg, self.thresholds, self.device = model, cfg, thresholds, device
        self.forest, self.forest_text, self.meta = forest, forest_text, meta or {}
        self.with_layout = True   # cut candidates and page geometry for the editor (evaluation needs neither)

    @classmethod
    def load(cls, checkpoint_dir: str | Path, device: str | torch.device | None = None) -> "Predictor":
        d = Path(checkpoint_dir)
        raw = load_config(d)
        cfg = ArticlesConfig.from_dict(raw["config"])
        dev = pick_device(str(device) if device is not None else None)
        model = CutNet(cfg.model.base, cfg.model.depth)
        load_weights(d, model, device="cpu")
        model.to(dev).eval()
        forest = Forest.load(d, "page_filter") if (d / "page_filter.json").exists() else None
        forest_text = Forest.load(d, "page_filter_text") if (d / "page_filter_text.json").exists() else None
        return cls(model, cfg, raw.get("thresholds", {}), dev, forest, forest_text, raw)

    def prior_for(self, publisher: str | None) -> GeometryPrior:
        """The publisher's calibrated layout-geometry prior (the default one for an unknown publisher)."""
        return GeometryPrior.for_publisher(self.meta.get("geometry"), publisher)

    def tau_for(self, publisher: str | None) -> float:
        if publisher and publisher in self.thresholds:
            return float(self.thresholds[publisher])
        return float(self.thresholds.get("default", self.cfg.post.tau))

    def classify(self, images: Sequence[np.ndarray], tokens: Sequence[Sequence[str] | None] | None = None
                 ) -> list[dict[str, float]]:
        """Page-type probabilities per page (all "article" when the checkpoint has no filter)."""
        if self.forest is None:
            return [{"article": 1.0} for _ in images]
        fw = self.cfg.filter.feature_width
        X = np.stack([image_features(im, fw) for im in images])
        out = []
        for i in range(len(images)):
            tk = tokens[i] if tokens is not None else None
            if tk and self.forest_text is not None:
                f, x = self.forest_text, np.r_[X[i], text_features(tk)]
            else:
                f, x = self.forest, X[i]
            p = f.predict_proba(x[None])[0]
            scores = {c: float(v) for c, v in zip(f.classes, p)}
            scores["_threshold"] = f.threshold_article
            out.append(scores)
        return out

    def predict(self, images: Sequence[np.ndarray], batch_size: int | None = None, publisher: str | None = None,
                tokens: Sequence[Sequence[str] | None] | None = None,
                original_sizes: Sequence[tuple[int, int]] | None = None,
                tau: float | None = None, force_article: bool = False) -> list[PagePrediction]:
        images = [to_gray(np.asarray(im)) for im in images]
        bs = batch_size or (32 if self.device.type == "cuda" else 4)
        types = self.classify(images, tokens) if not force_article else [{"article": 1.0} for _ in images]
        post = self.cfg.post
        fixed = [fix_scan(im, post.flatten, post.deskew) if post.flatten or post.deskew else (im, None)
                 for im in images]
        images = [f[0] for f in fixed]
        works = [to_work(im, self.cfg.train.work_width) for im in images]
        probs = forward_probs(self.model, works, self.device, bs)
        t = self.tau_for(publisher) if tau is None else tau
        out = []
        for i, (im, (cp, rp)) in enumerate(zip(images, probs)):
            size = tuple(original_sizes[i]) if original_sizes is not None else (im.shape[1], im.shape[0])
            sc = dict(types[i])
            thr = sc.pop("_threshold", 0.5)
            p_art = sc.get("article", 0.0)
            if p_art >= thr:
                page_type = "article"
            else:
                page_type = max((k for k in sc if k != "article"), key=lambda k: sc[k], default="other")
            u_type = 1.0 - abs(p_art - thr) / max(thr, 1.0 - thr)
            # measured on every page: a page the filter holds for ads may still be cut by the operator
            geo, prior = PageGeometry.measure(im), self.prior_for(publisher)
            if page_type == "article":
                cuts, arts, u_seg = segment_from_probs(cp, rp, t, self.cfg, size, page=geo, prior=prior)
            else:
                cuts, arts, u_seg = [], [], 0.0
            extra = {"candidates": cut_candidates(cp, rp, t, cuts, self.cfg, size, geo, prior),
                     "geometry": layout_geometry(geo, prior, size)} if self.with_layout else {}
            if fixed[i][1] is not None:   # from the straightened page back onto the scan
                back = map_annotation({"cuts": cuts, "articles": arts}, fixed[i][1], size[0], size[1])
                cuts = [{**c, **m} for c, m in zip(cuts, back["cuts"])]
                arts = back["articles"]
                if extra:
                    extra = _layout_onto_scan(extra, fixed[i][1], size)
            out.append(PagePrediction(page_type, {k: round(v, 4) for k, v in sc.items()}, cuts, arts,
                                      float(np.clip(max(u_type, u_seg), 0, 1)), int(size[0]), int(size[1]), t,
                                      publisher, extra))
        return out


def _layout_onto_scan(extra: dict, mapping, size: tuple[int, int]) -> dict:
    """Candidates and geometry measured on the straightened page, mapped back onto the scan."""
    w, h = size
    cands = extra["candidates"]
    back = map_annotation({"cuts": cands}, mapping, w, h)["cuts"]
    geo = extra["geometry"]
    f = geo["frame"]
    rules = map_annotation({"cuts": [dict(zip(("x0", "y0", "x1", "y1"), r)) for r in geo["rules"]]}, mapping, w, h)
    frame = map_annotation({"cuts": [{"x0": f[0], "y0": f[1], "x1": f[2], "y1": f[3]}]}, mapping, w, h)["cuts"][0]
    gutters = map_annotation({"cuts": [{"x0": g, "y0": f[1], "x1": g, "y1": f[3]} for g in geo["gutters"]]},
                             mapping, w, h)["cuts"]
    return {"candidates": [{**m, "confidence": c["confidence"]} for c, m in zip(cands, back)],
            "geometry": {"frame": [frame[k] for k in ("x0", "y0", "x1", "y1")],
                         "gutters": [round((g["x0"] + g["x1"]) / 2, 1) for g in gutters],
                         "rules": [[r[k] for k in ("x0", "y0", "x1", "y1")] for r in rules["cuts"]]}}
