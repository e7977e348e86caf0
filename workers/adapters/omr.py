"""OMR adapter: a work item is a pair (original engraving, photo of its print).

Inference aligns each pair (the aligner's fast mode; template features cached per original by the aligner)
and proposes the platform's omr annotation in ORIGINAL pixels; the scores carry what an operator checks:
the verdict with all its reasons, the metrics, a sample of the inlier matches, the original's symbol boxes
moved onto the photo, and the detector's own boxes where it runs. The model that learns is the symbol
detector: accepted alignments give it photos whose ground truth is the original's boxes moved through the
accepted homography; the gate compares it per symbol class on the golden set.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from formats.omr import REASONS
from formats.omr.deepscores import transfer_box
from workers.adapters.base import Adapter, Evaluation, ItemImages, Proposal

MATCH_SAMPLE = 120       # inlier matches kept for drawing (the full set is thousands)
METRICS_KEPT = ("good_matches", "inliers", "inlier_ratio", "reproj_median", "reproj_p95", "coverage",
                "visible_share", "page_visible_share", "ncc_median", "ncc_min", "ncc_per_system",
                "system_shift_max", "cell_bias_max")
SLICE_CLASSES = 20       # per-class gate slices: the detector's most frequent classes


def _pair_index(item: ItemImages) -> tuple[int, int]:
    roles = item.roles or ["original", "photo"]
    try:
        return roles.index("original"), roles.index("photo")
    except ValueError:
        return 0, 1


def _scale_matrix(sx: float, sy: float) -> np.ndarray:
    return np.diag([sx, sy, 1.0])


def to_original_pixels(h_work: np.ndarray, original_scale: tuple[float, float],
                       photo_scale: tuple[float, float]) -> np.ndarray:
    """A homography between working copies as one between the originals (scales: original -> working copy)."""
    h = _scale_matrix(1 / photo_scale[0], 1 / photo_scale[1]) @ h_work @ _scale_matrix(*original_scale)
    return h / h[2, 2]


def platform_reasons(verdict: str, reasons: list[str]) -> list[str]:
    """The aligner's reasons that the annotation format names; a review whose reasons it does not name
    (e.g. low coverage alone) says "other", the full list stays in the scores."""
    kept = [r for r in reasons if r in REASONS]
    return kept or (["other"] if verdict != "accept" else [])


def _round(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


class OmrAdapter(Adapter):
    kind = "omr"
    ml_package = "ml.omr"
    image_mode = "L"
    detect_on_cpu = False   # the detector costs seconds per page on a CPU: there, proposals are alignments only
    # The proposal is the alignment, which needs no trained model: a scope proposes from its first item
    # (workers.model_free), before any detector is there.
    proposes_without_model = True

    def batch_size(self, device: str) -> int:
        return 16 if device.startswith("cuda") else 4

    def load(self, artifact_dir: Path, device: str) -> Any:
        """The aligner, with the folder's detector where it holds one (a model-free version holds none)."""
        from ml.common.checkpoint import WEIGHTS
        from ml.omr.predict import Predictor

        return Predictor.load(artifact_dir if (Path(artifact_dir) / WEIGHTS).is_file() else None, device=device)

    def predict(self, predictor: Any, items: Sequence[ItemImages], batch_size: int) -> list[Proposal]:
        pairs = []
        for item in items:
            o, p = _pair_index(item)
            pairs.append((item.images[o], item.images[p]))
        alignments = predictor.predict(pairs, mode="fast")
        detections: list = [None] * len(items)
        if predictor.model is not None and (predictor.device.type == "cuda" or self.detect_on_cpu):
            detections = predictor.detect([photo for _, photo in pairs], batch_size)
        return [self._proposal(item, a.alignment, d) for item, a, d in zip(items, alignments, detections)]

    def _proposal(self, item: ItemImages, alignment, detection) -> Proposal:
        o, p = _pair_index(item)
        scales = item.scales()
        pw, ph = item.original_sizes[p]
        h = None if alignment.homography is None else to_original_pixels(alignment.homography, scales[o], scales[p])
        status = "accepted" if alignment.verdict == "accept" else "rejected"
        annotation = {"status": status, "homography": None if h is None else h.tolist(), "point_pairs": [],
                      "reasons": platform_reasons(alignment.verdict, alignment.reasons)}
        m = alignment.metrics
        scores: dict[str, Any] = {"verdict": alignment.verdict, "reasons": list(alignment.reasons),
                                  "mode": alignment.mode,
                                  "metrics": {k: _round(m.get(k)) for k in METRICS_KEPT}}
        if alignment.inliers is not None and len(alignment.inliers):
            pick = np.linspace(0, len(alignment.inliers) - 1, min(MATCH_SAMPLE, len(alignment.inliers))).astype(int)
            (osx, osy), (psx, psy) = scales[o], scales[p]
            rows = alignment.inliers[pick].astype(float) / [osx, osy, psx, psy]
            scores["matches"] = [[[round(float(r[0]), 1), round(float(r[1]), 1)],
                                  [round(float(r[2]), 1), round(float(r[3]), 1)]]
                                 for r in rows]
        if h is not None and alignment.verdict != "reject":
            moved = ((s["class"], transfer_box(s["bbox"], h.tolist(), pw, ph)) for s in item.meta.get("symbols", []))
            scores["symbols"] = [{"class": c, "bbox": [round(v, 1) for v in b]} for c, b in moved if b is not None]
        if detection is not None:
            psx, psy = scales[p]
            scores["detections"] = [{"class": d.cls, "score": round(float(d.score), 3),
                                     "bbox": [round(d.bbox[0] / psx, 1), round(d.bbox[1] / psy, 1),
                                              round(d.bbox[2] / psx, 1), round(d.bbox[3] / psy, 1)]}
                                    for d in detection.detections]
        return Proposal(annotation, scores, float(alignment.uncertainty))

    # ---- training: the symbol detector ------------------------------------------------------------
    def samples(self, items: Iterable[ItemImages]) -> list[Any]:
        """Photos of accepted (or fixed) pairs with the original's symbols moved in by the accepted homography;
        pairs without symbols in their meta or without a homography give none."""
        from ml.omr.data import sample_from_alignment

        out = []
        for item in items:
            ann = item.annotation or {}
            if ann.get("status") not in ("accepted", "fixed") or ann.get("homography") is None:
                continue
            if not item.meta.get("symbols"):
                continue
            _, p = _pair_index(item)
            # original (original pixels) -> photo working copy: the symbols stay in original pixels
            h = _scale_matrix(*item.scales()[p]) @ np.asarray(ann["homography"], dtype=np.float64)
            photo = np.asarray(item.images[p])
            meta = {"id": f"item{item.item_id}", "font": item.meta.get("font", ""), "piece": item.meta.get("piece", "")}
            out.append(sample_from_alignment(item.meta["symbols"], photo, {**ann, "homography": h.tolist()}, meta))
        return out

    def evaluate(self, artifact_dir: Path, samples: list[Any], device: str) -> Evaluation:
        """``score``: mAP@0.5 over the frequent classes overall, AP per frequent class, recall of the rare
        classes together (each a slice the gate compares)."""
        from ml.omr.evaluation import evaluate

        res = evaluate(artifact_dir, samples, device=device)
        o = res["overall"]
        overall = {"pages": o["images"], "score": o["mAP_frequent"], "mAP_frequent": o["mAP_frequent"],
                   "mAP_rare": o["mAP_rare"], "recall_rare": o["recall_rare"], "pages_per_s": res["pages_per_s"]}
        slices: dict[str, dict[str, Any]] = {}
        for cls in res["frequent_classes"][:SLICE_CLASSES]:
            c = res["per_class"].get(cls) or {}
            if c.get("support"):
                slices[f"class:{cls}"] = {"n": c["support"], "score": c["ap"], "recall": c["recall"]}
        if o["rare_support"]:
            slices["classes:rare"] = {"n": o["rare_support"], "score": o["recall_rare"]}
        for name, s in res["slices"].items():
            if name.startswith("font:") and s["images"]:
                slices[name] = {"pages": s["images"], "score": s["mAP_frequent"]}
        return Evaluation(overall, slices, "score")
