"""Command line: python -m ml.omr {render,degrade,align,transfer,synth,train-detector,detect,evaluate} ..."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def _read_gray(path: str) -> np.ndarray:
    import cv2   # not PIL: a GPU machine may have OpenCV alone

    p = Path(path)
    if not p.exists():
        raise SystemExit(f"error: no such image: {path}")
    img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise SystemExit(f"error: not an image: {path}")
    return img


def cmd_render(a) -> int:
    from ml.omr.config import RenderConfig
    from ml.omr.render import render_piece, write_pages

    cfg = RenderConfig(dpi=a.dpi, font=a.font)
    pages = render_piece(a.piece, cfg, max_pages=a.max_pages)
    if a.page:
        pages = [p for p in pages if p.page == a.page]
        if not pages:
            raise SystemExit(f"error: {a.piece} has no page {a.page}")
    info = write_pages(pages, a.out)
    print(json.dumps({"out": str(a.out), **info}))
    return 0


def cmd_degrade(a) -> int:
    from PIL import Image

    from ml.omr.config import DEGRADE_PRESETS
    from ml.omr.degrade import degrade
    from ml.omr.render import load_page
    from ml.omr.transfer import map_boxes

    if a.preset not in DEGRADE_PRESETS:
        raise SystemExit(f"error: --preset must be one of {sorted(DEGRADE_PRESETS)}")
    page = load_page(a.page)
    photo, mapping = degrade(page.image, seed=a.seed, cfg=a.preset)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(a.page).stem
    Image.fromarray(photo).save(out / f"{stem}.photo.png", compress_level=3)
    truth = {"mapping": mapping.to_dict(), "seed": a.seed, "preset": a.preset, "page": str(a.page)}
    if page.symbols:
        boxes = map_boxes(page.boxes(), mapping.page_to_photo)
        truth["symbols"] = [{"class": s.cls, "bbox": [round(float(v), 3) for v in b]}
                            for s, b in zip(page.symbols, boxes)]
    (out / f"{stem}.photo.json").write_text(json.dumps(truth))
    print(json.dumps({"photo": str(out / f"{stem}.photo.png"), "truth": str(out / f"{stem}.photo.json"),
                      "homography": mapping.homography.tolist(), "curl": truth["mapping"]["curl"]}))
    return 0


def cmd_align(a) -> int:
    from ml.omr.align import Aligner, homography_from_points
    from ml.omr.config import AlignConfig

    original, photo = _read_gray(a.original), _read_gray(a.photo)
    cfg = AlignConfig(mode=a.mode, ecc=a.ecc, estimator=a.estimator)
    aligner = Aligner(cfg)
    if a.points:
        pairs = json.loads(Path(a.points).read_text())
        result = homography_from_points(pairs, original, photo, refine=not a.no_refine, aligner=aligner)
    else:
        result = aligner.align(original, photo)
    payload = result.to_json()
    payload["annotation"] = result.to_annotation()
    if a.json:
        print(json.dumps(payload))
    else:
        m = result.metrics
        print(f"verdict: {result.verdict} {result.reasons}")
        print(f"inliers: {m.get('inliers')} ratio {m.get('inlier_ratio', 0):.2f}  ncc median {m.get('ncc_median')}"
              f"  shift max {m.get('system_shift_max')}  time {m.get('timings', {}).get('total_ms')} ms")
        print("homography:", json.dumps(payload["homography"]))
    return 0 if result.verdict != "reject" or a.json else 1


def cmd_transfer(a) -> int:
    from ml.omr.align import Aligner
    from ml.omr.render import load_page
    from ml.omr.transfer import transfer

    page = load_page(a.original)
    if not page.symbols:
        raise SystemExit(f"error: {a.original} has no sibling JSON with symbols (write it with `render`)")
    photo = _read_gray(a.photo)
    if a.homography:
        h = np.asarray(json.loads(Path(a.homography).read_text())["homography"], dtype=np.float64)
        verdict = "given"
    else:
        al = Aligner().align(page.image, photo, mode=a.mode)
        if al.homography is None:
            raise SystemExit(f"error: alignment failed: {al.reasons}")
        h, verdict = al.homography, al.verdict
    symbols, report = transfer(page.symbols, h, photo, original=page.image)
    print(json.dumps({"verdict": verdict, "report": report, "symbols": symbols if a.symbols else len(symbols)}))
    if a.deepscores or a.coco:
        _write_photo_exports(a, page, h, photo, transfer)
    return 0


def _write_photo_exports(a, page, h, photo, transfer) -> None:
    """The photo-side boxes in DeepScoresV2 JSON and COCO (DS2 classes and ids): each symbol is named on
    the original, where the staff lines are straight, then moved into the photo."""
    from formats.omr import deepscores
    from ml.omr.render import page_record

    named = [{"class": name, "bbox": box}
             for name, box in deepscores.ds2_symbols(page_record(page, Path(a.original).name))]
    moved, _ = transfer(named, h, photo)
    record = {"id": 1, "file_name": Path(a.photo).name, "width": photo.shape[1], "height": photo.shape[0],
              "symbols": [{"class": s["class"], "ds2": s["class"], "bbox": s["bbox"]} for s in moved]}
    for path, write in ((a.deepscores, deepscores.to_deepscores), (a.coco, deepscores.to_coco)):
        if path:
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(write([record]))


def cmd_synth(a) -> int:
    from ml.omr.synth import write_pairs

    index = write_pairs(a.out, a.n, kinds=tuple(a.kinds.split(",")), seed=a.seed)
    print(json.dumps({"out": a.out, "pairs": len(index)}))
    return 0


def _progress():
    from ml.common.trainer import FunctionCallback

    def show(p):
        print(f"step {p.step}/{p.total_steps} stage {int(p.logs.get('stage', 0))} loss {p.loss:.4f} "
              f"cls {p.logs.get('loss_cls', 0):.3f} energy {p.logs.get('loss_energy', 0):.3f} "
              f"box {p.logs.get('loss_box', 0):.3f} eta {p.eta_s:.0f}s", flush=True)

    return FunctionCallback(on_step=show, every=25)


def cmd_train(a) -> int:
    from dataclasses import replace

    from ml.omr.config import preset
    from ml.omr.data import load_dir, synthetic_samples, with_photos
    from ml.omr.training import train

    cfg = preset(a.size)
    if a.steps:
        cfg = replace(cfg, steps=tuple(int(v) for v in a.steps.split(",")))
    if a.crop:
        cfg = replace(cfg, crop=a.crop)
    if a.batch_size:
        cfg = replace(cfg, batch_size=a.batch_size)
    if a.margin_share is not None:
        cfg = replace(cfg, margin_share=a.margin_share)
    if a.data:
        samples = load_dir(a.data)[: a.pages or None]
        if not samples:
            raise ValueError(f"no samples in {a.data}")
        samples = with_photos(samples, a.photos, seed=a.seed + 10_000, workers=a.workers)
    else:
        samples = synthetic_samples(a.pages or 12, seed=a.seed)
    meta = train(samples, a.out, config=cfg, callbacks=[_progress()], seed=a.seed, device=a.device,
                 use_margin=not a.no_margin, time_budget_s=a.time_budget, workers=a.workers)
    print(json.dumps({k: v for k, v in meta.items() if k not in ("class_counts",)}, default=float))
    return 0


def cmd_detect(a) -> int:
    from ml.omr.predict import Predictor

    pred = Predictor.load(a.checkpoint, device=a.device)
    result = pred.predict([_read_gray(a.image)])[0]
    if a.json:
        print(json.dumps(result.to_json()))
    else:
        from collections import Counter

        print(f"{len(result.detections)} symbols, uncertainty {result.uncertainty:.3f}")
        print(dict(Counter(d.cls for d in result.detections).most_common()))
    return 0


def cmd_evaluate(a) -> int:
    from ml.omr.data import load_dir, synthetic_samples
    from ml.omr.evaluation import evaluate

    samples = load_dir(a.data) if a.data else synthetic_samples(a.pages, seed=a.seed)
    if not samples:
        raise ValueError(f"no samples in {a.data}")
    report = evaluate(a.checkpoint, samples, device=a.device)
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=1, default=float))
    print(json.dumps({"overall": report["overall"], "slices": report["slices"],
                      "pages_per_s": report["pages_per_s"]}, default=float))
    if a.per_class:
        for c in report["frequent_classes"] + report["rare_classes"]:
            v = report["per_class"].get(c, {})
            if v.get("support"):
                print(f"{c:24s} support {v['support']:5d}  AP {v['ap']:.3f}  recall {v['recall']:.3f}"
                      f"{'  (rare)' if c in report['rare_classes'] else ''}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ml.omr",
                                 description="OMR ground truth: render, degrade, align, detect")
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("render", help="engrave a piece: PNG + JSON per page, deepscores.json, coco.json")
    p.add_argument("--piece", required=True, help="music21 corpus name (bach/bwv66.6) or a MusicXML file")
    p.add_argument("--dpi", type=float, default=150.0)
    p.add_argument("--font", default="Leipzig")
    p.add_argument("--page", type=int, default=0, help="only this page (1-based)")
    p.add_argument("--max-pages", type=int, default=None)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_render)

    p = sub.add_parser("degrade", help="simulate a phone photo of a page; writes the photo and the exact mapping")
    p.add_argument("page")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", default="moderate", help="clean | moderate | curl | partial")
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_degrade)

    p = sub.add_parser("align", help="align a photo with its original; verdict accept/review/reject")
    p.add_argument("original")
    p.add_argument("photo")
    p.add_argument("--mode", choices=("fast", "precise"), default="fast")
    p.add_argument("--ecc", action="store_true", help="precise mode: ECC refinement on the ink")
    p.add_argument("--estimator", choices=("magsac", "ransac"), default="magsac")
    p.add_argument("--points", help="JSON file with operator point pairs [[[xo, yo], [xp, yp]], ...]")
    p.add_argument("--no-refine", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_align)

    p = sub.add_parser("transfer", help="move the original's symbol boxes into the photo")
    p.add_argument("original")
    p.add_argument("photo")
    p.add_argument("--homography", help="JSON with a 'homography' (e.g. the output of align --json)")
    p.add_argument("--mode", choices=("fast", "precise"), default="fast")
    p.add_argument("--symbols", action="store_true", help="print the symbols, not only their count")
    p.add_argument("--deepscores", help="write the photo-side boxes here as DeepScoresV2 JSON")
    p.add_argument("--coco", help="write the photo-side boxes here as COCO (DeepScoresV2 classes and ids)")
    p.set_defaults(fn=cmd_transfer)

    p = sub.add_parser("synth", help="write generated pairs with their truth")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--kinds", default="moderate")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(fn=cmd_synth)

    p = sub.add_parser("train-detector", help="train the Deep-Watershed detector (staged schedule)")
    p.add_argument("--out", required=True)
    p.add_argument("--pages", type=int, default=0,
                   help="synthetic pages (each: a render and a photo; default 12), or the first N of --data")
    p.add_argument("--data", help="a directory of pages with truth (render / synth / bench/make_omr_data.py)")
    p.add_argument("--photos", type=int, default=1, help="with --data: simulated photos per page added")
    p.add_argument("--workers", type=int, default=1, help="processes preparing pages (photos, targets)")
    p.add_argument("--time-budget", type=float, default=0,
                   help="seconds: shrink the later stages when the first one shows they would not fit (0 = off)")
    p.add_argument("--size", choices=("cpu", "gpu"), default=None)
    p.add_argument("--steps", help="five comma-separated stage lengths")
    p.add_argument("--crop", type=int, default=0, help="training crop side (default: the preset's)")
    p.add_argument("--batch-size", type=int, default=0, help="crops per step (default: the preset's)")
    p.add_argument("--no-margin", action="store_true", help="no rare-symbol patches in a margin strip")
    p.add_argument("--margin-share", type=float, default=None, help="share of crops cut from the margin strip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None)
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("detect", help="detect symbols in an image")
    p.add_argument("checkpoint")
    p.add_argument("image")
    p.add_argument("--json", action="store_true")
    p.add_argument("--device", default=None)
    p.set_defaults(fn=cmd_detect)

    p = sub.add_parser("evaluate", help="mAP@0.5 (frequent classes), rare recall, per slice")
    p.add_argument("checkpoint")
    p.add_argument("--pages", type=int, default=6)
    p.add_argument("--seed", type=int, default=5000)
    p.add_argument("--data")
    p.add_argument("--out")
    p.add_argument("--per-class", action="store_true", help="also print AP and recall per class")
    p.add_argument("--device", default=None)
    p.set_defaults(fn=cmd_evaluate)

    a = ap.parse_args(argv)
    try:
        return a.fn(a)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
