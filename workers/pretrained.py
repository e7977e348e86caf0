"""Small pre-trained models shipped with the code, so a new installation proposes something from its first item.

Each one is rebuilt by one command, which trains from the kind's generator, evaluates on held-out generated
data (a seed the training never saw) and prints those figures::

    python -m workers.pretrained build catheter     # 2000 steps, realistic images (cap: --minutes 60)
    python -m workers.pretrained build articles     # 2000 steps, all publishers, half the pages as scans
    python -m workers.pretrained build omr          # the symbol detector, 3000 steps (cap: --minutes 60)
    python -m workers.pretrained calibrate-series   # catheter: the balloon verdict's threshold, on series

Training runs a fixed number of optimiser steps (``--steps``), so the figures do not depend on how busy
the machine is; ``--minutes`` only caps the wall time (the manifest records the steps actually done).

The checkpoint (safetensors + JSON) lands in ``pretrained/<kind>/`` with ``pretrained.json`` beside it: what
it was trained for (preset, scopes), the command, and the held-out figures it printed; ``train.log`` keeps the
training's progress lines. The demo (and any
installation that asks for it) registers it as a scope's first champion instead of bootstrapping one from
scratch; the bootstrap stays for scopes without a shipped model.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent / "pretrained"
MANIFEST = "pretrained.json"
MAX_BYTES = 5 * 1024 * 1024
TRAIN_SEED, HELD_OUT_SEED = 2018, 4242

# What each kind's shipped model is trained on, and which scopes it serves ("*": any scope of the kind).
PLANS: dict[str, dict[str, Any]] = {
    # The generator's "realistic" images (its default, what the demo shows); ``--difficulty easy`` trains and
    # judges on the original generator's images instead.
    "catheter": {"scopes": ["*"], "n_train": 1000, "n_val": 200, "n_held_out": 300, "steps": 2000,
                 "difficulty": "realistic"},
    # One global model for every publisher the generator draws (the demo's and any other: a scope's publisher
    # without its own threshold gets the default), half of its training and calibration pages degraded as
    # scans, since that is what a new user uploads. Held out: pages of every publisher, clean and at the
    # "realistic" scan level, plus non-article pages for the page filter.
    # The symbol detector (the OMR proposal itself, the alignment, needs no model): engravings of the
    # generator's pieces in its five fonts and a simulated phone photo of each; held out: the pieces
    # bench/make_omr_data.py holds out, their renders and photos.
    "omr": {"scopes": ["*"], "pages": 24, "n_held_out": 8, "steps": 3000},
    "articles": {"scopes": ["*"], "pages": 64, "scan_share": 0.5, "n_held_out": 30, "steps": 2000,
                 "held_out_levels": ("clean", "realistic"), "held_out_width": 640},
}
CATHETER_STEPS_PER_EPOCH = 50


def manifest(kind: str, root: Path = ROOT) -> dict[str, Any] | None:
    """The shipped model's manifest for ``kind`` (None when none is shipped)."""
    path = Path(root) / kind / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def serving(kind: str, scope_key: str, size: str, root: Path = ROOT) -> dict[str, Any] | None:
    """The manifest of the shipped model that serves this scope at this model size, if there is one."""
    m = manifest(kind, root)
    if m is None or m.get("preset") != size or not ("*" in m["scopes"] or scope_key in m["scopes"]):
        return None
    return m


def copy_into(kind: str, out_dir: Path, root: Path = ROOT) -> dict[str, Any]:
    """Copy the shipped checkpoint into ``out_dir`` (a run's folder); returns its manifest."""
    source = Path(root) / kind
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            shutil.copy2(path, out_dir / path.name)
    return json.loads((source / MANIFEST).read_text())


LOG = "train.log"
SERIES_LOG = "series.log"
_log_lines: list[str] = []


def _log(line: str) -> None:
    """Progress to stderr, kept for the shipped folder's ``train.log``."""
    _log_lines.append(f"{time.strftime('%H:%M:%S')} {line}")
    print(line, file=sys.stderr, flush=True)


def _catheter_shots(n: int, seed: int, difficulty: str) -> list:
    from ml.catheter.config import SynthConfig
    from ml.catheter.data import synth_samples
    from ml.catheter.recipes import DEFECT_RATE, synth_side

    return synth_samples(seed, n, SynthConfig(size=synth_side("cpu"), defect_rate=DEFECT_RATE, difficulty=difficulty))


def _build_catheter(out: Path, steps: int, minutes: float, plan: dict) -> dict[str, Any]:
    from ml.catheter.config import preset
    from ml.catheter.training import train
    from workers.adapters.catheter import CatheterAdapter

    adapter, cfg = CatheterAdapter(), preset("cpu")
    cfg.train.time_budget_s = minutes * 60.0
    cfg.train.steps_per_epoch = CATHETER_STEPS_PER_EPOCH
    cfg.train.epochs = max(1, -(-steps // CATHETER_STEPS_PER_EPOCH))
    if cfg.flag.objective == "auto":
        cfg.flag.objective = "verdict"
    n_train, n_val = plan["n_train"], plan["n_val"]
    _log(f"generating {n_train + n_val} shots (seed {TRAIN_SEED})")
    samples = _catheter_shots(n_train + n_val, TRAIN_SEED, plan["difficulty"])
    meta = train(samples[:n_train], out, config=cfg, val_samples=samples[n_train:], log=_log)
    del samples
    series = calibrate_catheter_series(out)
    held_out = _catheter_shots(plan["n_held_out"], HELD_OUT_SEED, plan["difficulty"])
    ev = adapter.evaluate(out, held_out, "cpu")
    return {"preset": "cpu", "train": {"shots": n_train, "validation_shots": n_val, "seed": TRAIN_SEED,
                                       "difficulty": plan["difficulty"],
                                       "steps": meta["train"]["steps"], "planned_steps": meta["train"]["planned_steps"],
                                       "validation": meta.get("validation")},
            "held_out": {"seed": HELD_OUT_SEED, "shots": len(held_out), **ev.to_json()},
            "series": {**series, "command": "part of the build"}}


def _articles_held_out(checkpoint: Path, plan: dict) -> dict[str, Any]:
    """Figures on pages no training saw (seed ``HELD_OUT_SEED``), per scan level: all generated publishers in
    turn, a quarter of the pages of other types (the page filter's share)."""
    from ml.articles.evaluation import evaluate
    from ml.articles.scan import LEVELS
    from ml.articles.styles import publishers
    from ml.articles.synth import generate_pages
    from ml.articles.data import Sample

    by_level: dict[str, Any] = {}
    for level in plan["held_out_levels"]:
        pages = generate_pages(plan["n_held_out"], seed=HELD_OUT_SEED, publishers=publishers(),
                               width=plan["held_out_width"], non_article_share=0.25, scan=LEVELS[level])
        res = evaluate(checkpoint, [Sample.from_synth(p) for p in pages], device="cpu", with_curves=False)
        o = res["overall"]
        by_level[level] = {"pages": len(pages), "article_pages": o["pages"], "cut": o["cut"],
                           "article": o["article"], "edits_mean": o["edits_mean"],
                           "no_edit_share": o["no_edit_share"], "page_filter": res.get("page_filter"),
                           "per_publisher": {k: {"pages": v["pages"], "cut_f1": v["cut"]["f1"],
                                                 "article_f1": v["article"]["f1"], "edits_mean": v["edits_mean"],
                                                 "no_edit_share": v["no_edit_share"], "tau": v["tau"]}
                                             for k, v in res["per_publisher"].items()}}
        _log(f"held out, {level}: cut F1 {o['cut']['f1']:.3f} article F1 {o['article']['f1']:.3f} "
             f"edits/page {o['edits_mean']:.2f} edit-free {o['no_edit_share']:.2f}")
    worst = by_level[plan["held_out_levels"][-1]]
    overall = {"pages": worst["article_pages"], "cut_precision": worst["cut"]["precision"],
               "cut_recall": worst["cut"]["recall"], "cut_f1": worst["cut"]["f1"],
               "article_f1": worst["article"]["f1"], "edits_mean": worst["edits_mean"],
               "no_edit_share": worst["no_edit_share"],
               "page_filter_article_recall": (worst["page_filter"] or {}).get("article_recall")}
    return {"seed": HELD_OUT_SEED, "width": plan["held_out_width"], "pages_per_level": plan["n_held_out"],
            "overall_level": plan["held_out_levels"][-1], "overall": overall, "by_level": by_level,
            "primary": "cut_f1"}


def _build_articles(out: Path, steps: int, minutes: float, plan: dict) -> dict[str, Any]:
    from ml.articles.config import preset
    from ml.articles.training import train
    from ml.articles.styles import publishers

    cfg = preset("cpu")
    cfg.train.pages_per_publisher = plan["pages"]
    cfg.train.scan_share = plan["scan_share"]
    cfg.train.steps = steps
    cfg.train.max_minutes = minutes
    cfg.filter.n_trees = 60    # keeps the page filter's arrays (and the whole checkpoint) within a few MB
    pubs = publishers()
    info = train(out=out, config=cfg, publishers=pubs, log=_log)
    return {"preset": "cpu", "train": {"publishers": pubs, "pages_per_publisher": plan["pages"],
                                       "scan_share": plan["scan_share"], "seed": cfg.train.seed,
                                       "steps": info.get("steps"), "planned_steps": steps,
                                       "stopped_early": info.get("stopped_early"),
                                       "train_seconds": info.get("train_seconds")},
            "held_out": _articles_held_out(out, plan)}


def _omr_pages(n: int, seed: int, pieces) -> list:
    """``n`` engravings of ``pieces`` (seeds ``seed``..) followed by one simulated "moderate" photo of each."""
    from ml.omr.data import sample_from_page, with_photos
    from ml.omr.synth import make_page

    renders = []
    for i in range(n):
        page = make_page(seed + i, pieces=pieces)
        renders.append(sample_from_page(page, {"kind": "render", "font": page.font, "piece": page.piece}))
    return with_photos(renders, 1, seed + 10_000)


def _build_omr(out: Path, steps: int, minutes: float, plan: dict) -> dict[str, Any]:
    from dataclasses import replace

    from ml.omr.config import preset
    from ml.omr.evaluation import evaluate
    from ml.omr.synth import EVAL_PIECES, TRAIN_PIECES
    from ml.omr.training import train

    cfg = preset("cpu")
    # the joint stage takes what the plan adds beyond the cpu preset's schedule (the budget may shorten it)
    cfg = replace(cfg, steps=(*cfg.steps[:-1], max(1, steps - sum(cfg.steps[:-1]))))
    _log(f"rendering {plan['pages']} training pages of {len(TRAIN_PIECES)} pieces (seed {TRAIN_SEED}) and photos")
    samples = _omr_pages(plan["pages"], TRAIN_SEED, TRAIN_PIECES)
    meta = train(samples, out, config=cfg, seed=TRAIN_SEED, time_budget_s=minutes * 60.0, log=_log)
    held_out = _omr_pages(plan["n_held_out"], HELD_OUT_SEED, EVAL_PIECES)
    res = evaluate(out, held_out, device="cpu")
    photos, renders = res["slices"].get("kind:moderate", {}), res["slices"].get("kind:render", {})
    _log(f"held out: mAP@0.5 (frequent classes) on photos {photos.get('mAP_frequent')}, on renders "
         f"{renders.get('mAP_frequent')}; rare-class recall {res['overall']['recall_rare']}")
    return {"preset": "cpu", "train": {"pages": plan["pages"], "photos_per_page": 1, "seed": TRAIN_SEED,
                                       "pieces": list(TRAIN_PIECES), "steps": meta["steps_run"],
                                       "planned_steps": list(cfg.steps), "parameters": meta["parameters"],
                                       "train_seconds": round(meta["train_seconds"], 1)},
            "held_out": {"seed": HELD_OUT_SEED, "pieces": list(EVAL_PIECES), "pages": plan["n_held_out"],
                         "overall": res["overall"], "photos": photos, "renders": renders,
                         "slices": res["slices"], "pages_per_s": res["pages_per_s"], "primary": "mAP_frequent",
                         "per_class": {c: v for c, v in res["per_class"].items() if v["support"]}}}


SERIES_BALLOONS = 200   # validation series per length for the balloon threshold, and held-out series per length


def calibrate_catheter_series(folder: Path, balloons: int = SERIES_BALLOONS) -> dict[str, Any]:
    """Calibrate a catheter checkpoint's balloon verdict on generated validation series (per series length,
    the threshold for recall >= 0.98; ``ml.catheter.series``), written into its config in place, then measure
    it on held-out series (seed ``HELD_OUT_SEED``). Returns both for the manifest."""
    from ml.catheter.predict import Predictor
    from ml.catheter.series import calibrate, evaluate
    from ml.common.checkpoint import CONFIG

    predictor = Predictor.load(folder, device="cpu")
    calibration = calibrate(predictor, balloons=balloons, log=_log)
    config = json.loads((folder / CONFIG).read_text())
    config["thresholds"]["series"] = calibration
    (folder / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True))   # as save_checkpoint writes it
    predictor.series_calibration = calibration
    return {"calibration": calibration,
            "held_out": evaluate(predictor, seed=HELD_OUT_SEED, balloons=balloons, log=_log)}


BUILDERS = {"catheter": _build_catheter, "articles": _build_articles, "omr": _build_omr}


def build(kind: str, steps: int | None = None, minutes: float = 60.0, root: Path = ROOT,
          difficulty: str | None = None) -> dict[str, Any]:
    plan = dict(PLANS[kind], **({"difficulty": difficulty} if difficulty else {}))
    steps = steps or plan["steps"]
    out = root / kind
    tmp = root / f".tmp-{kind}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    t0 = time.perf_counter()
    _log_lines.clear()
    figures = BUILDERS[kind](tmp, steps, minutes, plan)
    size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
    if size > MAX_BYTES:
        raise SystemExit(f"{kind}: checkpoint is {size} bytes, over the {MAX_BYTES} shipped limit")
    # A run the wall-time cap stopped early is reproduced by the steps it did, not the ones it planned.
    done = (figures.get("train") or {}).get("steps") if (figures.get("train") or {}).get("stopped_early") else None
    info = {"kind": kind, "scopes": plan["scopes"],
            "command": f"python -m workers.pretrained build {kind} "
                       f"--steps {done or steps} --minutes {minutes:g}"
                       + (f" --difficulty {difficulty}" if difficulty else ""),
            "minutes": minutes, "seconds": round(time.perf_counter() - t0, 1),
            "bytes": size, **figures}
    (tmp / MANIFEST).write_text(json.dumps(info, indent=1, default=float))
    (tmp / LOG).write_text("\n".join(_log_lines) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.pretrained", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="train a kind's shipped model and print its held-out figures")
    b.add_argument("kind", choices=sorted(BUILDERS))
    b.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the kind's plan)")
    b.add_argument("--minutes", type=float, default=60.0, help="cap on the training's wall time")
    b.add_argument("--root", default=str(ROOT))
    b.add_argument("--difficulty", choices=("easy", "realistic", "hard"), default=None,
                   help="catheter: the generator's difficulty (default: the plan's, realistic)")
    c = sub.add_parser("calibrate-series", help="catheter: calibrate the shipped model's balloon verdict on "
                                               "validation series and measure it on held-out series, in place")
    c.add_argument("--balloons", type=int, default=SERIES_BALLOONS)
    c.add_argument("--root", default=str(ROOT))
    e = sub.add_parser("evaluate", help="articles: measure a checkpoint (default: the shipped one) on the held-out "
                                        "pages again and record the figures in its pretrained.json")
    e.add_argument("kind", choices=["articles"])
    e.add_argument("--pages", type=int, default=PLANS["articles"]["n_held_out"], help="pages per scan level")
    e.add_argument("--root", default=str(ROOT))
    args = parser.parse_args(argv)
    if args.command == "evaluate":
        folder = Path(args.root) / args.kind
        info = json.loads((folder / MANIFEST).read_text())
        info["held_out"] = _articles_held_out(folder, {**PLANS["articles"], "n_held_out": args.pages})
        (folder / MANIFEST).write_text(json.dumps(info, indent=1, default=float))
        print(json.dumps(info["held_out"], indent=1, default=float))
        return 0
    if args.command == "calibrate-series":
        folder = Path(args.root) / "catheter"
        info = json.loads((folder / MANIFEST).read_text())
        _log_lines.clear()
        info["series"] = calibrate_catheter_series(folder, args.balloons)
        info["series"]["command"] = f"python -m workers.pretrained calibrate-series --balloons {args.balloons}"
        (folder / MANIFEST).write_text(json.dumps(info, indent=1, default=float))
        (folder / SERIES_LOG).write_text("\n".join(_log_lines) + "\n")
        print(json.dumps(info["series"], indent=1, default=float))
        return 0
    info = build(args.kind, args.steps, args.minutes, Path(args.root), args.difficulty)
    print(json.dumps({"kind": info["kind"], "bytes": info["bytes"], "seconds": info["seconds"],
                      "train": info["train"], "held_out": info["held_out"]}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
