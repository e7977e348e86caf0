"""Catheter adapter: a work item is a rotation series; the ml predictor works on single shots.

Every shot of every item in a batch goes through the predictor in one list (batched by the predictor);
the shots' proposals are assembled back into one series annotation per item, in original pixels.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from workers.adapters.base import Adapter, Evaluation, ItemImages, Proposal, clamp_box, scale_box, scale_point
from workers.adapters.catheter_calibration import keep_parent_calibration
from workers.adapters.catheter_golden import golden_proposals

# The gate's figure on golden balloons: the share of the proposal the operator keeps (``catheter_golden``).
PRIMARY = "proposal_agreement"

# Maps are made for a shot whose defect score reaches this share of the verdict threshold, or that is
# flagged: the page needs them where the operator looks twice, and backfills of clean shots stay fast.
MAP_FLOOR_SHARE = 0.5

# A fine-tune's replay: this many replay shots per corrected shot (bench/catheter_shift_finetune.py "replay x3");
# generated shots of seed REPLAY_SEED + the corrections' count top up what the scope's accepted items give.
REPLAY_RATIO = 3
REPLAY_SEED = 4018


class CatheterAdapter(Adapter):
    kind = "catheter"
    ml_package = "ml.catheter"
    image_mode = "RGB"

    def batch_size(self, device: str) -> int:
        return 64 if device.startswith("cuda") else 16   # shots per forward pass (the ml predictor's default)

    def load(self, artifact_dir: Path, device: str) -> Any:
        from ml.catheter.predict import Predictor

        return Predictor.load(artifact_dir, device=device)

    def input_side(self, predictor: Any) -> int | None:
        return int(predictor.size)   # shots are resized to this square before the network

    def apply_threshold(self, predictor: Any, value: float | None) -> None:
        # The verdict threshold (defect if the score reaches it): the balloon's, on the series score, where the
        # checkpoint is calibrated on series, else the shot's; the checkpoint's own is kept to go back to.
        if predictor.series_calibration:
            predictor.series_threshold_override = None if value is None else float(value)
            return
        own = predictor.__dict__.setdefault("checkpoint_verdict_threshold", predictor.verdict_threshold)
        predictor.verdict_threshold = own if value is None else float(value)

    def operating_point(self, artifact_dir: Path) -> dict[str, Any] | None:
        """The balloon verdict's operating points as calibrated on validation series (per series length:
        threshold, recall, precision), for the admin; None for a checkpoint judged shot by shot."""
        from ml.common.checkpoint import load_config

        series = (load_config(artifact_dir).get("thresholds") or {}).get("series")
        return None if not series else {"name": "balloon verdict on the series score", **series}

    def rescore(self, predictor: Any, payload: dict[str, Any], scores: dict[str, Any],
                uncertainty: float) -> Proposal | None:
        """Per shot, the stored score (the series score where the balloon was judged on its series) against
        the verdict threshold now in force: a shot that falls below it loses its defects (exactly what the
        model would propose); a shot that rises above it needs its boxes from the defect map, which is not
        stored: ``None``, the item is predicted again."""
        from ml.catheter.predict import verdict_uncertainty

        stored, shots = scores.get("shots") or [], payload.get("shots") or []
        if not stored or len(stored) != len(shots):
            return None
        series = scores.get("series")
        point = predictor.series_point(len(shots)) if series else None
        if bool(series) != bool(predictor.series_calibration) or (series and point is None):
            return None
        key = "series_score" if series else "score"
        threshold = point["threshold"] if series else predictor.verdict_threshold
        new_shots, new_stored = [], []
        for s, shot in zip(stored, shots):
            defect = float(s[key]) >= threshold
            if defect and s.get("verdict") != "defect":
                return None
            new_shots.append(shot if defect else {**shot, "defects": []})
            new_stored.append({**s, "verdict": "defect" if defect else "ok"})
        verdict = "defect" if any(shot.get("defects") for shot in new_shots) else "ok"
        if series:   # the balloon's uncertainty, as the proposal's
            unc = verdict_uncertainty(float(series["score"]), threshold, bool(scores.get("flagged")))
        else:
            unc = max(verdict_uncertainty(float(s[key]), threshold, bool(s.get("flagged"))) for s in new_stored)
        new_scores = {**scores, "shots": new_stored}
        if series:
            new_scores["series"] = {**series, "threshold": round(threshold, 6),
                                    "drove": [k for k, s in enumerate(new_stored) if s["verdict"] == "defect"]}
        return Proposal({**payload, "verdict": verdict, "shots": new_shots}, new_scores, unc)

    def predict(self, predictor: Any, items: Sequence[ItemImages], batch_size: int) -> list[Proposal]:
        shots = [im for item in items for im in item.images]
        # The saliency is computed for the flag anyway; keeping it costs nothing but memory.
        preds = predictor.predict(shots, batch_size=batch_size, saliency=True)
        out, k = [], 0
        for item in items:
            mine = preds[k:k + len(item.images)]
            k += len(item.images)
            proposal = self._series_proposal(item, mine, predictor)
            proposal.rasters = self._rasters(item, mine, MAP_FLOOR_SHARE * predictor.verdict_threshold)
            flag_threshold = predictor.flag_threshold
            proposal.scores["ood"] = {"flag": proposal.scores["flagged"], "score": proposal.scores["entropy"],
                                      "threshold": round(flag_threshold, 5) if math.isfinite(flag_threshold) else None}
            out.append(proposal)
        return out

    @staticmethod
    def _rasters(item: ItemImages, preds: list, floor: float) -> list[dict[str, np.ndarray]]:
        from ml.catheter.maps import defect_layer, saliency_layer

        out = []
        for p, size in zip(preds, item.original_sizes):
            if p.score >= floor or p.flagged:
                out.append({"defect": defect_layer(p.defect_map, size), "saliency": saliency_layer(p.saliency, size)})
            else:
                out.append({})
        return out

    def _series_proposal(self, item: ItemImages, preds: list, predictor: Any) -> Proposal:
        """The series' annotation. With a series calibration the balloon is judged as a whole: each shot's
        series score (``ml.catheter.series``: its score scaled by how much of its response moved with the
        balloon) against the balloon threshold; the shots reaching it drove the verdict and carry the boxes.
        Without one, each shot by its own score."""
        from ml.catheter.predict import verdict_uncertainty
        from ml.catheter.series import series_scores

        point = predictor.series_point(len(preds))
        if point is not None:
            moved = series_scores(np.array([p.score for p in preds]), np.stack([p.defect_map for p in preds]))
            called = [float(m) >= point["threshold"] for m in moved]
        else:
            called = [p.verdict == "defect" for p in preds]
        shots = []
        for p, defect, (w, h), (sx, sy) in zip(preds, called, item.original_sizes, item.scales()):
            defects = []
            for d in (predictor.defect_shot(p)["defects"] if defect else []):
                box = clamp_box(scale_box(d["box"], 1 / sx, 1 / sy), w, h)
                if box is not None:
                    defects.append({"type": d["type"], "box": box})
            shots.append({"defects": defects})
        verdict = "defect" if any(s["defects"] for s in shots) else "ok"
        types = {t: round(max(p.scores[t] for p in preds), 5) for t in preds[0].scores}
        flagged = any(p.flagged for p in preds)
        scores = {"defect": round(max(p.score for p in preds), 5), "types": types,
                  "flagged": flagged, "entropy": round(max(p.entropy for p in preds), 5),
                  "shots": [{"verdict": "defect" if c else "ok", "score": round(p.score, 5), "flagged": p.flagged}
                            for p, c in zip(preds, called)]}
        if point is None:
            return Proposal({"verdict": verdict, "shots": shots}, scores, max(p.uncertainty for p in preds))
        for entry, m in zip(scores["shots"], moved):
            entry["series_score"] = round(float(m), 5)
        scores["series"] = {"score": round(float(moved.max()), 5), "threshold": round(point["threshold"], 6),
                            "drove": [k for k, c in enumerate(called) if c],
                            "operating_point": {k: point[k] for k in ("target_recall", "recall", "precision",
                                                                      "calibrated_shots") if k in point}}
        return Proposal({"verdict": verdict, "shots": shots}, scores,
                        verdict_uncertainty(float(moved.max()), point["threshold"], flagged))

    # ---- training ---------------------------------------------------------------------------------
    def finetune(self, *, base_dir: Path, new: list[Any], replay: list[Any], out_dir: Path, steps: int,
                 callbacks: list, log) -> dict[str, Any]:
        from ml.catheter.training import finetune
        from ml.common.checkpoint import load_config

        # Three replay shots per corrected one (generated ones topping up the real replay), all layers trained,
        # WiSE-FT 0.25: chosen among the variants of bench/catheter_shift_finetune.py on a selection golden set.
        wanted = REPLAY_RATIO * len(new) - len(replay)
        if wanted > 0:
            size = load_config(base_dir)["config"].get("size", "cpu")
            replay = [*replay, *self.synthetic_samples(wanted, REPLAY_SEED + len(new), "", size)]
        meta = finetune(base_dir, new, replay, out_dir, steps=steps, callbacks=callbacks, log=log,
                        replay_ratio=REPLAY_RATIO)
        # The candidate keeps its parent's balloon threshold (fine-tuning wrote a fresh config without it, and
        # was judged shot by shot). A threshold calibrated on the run's corrected balloons was measured beside
        # it (bench/catheter_shift_finetune.py) and swung too far with the weakest defective balloon to ship.
        series = keep_parent_calibration(out_dir, base_dir)
        if series is not None:
            meta.setdefault("thresholds", {})["series"] = series
        return meta

    def samples(self, items: Iterable[ItemImages]) -> list[Any]:
        from ml.catheter.data import samples_from_series

        out = []
        for item in items:
            shots = []
            for shot, (sx, sy) in zip(item.annotation["shots"], item.scales()):
                defects = []
                for d in shot.get("defects", []):
                    entry = {"type": d["type"], "box": scale_box(d["box"], sx, sy)}
                    if d.get("polygon"):
                        entry["polygon"] = [scale_point(p, sx, sy) for p in d["polygon"]]
                    defects.append(entry)
                shots.append({"defects": defects})
            ann = {"verdict": "defect" if any(s["defects"] for s in shots) else "ok", "shots": shots}
            meta = {"series": f"item{item.item_id}", "id": f"item{item.item_id}"}
            if item.meta.get("setup"):
                meta["setup"] = item.meta["setup"]
            out.extend(samples_from_series([np.asarray(im) for im in item.images], ann, meta))
        return out

    def evaluate(self, artifact_dir: Path, samples: list[Any], device: str) -> Evaluation:
        from ml.catheter.evaluation import evaluate

        res = evaluate(artifact_dir, samples, device=device, adv_n=min(8, len(samples)), epsilons=(4,),
                       pointing_n=min(16, len(samples)))
        v = res["verdict"]
        c = v["confusion"]
        overall = {"n": res["n"], "n_defective": res["n_defective"], "recall": v["recall"],
                   "precision": v["precision"], "auroc": v["auroc"], "average_precision": v["average_precision"],
                   "recall_at_precision_0.90": v["recall_at_precision_0.90"],
                   "box_recall": res["boxes"]["recall"], "box_precision": res["boxes"]["precision"]}
        # Slices: each defect type (recall of the shots showing it) and the OK shots (share called OK),
        # so "recall" reads as "share of this slice judged right" everywhere.
        slices = {f"defect:{t}": {"n": s["n"], "recall": s["verdict_recall"], "type_recall": s["type_recall"]}
                  for t, s in res["by_type"].items() if s["n"]}
        n_ok = c["tn"] + c["fp"]
        if n_ok:
            slices["verdict:ok"] = {"n": n_ok, "recall": c["tn"] / n_ok}
        for name, s in res.get("by_setup", {}).items():
            if s.get("n_defective"):
                slices[f"setup:{name}"] = {"n": s["n"], "recall": s["recall"], "precision": s["precision"]}
        items = _per_item(res.get("per_sample") or [])
        if not items:   # generated samples (no golden items): the verdict's recall is all there is to judge
            return Evaluation(overall, slices, "recall", items=items)
        # Golden items: judged on the proposal the operator would see (``catheter_golden``), whose balloon
        # score is also the curve an operating threshold is chosen on.
        proposals = golden_proposals(artifact_dir, samples, device)
        for entry in items:
            entry["value"] = round(proposals[entry["item"]]["agreement"], 5)
            entry["score"] = round(proposals[entry["item"]]["score"], 5)
        overall[PRIMARY] = _mean(e["value"] for e in items)
        for name, figures in slices.items():
            mean = _mean(e["value"] for e in items if name in e["slices"])
            if mean is not None:
                figures[PRIMARY] = mean
        return Evaluation(overall, slices, PRIMARY, items=items)


def _mean(values) -> float | None:
    values = list(values)
    return round(float(np.mean(values)), 5) if values else None


def _per_item(per_sample: list[dict]) -> list[dict]:
    """Per golden item (the shots of one item together): the share of its shots whose verdict is right
    (``evaluate`` replaces it by the proposal agreement where it can score the proposals), in the slices
    the aggregate figures use (defect types and set-ups of defective shots, ``verdict:ok`` of the OK ones);
    label and score of the series (defective if any shot is)."""
    items: dict[int, dict] = {}
    for rec in per_sample:
        ident = str(rec.get("id") or "")
        if not ident.startswith("item") or not ident[4:].isdigit():
            continue   # generated samples have no item
        entry = items.setdefault(int(ident[4:]), {"right": [], "slices": set(), "label": 0, "score": 0.0})
        entry["right"].append(float(rec["predicted"] == rec["label"]))
        entry["label"] = max(entry["label"], rec["label"])
        entry["score"] = max(entry["score"], rec["score"])
        if rec["label"]:
            entry["slices"].update(f"defect:{t}" for t in rec["types"])
            if rec.get("setup"):
                entry["slices"].add(f"setup:{rec['setup']}")
        else:
            entry["slices"].add("verdict:ok")
    return [{"item": item, "slices": sorted(e["slices"]), "value": sum(e["right"]) / len(e["right"]),
             "label": e["label"], "score": round(e["score"], 5)} for item, e in sorted(items.items())]
