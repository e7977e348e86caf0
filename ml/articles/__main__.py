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
    from ml.articles.scan import LEVELS

    try:
        scan = LEVELS[a.scan] if a.scan in LEVELS else float(a.scan)
    except ValueError:
        _err(f"--scan: {a.scan!r} is neither a level ({', '.join(LEVELS)}) nor a strength")
        return 2
    info = write_dataset(a.out, a.pages, seed=a.seed, publishers=pubs, work_width=a.work_width, full=not a.no_full,
                         non_article_share=a.non_article_share, log=_err, scan=scan)
    info["seconds"] = round(time.perf_counter() - t, 2)
    info["out"] = str(a.out)
    print(json.dumps(info, indent=1))
    return 0


def _config(size, steps=None, max_minutes=None):
    from ml.articles.config import preset

    cfg = preset(size)
    if steps:
        cfg.train.steps = steps
    if max_minutes:
        cfg.train.max_minutes = max_minutes
    return cfg


def cmd_train(a) -> int:
    from ml.articles.data import load_dir
    from ml.articles.training import train

    cfg = _config(a.size, a.steps, a.max_minutes)
    if a.scan_share is not None:
        cfg.train.scan_share = a.scan_share
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
    info = train(samples, a.out, config=cfg, val_samples=val, filter_samples=fil, publishers=pubs,
                 device=a.device, log=_err)
    print(json.dumps(info, indent=1))
    return 0


def cmd_finetune(a) -> int:
    from ml.articles.data import load_dir, synth_samples
    from ml.articles.styles import TRAIN_PUBLISHERS
    from ml.articles.training import finetune
    from ml.common.checkpoint import load_config

    samples = [s for s in load_dir(a.data)
               if s.page_type == "article" and (not a.publisher or s.publisher == a.publisher)]
    if not samples:
        _err(f"no article pages in {a.data}" + (f" for publisher {a.publisher}" if a.publisher else ""))
        return 2
    if a.replay:
        replay = [s for s in load_dir(a.replay) if s.page_type == "article"][: a.replay_pages or None]
    else:
        raw = load_config(getattr(a, "from"))
        from ml.articles.config import ArticlesConfig
        cfg = ArticlesConfig.from_dict(raw["config"])
        pubs = raw.get("train", {}).get("publishers") or None
        n = a.replay_pages or len(samples)
        replay = synth_samples(max(1, n // max(1, len(pubs or [1] * 5))), pubs or TRAIN_PUBLISHERS,
                               cfg.train.seed * 10 + 1, cfg.train.work_width)
    info = finetune(getattr(a, "from"), samples, replay, a.out, publisher=a.publisher, steps=a.steps,
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


def _post_overrides(a) -> dict:
    post = {}
    if a.no_flatten:
        post["flatten"] = False
    if a.no_deskew:
        post["deskew"] = False
    return post


def cmd_evaluate(a) -> int:
    from ml.articles.data import load_dir
    from ml.articles.evaluation import evaluate
    from ml.common.plots import plots_folder

    if a.scan_levels:
        return _evaluate_scans(a)
    if not a.data:
        _err("evaluate needs --data DIR or --scan-levels LIST")
        return 2
    samples = load_dir(a.data, publishers=a.publisher or None)
    res = evaluate(a.checkpoint, samples, plots_dir=plots_folder(a.plots, "articles"), target_precision=a.precision,
                   device=a.device, post=_post_overrides(a))
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        o = res.get("overall", {})
        print(f"pages {res['pages']}: cut F1 {o.get('cut', {}).get('f1', float('nan')):.3f}, "
              f"article F1 {o.get('article', {}).get('f1', float('nan')):.3f}, "
              f"median edits {o.get('edits_median')}, filter {res.get('page_filter')}")
    return 0


def _evaluate_scans(a) -> int:
    from ml.articles.degradation import evaluate_scans
    from ml.articles.scan import LEVELS
    from ml.common.plots import plots_folder

    levels: list = []
    for item in a.scan_levels.split(","):
        item = item.strip()
        try:
            levels.append(item if item in LEVELS else float(item))
        except ValueError:
            _err(f"--scan-levels: {item!r} is neither a level ({', '.join(LEVELS)}) nor a strength")
            return 2
    plots = plots_folder(a.plots, "articles")
    res = evaluate_scans(a.checkpoint, levels, n_pages=a.pages, seed=a.seed, width=a.width, post=_post_overrides(a),
                         publishers=a.publisher or None, device=a.device, plots_dir=plots, log=_err)
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        print(f"{'level':<10} {'strength':>8} {'cut P':>6} {'cut R':>6} {'cut F1':>6} {'art F1':>6} {'edits/page':>10} "
              f"{'no edit':>7}")
        for name, r in res["by_level"].items():
            print(f"{name:<10} {r['strength']:>8.2f} {r['cut']['precision']:>6.3f} {r['cut']['recall']:>6.3f} "
                  f"{r['cut']['f1']:>6.3f} {r['article']['f1']:>6.3f} {r['edits_mean']:>10.2f} "
                  f"{r['no_edit_share']:>7.2f}")
        print(f"plot: {res['plot']}")
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
    s.add_argument("--scan", default="0", help="degrade the pages as scans: a level (light, realistic, heavy) or "
                                              "a strength (0 clean, 1 realistic: skew up to 1.5 degrees)")
    s.set_defaults(fn=cmd_synth)

    t = sub.add_parser("train", help="train the global model (FCN + page filter), calibrate tau per publisher")
    t.add_argument("--data", type=Path, help="a synth directory (default: generate in memory)")
    t.add_argument("--val-data", type=Path)
    t.add_argument("--out", required=True, type=Path)
    t.add_argument("--size", choices=["cpu", "gpu", "tiny"], default=None)
    t.add_argument("--steps", type=int)
    t.add_argument("--max-minutes", type=float)
    t.add_argument("--scan-share", type=float,
                   help="share of generated pages degraded as scans (default: the preset's)")
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
    e.add_argument("--data", type=Path, help="a synth directory (or use --scan-levels)")
    e.add_argument("--scan-levels", help="comma list of scan levels (clean, light, realistic, heavy) or strengths: "
                                         "render --pages article pages per level in memory, report cut F1 and "
                                         "edits per page per level, plot cut F1 against scan strength")
    e.add_argument("--pages", type=int, default=40, help="with --scan-levels: pages per level")
    e.add_argument("--seed", type=int, default=777, help="with --scan-levels: generator seed")
    e.add_argument("--width", type=int, default=640, help="with --scan-levels: page width rendered")
    e.add_argument("--no-flatten", action="store_true", help="ablation: segment without flattening the paper")
    e.add_argument("--no-deskew", action="store_true", help="ablation: segment without deskewing")
    e.add_argument("--json", action="store_true")
    e.add_argument("--plots", type=Path,
                   help="directory for PNG plots (default: a new temporary folder, named on stderr)")
    e.add_argument("--precision", type=float, help="target cut precision for the tau report")
    e.add_argument("--publisher", action="append")
    e.add_argument("--device")
    e.set_defaults(fn=cmd_evaluate)
    a = ap.parse_args(argv)
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
