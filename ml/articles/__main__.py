"""Command line: ``python -m ml.articles {synth,train,finetune,segment,evaluate}``.

JSON goes to stdout, progress to stderr."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _split(samples, frac=0.15):
    n_val = max(1, int(len(samples) * frac)) if len(samples) > 3 else 0
    return samples[n_val:], samples[:n_val]


def cmd_synth(a) -> int:
    from ml.articles.styles import STYLES, publishers
    from ml.articles.synth import write_dataset

    pubs = a.publisher or publishers(a.publishers)
    unknown = [p for p in pubs if p not in STYLES]
    if unknown:
        _err(f"unknown publisher(s) {unknown}; known: {sorted(STYLES)}")
        return 2
    t = time.perf_counter()
    info = write_dataset(a.out, a.pages, seed=a.seed, publishers=pubs, work_width=a.work_width, full=not a.no_full,
                         non_article_share=a.non_article_share, log=_err)
    info["seconds"] = round(time.perf_counter() - t, 2)
    info["out"] = str(a.out)
    print(json.dumps(info, indent=1))
    return 0


def _config(size, steps=None, max_minutes=None):
    from ml.articles.config import get_config

    cfg = get_config(size)
    if steps:
        cfg.train.steps = steps
    if max_minutes:
        cfg.train.max_minutes = max_minutes
    return cfg


def cmd_train(a) -> int:
    from ml.articles import engine
    from ml.articles.data import load_dir

    cfg = _config(a.size, a.steps, a.max_minutes)
    samples = val = fil = None
    pubs = None
    if a.data:
        allp = load_dir(a.data)
        arts = [s for s in allp if s.page_type == "article"]
        if a.val_data:
            val = [s for s in load_dir(a.val_data) if s.page_type == "article"]
            samples = arts
        else:
            samples, val = _split(arts)
        if sum(s.page_type != "article" for s in allp) >= 10:
            fil = allp
        pubs = sorted({s.publisher for s in allp})
    info = engine.train(samples, a.out, config=cfg, val_samples=val, filter_samples=fil, publishers=pubs,
                        device=a.device, log=_err)
    print(json.dumps(info, indent=1))
    return 0


def cmd_finetune(a) -> int:
    from ml.articles import engine
    from ml.articles.data import load_dir
    from ml.common.checkpoint import load_config

    samples = [s for s in load_dir(a.data) if s.page_type == "article" and (not a.publisher or s.publisher == a.publisher)]
    if not samples:
        _err(f"no article pages in {a.data}" + (f" for publisher {a.publisher}" if a.publisher else ""))
        return 2
    if a.replay:
        replay = [s for s in load_dir(a.replay) if s.page_type == "article"][: a.replay_pages or None]
    else:
        raw = load_config(getattr(a, "from"))
        from ml.articles.config import ArticlesConfig
        cfg = ArticlesConfig.from_json(raw["config"])
        pubs = raw.get("train", {}).get("publishers") or None
        n = a.replay_pages or len(samples)
        replay = engine.synth_samples(max(1, n // max(1, len(pubs or [1] * 5))), pubs or engine.TRAIN_PUBLISHERS,
                                      cfg.train.seed * 10 + 1, cfg.train.work_width)
    info = engine.finetune(getattr(a, "from"), samples, replay, a.out, publisher=a.publisher, steps=a.steps,
                           max_minutes=a.max_minutes, lr=a.lr, replay_fraction=a.replay_fraction, device=a.device,
                           log=_err)
    print(json.dumps(info, indent=1))
    return 0


def cmd_segment(a) -> int:
    import cv2

    from formats.articles.pagexml import to_page_xml
    from ml.articles.predict import Predictor

    img = cv2.imread(str(a.page), cv2.IMREAD_GRAYSCALE)
    if img is None:
        _err(f"cannot read image {a.page}")
        return 2
    pred = Predictor.load(a.checkpoint, a.device)
    t = time.perf_counter()
    p = pred.predict([img], publisher=a.publisher, tau=a.tau)[0]
    out = p.to_json()
    out["seconds"] = round(time.perf_counter() - t, 3)
    if a.page_xml:
        Path(a.page_xml).write_text(to_page_xml({**p.to_annotation(), "articles": p.articles, "cuts": p.cuts},
                                                p.width, p.height, image_filename=Path(a.page).name))
    if a.json:
        print(json.dumps(out, indent=1))
    else:
        print(f"{a.page}: {p.page_type}, {len(p.articles)} articles, {len(p.cuts)} cuts, "
              f"uncertainty {p.uncertainty:.3f} (tau {p.tau})")
    return 0


def cmd_evaluate(a) -> int:
    from ml.articles import engine
    from ml.articles.data import load_dir

    samples = load_dir(a.data, publishers=a.publisher or None)
    res = engine.evaluate(a.checkpoint, samples, plots_dir=a.plots, target_precision=a.precision, device=a.device)
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        o = res.get("overall", {})
        print(f"pages {res['pages']}: cut F1 {o.get('cut', {}).get('f1', float('nan')):.3f}, "
              f"article F1 {o.get('article', {}).get('f1', float('nan')):.3f}, "
              f"median edits {o.get('edits_median')}, filter {res.get('page_filter')}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ml.articles", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth", help="write synthetic pages (300 dpi + working copy + ground truth)")
    s.add_argument("--out", required=True, type=Path)
    s.add_argument("--publishers", type=int, default=5, help="the first N publisher styles")
    s.add_argument("--publisher", action="append", help="a publisher style by name (repeatable)")
    s.add_argument("--pages", type=int, default=50)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--work-width", type=int, default=256, help="working copy width (the cpu preset's)")
    s.add_argument("--non-article-share", type=float, default=0.2)
    s.add_argument("--no-full", action="store_true", help="skip the 300 dpi pages (working copies only)")
    s.set_defaults(fn=cmd_synth)

    t = sub.add_parser("train", help="train the global model (FCN + page filter), calibrate tau per publisher")
    t.add_argument("--data", type=Path, help="a synth directory (default: generate in memory)")
    t.add_argument("--val-data", type=Path)
    t.add_argument("--out", required=True, type=Path)
    t.add_argument("--size", choices=["cpu", "gpu", "tiny"], default=None)
    t.add_argument("--steps", type=int)
    t.add_argument("--max-minutes", type=float)
    t.add_argument("--device")
    t.set_defaults(fn=cmd_train)

    f = sub.add_parser("finetune", help="fine-tune for one publisher with a replay sample")
    f.add_argument("--from", required=True, type=Path)
    f.add_argument("--data", required=True, type=Path)
    f.add_argument("--out", required=True, type=Path)
    f.add_argument("--publisher")
    f.add_argument("--replay", type=Path, help="replay pages (default: synthetic pages of the source publishers)")
    f.add_argument("--replay-pages", type=int)
    f.add_argument("--steps", type=int)
    f.add_argument("--max-minutes", type=float, help="wall-clock budget of the fine-tuning loop")
    f.add_argument("--lr", type=float, help="learning rate (default: the checkpoint's finetune_lr)")
    f.add_argument("--replay-fraction", type=float, help="share of each batch from the replay pages")
    f.add_argument("--device")
    f.set_defaults(fn=cmd_finetune)

    g = sub.add_parser("segment", help="segment one page image")
    g.add_argument("checkpoint", type=Path)
    g.add_argument("page", type=Path)
    g.add_argument("--json", action="store_true")
    g.add_argument("--publisher")
    g.add_argument("--tau", type=float)
    g.add_argument("--page-xml", type=Path, help="also write the result as PAGE XML")
    g.add_argument("--device")
    g.set_defaults(fn=cmd_segment)

    e = sub.add_parser("evaluate", help="metrics on a synth directory, with PNG plots")
    e.add_argument("checkpoint", type=Path)
    e.add_argument("--data", required=True, type=Path)
    e.add_argument("--json", action="store_true")
    e.add_argument("--plots", type=Path, help="directory for PNG plots (default: DATA/plots)")
    e.add_argument("--precision", type=float, help="target cut precision for the tau report")
    e.add_argument("--publisher", action="append")
    e.add_argument("--device")
    e.set_defaults(fn=cmd_evaluate)
    a = ap.parse_args(argv)
    if a.cmd == "evaluate" and a.plots is None:
        a.plots = Path(a.data) / "plots"
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
