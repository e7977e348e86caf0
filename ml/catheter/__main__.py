"""Command line: synth, train, predict, evaluate.

    python -m ml.catheter synth --out DIR --n N --seed S [--difficulty easy|realistic|hard] [--label-noise P]
                                [--realism contrast_scale=0.5 ...] [--defect-rate R] [--series-len K] [--size 512]
    python -m ml.catheter train --data DIR --out CKPT [--epochs E] [--preset cpu|gpu] [--loss focal] [--oversample P]
    python -m ml.catheter predict CKPT IMAGE... --json [--saliency DIR]
    python -m ml.catheter evaluate CKPT --data DIR --json [--plots DIR] [--adv-n N]
    python -m ml.catheter evaluate CKPT --difficulties easy,realistic,hard [--n 600 --seed 2] [--plots DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _overrides(pairs: list[str]) -> tuple[tuple[str, float], ...]:
    out = []
    for p in pairs or []:
        key, sep, value = p.partition("=")
        if not sep:
            raise SystemExit(f"--realism expects NAME=VALUE, got {p!r}")
        try:
            out.append((key, float(value)))
        except ValueError:
            raise SystemExit(f"--realism {key}: {value!r} is not a number") from None
    return tuple(out)


def _synth(a) -> int:
    from ml.catheter.synth import SynthConfig, write_dataset

    cfg = SynthConfig(size=a.size, defect_rate=a.defect_rate, series_len=a.series_len, difficulty=a.difficulty,
                      overrides=_overrides(a.realism), label_noise=a.label_noise)
    try:
        cfg.realism()
    except ValueError as e:
        raise SystemExit(str(e)) from None
    t = time.perf_counter()
    write_dataset(a.out, a.n, a.seed, cfg)
    print(f"wrote {a.n} images ({a.size}x{a.size}, {a.difficulty}, defect rate {a.defect_rate}, label noise "
          f"{a.label_noise}, series of {a.series_len}) to {a.out} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return 0


def _train(a) -> int:
    from ml.catheter.config import preset
    from ml.catheter.data import load_dir
    from ml.catheter.training import train
    from ml.common.trainer import FunctionCallback

    cfg = preset(a.preset)
    if a.epochs:
        cfg.train.epochs = a.epochs
    if a.steps_per_epoch:
        cfg.train.steps_per_epoch = a.steps_per_epoch
    if a.time_budget is not None:
        cfg.train.time_budget_s = a.time_budget
    if a.loss:
        cfg.train.image_loss = cfg.train.pixel_loss = a.loss
    if a.oversample is not None:
        cfg.train.oversample = a.oversample
    if a.flag_objective:
        cfg.flag.objective = a.flag_objective
    samples = load_dir(a.data, limit=a.limit)
    val = load_dir(a.val_data) if a.val_data else None
    every = max(1, a.log_every)

    def progress(p):
        print(f"step {p.step}/{p.total_steps} loss={p.loss:.4f} eta={p.eta_s:.0f}s", file=sys.stderr, flush=True)

    cb = FunctionCallback(on_step=progress, every=every)
    t = time.perf_counter()
    meta = train(samples, a.out, config=cfg, val_samples=val, callbacks=[cb], device=a.device,
                 log=lambda s: print(s, file=sys.stderr, flush=True))
    print(json.dumps({"checkpoint": a.out, "seconds": round(time.perf_counter() - t, 1),
                      "thresholds": meta["thresholds"], "flag": meta["flag"], "validation": meta.get("validation")}))
    return 0


def _predict(a) -> int:
    import numpy as np

    from ml.catheter.data import read_image
    from ml.catheter.predict import Predictor
    from ml.catheter.saliency import save_overlay

    pred = Predictor.load(a.checkpoint, device=a.device)
    images = [read_image(p) for p in a.images]
    preds = pred.predict(images, batch_size=a.batch_size, saliency=bool(a.saliency))
    if a.saliency:
        Path(a.saliency).mkdir(parents=True, exist_ok=True)
    for path, img, p in zip(a.images, images, preds):
        rec = {"image": str(path), **p.to_json()}
        if a.saliency:
            stem = Path(path).stem
            np.save(Path(a.saliency) / f"{stem}_saliency.npy", p.saliency)
            save_overlay(Path(a.saliency) / f"{stem}_saliency.png", img, p.saliency,
                         boxes=[[b.x0, b.y0, b.x1, b.y1] for b in p.boxes])
            rec["saliency_png"] = str(Path(a.saliency) / f"{stem}_saliency.png")
        if a.json:
            print(json.dumps(rec))
        else:
            types = ",".join(p.types) or "-"
            print(f"{path}: {p.verdict} score={p.score:.3f} types={types} boxes={len(p.boxes)} "
                  f"entropy={p.entropy:.3f}{' FLAGGED' if p.flagged else ''}")
    return 0


def _evaluate(a) -> int:
    from ml.catheter.data import load_dir
    from ml.catheter.evaluation import evaluate
    from ml.common.plots import plots_folder

    if a.difficulties:
        return _evaluate_difficulties(a)
    if not a.data:
        raise SystemExit("evaluate needs --data DIR or --difficulties LIST")
    samples = load_dir(a.data, limit=a.limit)
    plots = plots_folder(a.plots, "catheter")
    res = evaluate(a.checkpoint, samples, device=a.device, plots_dir=plots, adv_n=a.adv_n,
                   pointing_n=a.pointing_n, log=lambda s: print(s, file=sys.stderr, flush=True))
    if a.json:
        print(json.dumps(res))
    else:
        v = res["verdict"]
        print(f"n={res['n']} defective={res['n_defective']} AUROC={v['auroc']:.4f} AP={v['average_precision']:.4f} "
              f"recall@P0.9={v['recall_at_precision_0.90']:.4f} pointing={res['pointing_game']['score']} "
              f"flag AUROC(4/255)={res['flag']['fgsm'].get('4/255', {}).get('auroc')} plots in {plots}")
    return 0


def _evaluate_difficulties(a) -> int:
    from ml.catheter.config import DIFFICULTIES
    from ml.catheter.difficulty import evaluate_difficulties
    from ml.common.plots import plots_folder

    names = [d.strip() for d in a.difficulties.split(",") if d.strip()]
    bad = [d for d in names if d not in DIFFICULTIES]
    if bad:
        raise SystemExit(f"--difficulties: unknown {bad}; expected some of {DIFFICULTIES}")
    plots = plots_folder(a.plots, "catheter")
    res = evaluate_difficulties(a.checkpoint, names, n=a.n, seed=a.seed, size=a.size, device=a.device,
                                plots_dir=plots, log=lambda s: print(s, file=sys.stderr, flush=True))
    if a.json:
        print(json.dumps(res))
    else:
        print(f"{'difficulty':<10} {'n':>5} {'defective':>9} {'AUROC':>7} {'AP':>7} {'recall@P0.90':>12} "
              f"{'flag AUROC 4/255':>16} {'false flags':>11}")
        for name, r in res["by_difficulty"].items():
            print(f"{name:<10} {r['n']:>5} {r['n_defective']:>9} {r['auroc']:>7.4f} {r['average_precision']:>7.4f} "
                  f"{r['recall_at_precision_0.90']:>12.4f} {r['flag_auroc_fgsm_4']:>16.4f} "
                  f"{r['false_flag_rate']:>11.4f}")
        print(f"plot: {res['plot']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ml.catheter", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth", help="write a deterministic synthetic dataset")
    s.add_argument("--out", required=True)
    s.add_argument("--n", type=int, required=True, help="number of images (shots)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=512)
    s.add_argument("--defect-rate", type=float, default=0.15)
    s.add_argument("--series-len", type=int, default=1)
    s.add_argument("--difficulty", choices=("easy", "realistic", "hard"), default="realistic",
                   help="easy: the original clean generator; realistic (default); hard")
    s.add_argument("--realism", nargs="*", default=[], metavar="NAME=VALUE",
                   help="override a continuous parameter of the difficulty, e.g. contrast_scale=0.5 decoys=3")
    s.add_argument("--label-noise", type=float, default=0.0,
                   help="training data only: share of small defects left out of the annotation")
    s.set_defaults(fn=_synth)
    t = sub.add_parser("train", help="train a model from scratch on a dataset directory")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--val-data", default=None, help="validation directory (default: 15%% of --data by series)")
    t.add_argument("--epochs", type=int, default=None)
    t.add_argument("--steps-per-epoch", type=int, default=None)
    t.add_argument("--time-budget", type=float, default=None, help="training wall-clock budget in seconds (0: none)")
    t.add_argument("--preset", choices=("cpu", "gpu", "tiny"), default=None, help="default: from the device")
    t.add_argument("--loss", choices=("bce", "weighted", "focal"), default=None)
    t.add_argument("--oversample", type=float, default=None)
    t.add_argument("--flag-objective", choices=("auto", "verdict", "map"), default=None)
    t.add_argument("--limit", type=int, default=None)
    t.add_argument("--device", default=None)
    t.add_argument("--log-every", type=int, default=20)
    t.set_defaults(fn=_train)
    p = sub.add_parser("predict", help="predict images with a checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("images", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON object per image (one per line)")
    p.add_argument("--saliency", default=None, help="directory for saliency arrays (.npy) and overlays (.png)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--device", default=None)
    p.set_defaults(fn=_predict)
    e = sub.add_parser("evaluate", help="metrics and plots of a checkpoint on a held-out dataset")
    e.add_argument("checkpoint")
    e.add_argument("--data", default=None, help="a dataset directory (or use --difficulties)")
    e.add_argument("--difficulties", default=None,
                   help="comma list (easy,realistic,hard): generate a test set per difficulty in memory, report "
                        "recall at precision 0.90 and flag AUROC per difficulty, plot recall against defect contrast")
    e.add_argument("--n", type=int, default=600, help="with --difficulties: shots per difficulty")
    e.add_argument("--seed", type=int, default=2, help="with --difficulties: generator seed (not a training seed)")
    e.add_argument("--size", type=int, default=512, help="with --difficulties: image side")
    e.add_argument("--json", action="store_true")
    e.add_argument("--plots", default=None,
                   help="directory for PNG plots (default: a new temporary folder, named on stderr)")
    e.add_argument("--adv-n", type=int, default=200, help="images attacked with FGSM for the flag figures")
    e.add_argument("--pointing-n", type=int, default=200)
    e.add_argument("--limit", type=int, default=None)
    e.add_argument("--device", default=None)
    e.set_defaults(fn=_evaluate)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    raise SystemExit(main())
