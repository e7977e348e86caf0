"""Training of the global model (FCN + page filter), per-publisher fine-tuning with replay, and the
recalibration of a checkpoint's thresholds in place (thresholds: ``ml.articles.calibration``)."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ml.articles.calibration import (calibrate, calibrate_geometry_per_publisher, calibration_samples, page_probs,
                                     pr_over_tau)
from ml.articles.config import ArticlesConfig, preset
from ml.articles.data import IGNORE, UNKNOWN_ARTICLE, Sample, synth_samples, targets, to_work
from ml.articles.model import CutNet
from ml.articles.pagefilter import IMAGE_FEATURES, TEXT_FEATURES, Forest, image_features, text_features, train_forest
from ml.articles.predict import model_input
from ml.articles.scanfix import fix_samples
from ml.articles.styles import STYLES, TRAIN_PUBLISHERS
from ml.common.checkpoint import CONFIG, load_config, load_weights, save_checkpoint
from ml.common.device import pick_device, seed_everything
from ml.common.finetuning import blend, choose_alpha, freeze_norm_statistics, snapshot
from ml.common.schedule import TimeBudget, WarmupCosine
from ml.common.trainer import CallbackBase, TrainingCancelled, fit

Log = Callable[[str], None]


def _noop(_: str) -> None:
    pass


class _Tensors:
    """Model inputs and targets of article pages, padded to one shape."""

    def __init__(self, samples: Sequence[Sample], cfg: ArticlesConfig, multiple: int):
        xs, cuts, regs = [], [], []
        arts = [s for s in samples if s.page_type == "article"]
        if not arts:
            raise ValueError("no article pages to train on")
        for s in arts:
            _, c, r = targets(s, cfg.train.work_width, cfg.train.cut_halfwidth)
            xs.append(model_input(to_work(s.image, cfg.train.work_width)))
            cuts.append(c)
            regs.append(r)
        H = max(x.shape[1] for x in xs)
        W = max(x.shape[2] for x in xs)
        H, W = H + (-H) % multiple, W + (-W) % multiple
        n = len(xs)
        self.x = torch.zeros((n, 3, H, W))
        self.cut = torch.zeros((n, H, W))
        self.region = torch.full((n, H, W), IGNORE, dtype=torch.uint8)
        self.valid = torch.zeros((n, H, W))
        for i, (x, c, r) in enumerate(zip(xs, cuts, regs)):
            h, w = c.shape
            self.x[i, :, :h, :w] = torch.from_numpy(x)
            self.cut[i, :h, :w] = torch.from_numpy(c.astype(np.float32))
            self.region[i, :h, :w] = torch.from_numpy(r)
            self.valid[i, :h, :w] = 1
        self.n = n

    def batch(self, idx: np.ndarray, rng: np.random.Generator, device: torch.device, crop_h: int | None = None):
        H = self.x.shape[2]
        ys = slice(None)
        if crop_h and crop_h < H:  # a band of the page (coordinate channels keep the page position)
            y0 = int(rng.integers(0, H - crop_h + 1)) // 8 * 8
            ys = slice(y0, y0 + crop_h)
        x = self.x[idx][:, :, ys].clone()
        cut, reg, val = self.cut[idx][:, ys].clone(), self.region[idx][:, ys].clone(), self.valid[idx][:, ys].clone()
        for k in range(len(idx)):
            if rng.random() < 0.5:  # mirrored layouts are layouts too (coordinates stay page coordinates)
                x[k, 0] = x[k, 0].flip(-1)
                cut[k], reg[k], val[k] = cut[k].flip(-1), reg[k].flip(-1), val[k].flip(-1)
            gain = float(rng.uniform(0.7, 1.2))
            x[k, 0] = (x[k, 0] * gain + float(rng.normal(0, 0.03))).clamp(0, 1)
        return x.to(device), cut.to(device), reg.to(device).long(), val.to(device)


def _loss(cfg: ArticlesConfig):
    pw = cfg.train.cut_pos_weight
    rw = cfg.train.region_weight

    def step(model, batch):
        x, cut, reg, val = batch
        y = model(x).float()
        bce = F.binary_cross_entropy_with_logits(y[:, 0], cut, reduction="none",
                                                 pos_weight=torch.tensor(pw, device=y.device))
        l_cut = (bce * val).sum() / val.sum().clamp(min=1)
        logp = torch.log_softmax(y[:, 1:], 1)
        known = reg <= 2
        ce = -logp.gather(1, reg.clamp(max=2).unsqueeze(1)).squeeze(1)
        unk = -torch.logsumexp(logp[:, 1:3], 1)  # body or headline
        l_reg = torch.where(known, ce, torch.where(reg == UNKNOWN_ARTICLE, unk, torch.zeros_like(ce)))
        m = (reg != IGNORE).float()
        l_reg = (l_reg * m).sum() / m.sum().clamp(min=1)
        return l_cut + rw * l_reg, {"cut": float(l_cut.detach()), "region": float(l_reg.detach())}

    return step


def _run(model: CutNet, main: _Tensors, cfg: ArticlesConfig, steps: int, lr: float, device: torch.device,
         callbacks: Iterable[CallbackBase], seed: int, replay: _Tensors | None = None,
         replay_fraction: float = 0.0, max_minutes: float | None = None, log: Log = _noop) -> dict:
    rng = np.random.default_rng(seed)
    bs = cfg.train.batch_size
    n_rep = int(round(bs * replay_fraction)) if replay is not None else 0
    n_main = bs - n_rep
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=cfg.train.weight_decay)
    started = time.perf_counter()
    # the schedule completes even when the machine is slower than planned; the budget then ends the run
    budget = TimeBudget(60 * max_minutes if max_minutes else 0.0)
    sched = WarmupCosine(opt, lr, steps, budget, warmup=0.05, start=0.05, floor=0.02)
    done = {"steps": 0, "stopped_early": False}

    def batches(_epoch):
        while True:
            crop = cfg.train.crop_height
            parts = [main.batch(rng.integers(0, main.n, n_main), rng, device, crop)]
            if n_rep:
                parts.append(replay.batch(rng.integers(0, replay.n, n_rep), rng, device, crop))
            yield tuple(torch.cat([p[i] for p in parts]) for i in range(4))

    class _Log(CallbackBase):
        def on_step(self, p):
            done["steps"] = p.step
            if p.step % 50 == 0 or p.step == p.total_steps:
                log(f"step {p.step}/{p.total_steps} loss {p.loss:.4f} cut {p.logs.get('cut', 0):.4f} "
                    f"region {p.logs.get('region', 0):.4f} {p.elapsed_s:.0f}s")

    model.to(device)
    try:
        hist = fit(model, batches, _loss(cfg), epochs=1, steps_per_epoch=steps, optimizer=opt, device=device,
                   callbacks=[_Log(), *callbacks, budget], scheduler=sched)
    except TrainingCancelled:
        if not budget.hit:
            raise
        done["stopped_early"], hist = True, []
        model.eval()
    done["seconds"] = time.perf_counter() - started
    done["history"] = hist
    return done


def filter_features(samples: Sequence[Sample], width: int) -> tuple[np.ndarray, np.ndarray]:
    Xi = np.stack([image_features(s.image, width) for s in samples])
    Xt = np.stack([text_features(s.meta.get("tokens") or []) for s in samples])
    return Xi, Xt


def filter_synth_samples(cfg: ArticlesConfig, publishers: Sequence[str]) -> list[Sample]:
    """Pages of all types for the page filter, rendered at varied resolutions (see ``synth_samples``)."""
    n = max(1, cfg.train.filter_pages // len(publishers))
    return synth_samples(n, publishers, cfg.train.seed * 10 + 3, cfg.filter.feature_width, non_article_share=0.5,
                         vary_resolution=True)


def train_filter(samples: Sequence[Sample], cfg: ArticlesConfig, out: Path | None = None) -> dict:
    Xi, Xt = filter_features(samples, cfg.filter.feature_width)
    types = [s.page_type for s in samples]
    f1_, info1 = train_forest(Xi, types, IMAGE_FEATURES, cfg.filter.n_trees, cfg.filter.max_depth,
                              cfg.filter.min_recall, cfg.train.seed)
    f2_, info2 = train_forest(np.c_[Xi, Xt], types, IMAGE_FEATURES + TEXT_FEATURES, cfg.filter.n_trees,
                              cfg.filter.max_depth, cfg.filter.min_recall, cfg.train.seed)
    if out is not None:
        f1_.save(out, "page_filter")
        f2_.save(out, "page_filter_text")
    return {"image": info1, "image_text": info2, "pages": len(samples)}


def _save(model: CutNet, out: Path, cfg: ArticlesConfig, thresholds: dict, extra: dict) -> None:
    """``extra`` carries, among others, ``geometry``: the layout-geometry prior per publisher."""
    save_checkpoint(out, model, {"kind": "articles", "config": cfg.to_dict(), "thresholds": thresholds, **extra})


def train(samples: Sequence[Sample] | None = None, out: str | Path = "artifacts/articles", *,
          config: ArticlesConfig | None = None, val_samples: Sequence[Sample] | None = None,
          filter_samples: Sequence[Sample] | None = None, publishers: Sequence[str] | None = None,
          callbacks: Iterable[CallbackBase] = (), device: str | torch.device | None = None,
          log: Log = _noop) -> dict:
    """Train the global model (FCN + page filter) and calibrate per-publisher thresholds.

    Missing sample sets are generated: ``pages_per_publisher`` training pages, ``val_pages_per_publisher``
    calibration pages and ``filter_pages`` pages of all types, from disjoint seeds.
    """
    dev = pick_device(str(device) if device is not None else None)
    cfg = config or preset("gpu" if dev.type == "cuda" else "cpu")
    tc = cfg.train
    seed_everything(tc.seed)
    pubs = list(publishers or TRAIN_PUBLISHERS)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gen_w = tc.work_width
    if samples is None:
        samples = synth_samples(tc.pages_per_publisher, pubs, tc.seed * 10 + 1, gen_w, vary_resolution=True,
                                scan_share=tc.scan_share, scan_max=tc.scan_max)
    if val_samples is None:
        val_samples = calibration_samples(cfg, pubs)
    if filter_samples is None:
        filter_samples = filter_synth_samples(cfg, pubs)
    t_data = time.perf_counter() - t0
    log(f"data: {len(samples)} train, {len(val_samples)} val, {len(filter_samples)} filter pages in {t_data:.1f}s")
    t1 = time.perf_counter()
    finfo = train_filter(filter_samples, cfg, out)
    t_filter = time.perf_counter() - t1
    log(f"page filter: {finfo} in {t_filter:.1f}s")
    model = CutNet(cfg.model.base, cfg.model.depth)
    data = _Tensors(fix_samples(samples, cfg.post), cfg, model.multiple)   # pages as the predictor sees them
    run = _run(model, data, cfg, tc.steps, tc.lr, dev, callbacks, tc.seed, max_minutes=tc.max_minutes, log=log)
    cal = calibrate(model, val_samples, cfg, dev)
    log(f"thresholds: {cal['thresholds']}")
    info = {"train_pages": data.n, "steps": run["steps"], "stopped_early": run["stopped_early"],
            "train_seconds": round(run["seconds"], 1), "data_seconds": round(t_data, 1),
            "filter_seconds": round(t_filter, 1), "total_seconds": round(time.perf_counter() - t0, 1),
            "filter": finfo, "publishers": pubs, "params": sum(p.numel() for p in model.parameters())}
    _save(model, out, cfg, cal["thresholds"], {"train": info, "scope": "global", "geometry": cal["geometry"]})
    (out / "calibration.json").write_text(json.dumps(cal["curves"], indent=1))
    return info


def finetune(from_checkpoint: str | Path, samples: Sequence[Sample], replay_samples: Sequence[Sample] | None,
             out: str | Path, *, publisher: str | None = None, val_samples: Sequence[Sample] | None = None,
             steps: int | None = None, max_minutes: float | None = None, lr: float | None = None,
             replay_fraction: float | None = None, callbacks: Iterable[CallbackBase] = (),
             freeze_norm: bool = False, alpha: float | str = 1.0, recalibrate_others: bool = True,
             device: str | torch.device | None = None, log: Log = _noop) -> dict:
    """Fine-tune a checkpoint on one publisher's (corrected) pages mixed with a replay sample of the pages the
    source model was trained on; recalibrate that publisher's threshold on ``val_samples`` (default: the
    fine-tuning pages themselves). The page filter is carried over. ``steps``: exactly that many optimiser
    steps (0: the weights stay, only the publisher's threshold and geometry prior are measured); ``freeze_norm``
    and ``alpha`` (WiSE-FT averaging with the source weights) as ``ml.common.finetuning``; ``alpha="choose"``
    holds a third of the pages out of the fine-tune and picks alpha on them (``choose_wise_alpha``).
    ``recalibrate_others``: re-choose the thresholds of the replay's other publishers (a model serving one
    publisher's scope has no use for them)."""
    started = time.perf_counter()
    src = Path(from_checkpoint)
    raw = load_config(src)
    cfg = ArticlesConfig.from_dict(raw["config"])
    dev = pick_device(str(device) if device is not None else None)
    seed_everything(cfg.train.seed + 1)
    model = CutNet(cfg.model.base, cfg.model.depth)
    load_weights(src, model)
    source_weights = snapshot(model)
    if freeze_norm:
        freeze_norm_statistics(model)
    fixed = fix_samples(samples, cfg.post)
    held: list[Sample] = []
    if alpha == "choose":   # every third page judges the averaging and is not trained on
        held, fixed = fixed[2::3], [s for k, s in enumerate(fixed) if k % 3 != 2]
    data = _Tensors(fixed, cfg, model.multiple)
    replay = _Tensors(fix_samples(replay_samples, cfg.post), cfg, model.multiple) if replay_samples else None
    prepared = time.perf_counter()
    n = cfg.train.finetune_steps if steps is None else steps
    share = cfg.train.replay_fraction if replay_fraction is None else replay_fraction
    run = {"steps": 0, "seconds": 0.0, "stopped_early": False}
    if n > 0:
        run = _run(model, data, cfg, n, lr or cfg.train.finetune_lr, dev, callbacks, cfg.train.seed + 1,
                   replay=replay, replay_fraction=share if replay else 0.0, max_minutes=max_minutes, log=log)
    alpha_scores = None
    if alpha == "choose":
        alpha, alpha_scores = choose_wise_alpha(model, source_weights, held, cfg, dev) if held else (1.0, None)
        log(f"WiSE-FT: alpha {alpha} (cut F1 at the best tau on {len(held)} held-out pages: {alpha_scores})")
    blend(model, source_weights, float(alpha))
    trained = time.perf_counter()
    pub = publisher or (samples[0].publisher if samples else None)
    thresholds = dict(raw.get("thresholds", {}))
    geometry = dict(raw.get("geometry", {}))
    cal_set = [s for s in (val_samples or samples) if s.page_type == "article"]
    cal = calibrate(model, cal_set, cfg, dev)
    if pub:
        thresholds[pub] = cal["thresholds"].get(pub, cal["thresholds"].get("default", cfg.post.tau))
        if pub in cal["geometry"]:
            geometry[pub] = cal["geometry"][pub]
    if replay is not None and recalibrate_others:
        # the fine-tuned weights score every page a little differently: the publishers it keeps serving get
        # their thresholds re-chosen on their own calibration pages (their geometry priors do not change).
        # Only publishers with a generator style have such pages; the others keep their thresholds.
        others = sorted({s.publisher for s in replay_samples or []} & set(STYLES) - {pub})
        if others:
            again = calibrate(model, calibration_samples(cfg, others), cfg, dev)
            thresholds.update({k: v for k, v in again["thresholds"].items() if k in others})
    out = Path(out)
    info = {"from": str(src), "publisher": pub, "pages": data.n, "replay_pages": replay.n if replay else 0,
            "steps": run["steps"], "seconds": round(run["seconds"], 1), "lr": lr or cfg.train.finetune_lr,
            "replay_fraction": share if replay else 0.0, "freeze_norm": freeze_norm, "alpha": alpha,
            "alpha_scores": alpha_scores, "tau": thresholds.get(pub) if pub else None,
            "prepare_seconds": round(prepared - started, 1),
            "calibrate_seconds": round(time.perf_counter() - trained, 1)}
    _save(model, out, cfg, thresholds, {"train": raw.get("train", {}), "finetune": info, "geometry": geometry,
                                        "scope": f"publisher:{pub}" if pub else "global"})
    for name in ("page_filter", "page_filter_text"):
        if (src / f"{name}.json").exists():
            Forest.load(src, name).save(out, name)
    return info


def choose_wise_alpha(model: CutNet, champion: dict, held: Sequence[Sample], cfg: ArticlesConfig,
                      device: torch.device) -> tuple[float, dict[float, float]]:
    """WiSE-FT's alpha on pages the fine-tune did not see: the cut F1 at each weight mix's best tau (the
    threshold is re-chosen afterwards anyway). The model is left at the fine-tuned weights."""
    tuned = snapshot(model)
    geometry = calibrate_geometry_per_publisher(held)

    def score(alpha: float) -> float:
        model.load_state_dict(tuned)
        blend(model, champion, alpha)
        curves = pr_over_tau(page_probs(model, held, cfg, device), held, cfg, geometry)
        return max(curves["_all"]["f1"])

    best, scores = choose_alpha(score)
    model.load_state_dict(tuned)
    return best, scores


def recalibrate(checkpoint: str | Path, samples: Sequence[Sample] | None = None, *,
                device: str | torch.device | None = None) -> dict:
    """Re-measure a checkpoint's per-publisher thresholds and layout-geometry priors in place, on annotated
    pages (default: the calibration pages its training generated)."""
    d = Path(checkpoint)
    raw = load_config(d)
    cfg = ArticlesConfig.from_dict(raw["config"])
    dev = pick_device(str(device) if device is not None else None)
    if samples is None:
        samples = calibration_samples(cfg, raw.get("train", {}).get("publishers") or TRAIN_PUBLISHERS)
    model = CutNet(cfg.model.base, cfg.model.depth)
    load_weights(d, model)
    model.to(dev)
    cal = calibrate(model, samples, cfg, dev)
    raw["thresholds"] = {**raw.get("thresholds", {}), **cal["thresholds"]}
    raw["geometry"] = {**raw.get("geometry", {}), **cal["geometry"]}
    (d / CONFIG).write_text(json.dumps(raw, indent=1))
    (d / "calibration.json").write_text(json.dumps(cal["curves"], indent=1))
    return {"thresholds": raw["thresholds"], "geometry": raw["geometry"]}

