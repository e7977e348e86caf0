"""What the operator simulation streams per kind: a shift the shipped champion has not seen, the files of each
item as a customer uploads them, the generator's exact truth (what a careful operator ends at), and how good
a proposal was against it.

Items are deterministic for (kind, seed, index) and kept on disk once made (``LOUPE_CACHE_DIR``, default
``~/.cache/loupe``): generating an articles page at scan quality takes seconds on this CPU.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

Files = list[tuple[str, bytes]]

# Golden items come from another seed than the stream's, so the two never share an item.
GOLDEN_SEED_OFFSET = 1000


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


@dataclass(frozen=True)
class Shift:
    kind: str
    scope_key: str        # the loop project's scope; the frozen project serves the kind's global scope
    grouping: str         # the upload's grouping of files into items
    description: str
    quality: tuple[str, ...]   # the figures the learning curve plots beside the edits
    make: Callable[[int, int], tuple[Files, dict]]       # (seed, index) -> (files, truth)
    counts: Callable[[dict | None, dict, int], dict]     # (proposal, truth, page width) -> counts
    figures: Callable[[list[dict]], dict]                # counts of a block -> its figures
    # the loop-off project's scope: the kind's global one, or one that gets the same defaults as the shift's
    # scope before it learns (articles: a publisher the champion has no threshold or layout prior for)
    frozen_scope_key: str = ""

    def item(self, seed: int, index: int, golden: bool = False) -> tuple[Files, dict]:
        """The files (named so that the upload's grouping makes one item of them) and the truth."""
        seed = seed + GOLDEN_SEED_OFFSET if golden else seed
        key = hashlib.sha256(f"{self.kind}|{self.scope_key}|{self.description}|{seed}|{index}".encode()).hexdigest()
        folder = Path(os.environ.get("LOUPE_CACHE_DIR", Path.home() / ".cache" / "loupe")) / "operator-sim" / key[:16]
        if (folder / "truth.json").is_file():
            names = json.loads((folder / "files.json").read_text())
            return [(n, (folder / n).read_bytes()) for n in names], json.loads((folder / "truth.json").read_text())
        files, truth = self.make(seed, index)
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files:
            (folder / name).write_bytes(data)
        (folder / "files.json").write_text(json.dumps([n for n, _ in files]))
        (folder / "truth.json").write_text(json.dumps(truth))   # last: marks the folder complete
        return files, truth


# ---- catheter: a new production set-up ---------------------------------------------------------------------
CATHETER_SETUP, CATHETER_DIFFICULTY = "strong_artifacts", "hard"


def _catheter_make(seed: int, index: int) -> tuple[Files, dict]:
    from workers.demo_sources import catheter_series

    series, truth = catheter_series(index, seed, difficulty=CATHETER_DIFFICULTY, setup=CATHETER_SETUP)
    # "series" grouping: the images sharing the prefix before the last "_" make one item
    return [(f"s{seed}b{index:04d}_shot{k}.png", _png(shot.image)) for k, shot in enumerate(series)], truth


def _catheter_counts(proposal: dict | None, truth: dict, _width: int) -> dict:
    said = (proposal or {}).get("verdict") == "defect"
    real = truth["verdict"] == "defect"
    return {"tp": int(said and real), "fp": int(said and not real), "fn": int(real and not said)}


def _catheter_figures(rows: list[dict]) -> dict:
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    return {"verdict_recall": _ratio(tp, tp + fn), "verdict_precision": _ratio(tp, tp + fp), "defective": tp + fn}


# ---- articles: a new publisher's layout at realistic scan quality -----------------------------------------
ARTICLES_PUBLISHER, ARTICLES_SCAN = "harbour-ledger", 1.0   # ml.articles.scan.LEVELS["realistic"]


def _articles_make(seed: int, index: int) -> tuple[Files, dict]:
    from workers.demo_sources import articles_page

    image, truth = articles_page(index, seed, publisher=ARTICLES_PUBLISHER, scan=ARTICLES_SCAN)
    return [(f"s{seed}p{index:04d}.png", _png(image))], truth


def _articles_counts(proposal: dict | None, truth: dict, width: int) -> dict:
    from ml.articles.metrics import cut_stats

    c = cut_stats((proposal or {}).get("cuts", []), truth.get("cuts", []), width)
    return {"tp": c["tp"], "fp": c["fp"], "fn": c["fn"]}


def _articles_figures(rows: list[dict]) -> dict:
    tp, fp, fn = (sum(r[k] for r in rows) for k in ("tp", "fp", "fn"))
    p, r = (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)
    return {"cut_f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


SHIFTS = {
    "catheter": Shift("catheter", "line:B", "series",
                      f"production line B: optical set-up {CATHETER_SETUP} at difficulty {CATHETER_DIFFICULTY} "
                      "(the shipped champion trained on 'realistic' only)",
                      ("verdict_recall", "verdict_precision"), _catheter_make, _catheter_counts, _catheter_figures),
    "articles": Shift("articles", f"publisher:{ARTICLES_PUBLISHER}", "single",
                      f"publisher {ARTICLES_PUBLISHER} at realistic scan quality (its own scope; a layout "
                      "held out of the shipped champion's training)", ("cut_f1",),
                      _articles_make, _articles_counts, _articles_figures,
                      frozen_scope_key=f"publisher:{ARTICLES_PUBLISHER}-frozen"),
}

