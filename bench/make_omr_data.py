"""Pre-generate detector data for machines without music21 / verovio / cairosvg (e.g. a GPU box).

    python bench/make_omr_data.py --out bench/data/omr [--train 48 --eval 8]

Writes ``train/`` (clean renders; training photos are simulated from them on the fly, which needs only
OpenCV) and ``eval/`` (renders and "moderate" photos of them, the truth moved in through the exact
page->photo mapping). Each image is a grey PNG with a sibling JSON {kind, font, piece, page, symbols}.
Evaluation pages come from pieces that training never sees, so the figures are not memorised pages.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml.omr.degrade import degrade  # noqa: E402
from ml.omr.synth import EVAL_PIECES, TRAIN_PIECES, make_page  # noqa: E402
from ml.omr.transfer import map_boxes  # noqa: E402



def _write(folder: Path, name: str, image: np.ndarray, meta: dict, symbols: list[dict]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / f"{name}.png"), image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    syms = [{"class": s["class"], "bbox": [round(float(v), 3) for v in s["bbox"]]} for s in symbols]
    (folder / f"{name}.json").write_text(json.dumps({**meta, "symbols": syms}))
    return (folder / f"{name}.png").stat().st_size


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench/data/omr")
    ap.add_argument("--train", type=int, default=48, help="training renders")
    ap.add_argument("--eval", type=int, default=8, help="evaluation pages (each: a render and a photo)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    out = Path(a.out)
    t0 = time.perf_counter()
    size = 0
    for i in range(a.train):
        page = make_page(a.seed + i, pieces=TRAIN_PIECES)
        meta = {"kind": "render", "font": page.font, "piece": page.piece, "page": page.page}
        size += _write(out / "train", f"r{a.seed + i:05d}", page.image, meta, [s.to_dict() for s in page.symbols])
    for i in range(a.eval):
        seed = a.seed + 5000 + i
        page = make_page(seed, pieces=EVAL_PIECES)
        meta = {"kind": "render", "font": page.font, "piece": page.piece, "page": page.page}
        size += _write(out / "eval", f"r{seed:05d}", page.image, meta, [s.to_dict() for s in page.symbols])
        photo, mapping = degrade(page.image, seed=seed + 10_000, cfg="moderate")
        boxes = map_boxes(page.boxes(), mapping.page_to_photo)
        syms = [{"class": s.cls, "bbox": b.tolist()} for s, b in zip(page.symbols, boxes)]
        size += _write(out / "eval", f"p{seed:05d}", photo, {**meta, "kind": "moderate"}, syms)
    print(json.dumps({"out": str(out), "train": a.train, "eval_pages": a.eval, "png_mib": round(size / 2**20, 2),
                      "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
