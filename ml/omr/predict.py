"""Batched inference for the platform's workers.

``Predictor.load(checkpoint_dir, device=None)``; ``predict(items, batch_size=None)`` where an item is

* a pair ``(original, photo)`` of grey images -> ``AlignmentPrediction`` (the omr work item: its
  ``to_annotation()`` is the platform's omr annotation; no checkpoint is needed for alignment), or
* a single image -> ``DetectionPrediction`` (symbols found by the detector checkpoint).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ml.common.device import autocast, pick_device, to_device
from ml.omr.align import Aligner, Alignment, ink_map
from ml.omr.config import AlignConfig
from ml.omr.dwd import Detection, boxes_from_core
from ml.omr.model import load_model


@dataclass
class AlignmentPrediction:
    alignment: Alignment

    @property
    def uncertainty(self) -> float:
        return self.alignment.uncertainty

    def to_json(self) -> dict:
        return self.alignment.to_json()

    def to_annotation(self) -> dict:
        return self.alignment.to_annotation()


@dataclass
class DetectionPrediction:
    detections: list[Detection]
    size: tuple[int, int]
    uncertainty: float = 0.0
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"symbols": [d.to_dict() for d in self.detections], "width": self.size[0], "height": self.size[1],
                "uncertainty": self.uncertainty}

    def to_annotation(self) -> dict:
        return {"symbols": [{"class": d.cls, "bbox": d.to_dict()["bbox"]} for d in self.detections]}


class Predictor:
    def __init__(self, model=None, cfg=None, meta: dict | None = None, device: torch.device | None = None,
                 align_cfg: AlignConfig = AlignConfig()):
        self.model, self.cfg, self.meta = model, cfg, meta or {}
        self.device = device or pick_device()
        self.aligner = Aligner(align_cfg)

    @classmethod
    def load(cls, checkpoint_dir=None, device: str | torch.device | None = None,
             align_cfg: AlignConfig = AlignConfig()) -> "Predictor":
        dev = pick_device(str(device) if device else None)
        if checkpoint_dir is None:
            return cls(None, None, {}, dev, align_cfg)
        model, cfg, meta = load_model(checkpoint_dir, dev)
        return cls(model, cfg, meta, dev, align_cfg)

    def predict(self, items: list, batch_size: int | None = None, mode: str | None = None) -> list:
        out: list = [None] * len(items)
        images = []
        for i, item in enumerate(items):
            if isinstance(item, (tuple, list)) and len(item) == 2:
                out[i] = AlignmentPrediction(self.aligner.align(np.asarray(item[0]), np.asarray(item[1]), mode=mode))
            else:
                images.append(i)
        if images:
            if self.model is None:
                raise ValueError("detection needs a detector checkpoint: Predictor.load(checkpoint_dir)")
            dets = self.detect([np.asarray(items[i]) for i in images], batch_size)
            for i, d in zip(images, dets):
                out[i] = d
        return out

    @torch.no_grad()
    def detect(self, images: list[np.ndarray], batch_size: int | None = None) -> list[DetectionPrediction]:
        bs = batch_size or (8 if self.device.type == "cuda" else 2)
        stride = self.model.stride
        results: list[DetectionPrediction] = []
        for k in range(0, len(images), bs):
            chunk = [im if im.ndim == 2 else im[..., 0] for im in images[k:k + bs]]
            H = max(im.shape[0] for im in chunk)
            W = max(im.shape[1] for im in chunk)
            Hp, Wp = -(-H // stride) * stride, -(-W // stride) * stride
            x = np.zeros((len(chunk), 1, Hp, Wp), np.float32)
            for j, im in enumerate(chunk):
                x[j, 0, :im.shape[0], :im.shape[1]] = ink_map(im)
            xt = to_device(torch.from_numpy(x), self.device)
            with autocast(self.device):
                out = self.model(xt)
            st = self.model.output_stride
            thr = self.cfg.energy_threshold
            levels = torch.arange(out["energy"].shape[1], device=self.device, dtype=torch.float32)
            for j, im in enumerate(chunk):
                h, w = im.shape[:2]
                ho, wo = -(-h // st), -(-w // st)
                # only the core pixels' class probabilities and boxes leave the device
                e = torch.softmax(out["energy"][j, :, :ho, :wo].float(), 0)
                core = e[thr:].sum(0) >= 0.5
                peak = torch.tensordot(levels, e, dims=1)[core] / (len(levels) - 1)
                cls = torch.softmax(out["cls"][j, :, :ho, :wo].float(), 0)[:, core]
                box = out["box"][j, :, :ho, :wo].float()[:, core]
                dets = boxes_from_core(core.cpu().numpy(), peak.cpu().numpy(), cls.cpu().numpy(), box.cpu().numpy(),
                                       list(self.cfg.classes), self.cfg.min_component, stride=st)
                scores = np.array([d.score for d in dets])
                unc = float(np.mean(1 - scores)) if len(scores) else 1.0
                results.append(DetectionPrediction(dets, (w, h), float(np.clip(unc, 0, 1))))
        return results
