"""Non-article page filter: a random forest (scikit-learn) on handcrafted page features.

Image features are computed on the page resized to a fixed width (text-area ratio, block count, rulings,
grid crossings, photo and solid-bar area, headline-size text share, line periodicity, column gaps, ...).
Text features (digit share, price / time / percent token shares, ...) come from the page's OCR tokens
when there are any; the forest trained on image features alone serves pages without text.
The forest is stored as arrays (safetensors + JSON) and evaluated with numpy: nothing is unpickled.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
from safetensors.numpy import load_file, save_file

from ml.articles.data import to_work
from ml.articles.styles import PAGE_TYPES

IMAGE_FEATURES = ["ink", "text_area", "blocks", "block_mean_area", "h_rules", "h_rule_len", "v_rules", "v_rule_len",
                  "grid_crossings", "photo_area", "solid_area", "big_text_share", "cc_density", "cc_height_cv",
                  "row_period", "col_gaps", "line_len_cv", "left_edge_align"]
TEXT_FEATURES = ["digit_share", "price_tokens", "time_tokens", "percent_tokens", "score_tokens", "mean_token_len",
                 "upper_share"]

_PRICE = re.compile(r"^\d+([.,]\d{2})?$|€")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_PCT = re.compile(r"%$")
_SCORE = re.compile(r"^\d{1,2}:\d{1,2}$")


def image_features(image: np.ndarray, width: int = 512) -> np.ndarray:
    img = to_work(image, width)
    h, w = img.shape
    dark = (img < 140).astype(np.uint8)
    area = float(h * w)
    ink = dark.mean()
    lines = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    text_area = lines.mean()
    blocks_mask = cv2.morphologyEx(dark, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    nb, _, bst, _ = cv2.connectedComponentsWithStats(blocks_mask, connectivity=8)
    big = bst[1:, cv2.CC_STAT_AREA] if nb > 1 else np.zeros(1)
    big = big[big > 30]
    hr = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(5, w // 8), 1)))
    vr = cv2.morphologyEx(dark, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(5, h // 12))))
    nh, _, hst, _ = cv2.connectedComponentsWithStats(hr, connectivity=8)
    nv, _, vst, _ = cv2.connectedComponentsWithStats(vr, connectivity=8)
    cross = cv2.dilate(hr, np.ones((3, 3), np.uint8)) & cv2.dilate(vr, np.ones((3, 3), np.uint8))
    ncross = cv2.connectedComponents(cross)[0] - 1
    med = cv2.medianBlur(img, 7)
    photo = cv2.morphologyEx(((med > 35) & (med < 190)).astype(np.uint8), cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    solid = cv2.morphologyEx((med <= 35).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    n, _, st, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    hs = st[1:, cv2.CC_STAT_HEIGHT].astype(np.float64) if n > 1 else np.ones(1)
    ar = st[1:, cv2.CC_STAT_AREA].astype(np.float64) if n > 1 else np.ones(1)
    small = hs[hs < h / 10]
    medh = np.median(small) if len(small) else 1.0
    big_text = float(ar[(hs > 2.2 * medh) & (hs < h / 10)].sum() / max(1.0, ar.sum()))
    prof = lines.mean(1) - lines.mean()
    ac = np.correlate(prof, prof, "full")[len(prof) - 1:]
    ac = ac / max(1e-9, ac[0])
    row_period = float(ac[2:40].max()) if len(ac) > 40 else 0.0
    colp = dark[h // 6: h - h // 12].mean(0)
    gaps = (colp < 0.01).astype(np.int8)
    col_gaps = int(np.sum(np.diff(gaps) == 1))
    # text lines: horizontal runs in the closed mask; their lengths and left edges
    nl, _, lst, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    lw = lst[1:, cv2.CC_STAT_WIDTH].astype(np.float64) if nl > 1 else np.ones(1)
    lx = lst[1:, cv2.CC_STAT_LEFT] if nl > 1 else np.zeros(1)
    line_len_cv = float(lw.std() / max(1e-6, lw.mean()))
    _, counts = np.unique(lx // 3, return_counts=True)
    left_align = float(np.sort(counts)[-8:].sum() / max(1, len(lx)))
    return np.array([ink, text_area, nb / area * 1e4, big.mean() / area if len(big) else 0.0,
                     nh - 1, hst[1:, cv2.CC_STAT_WIDTH].sum() / w if nh > 1 else 0.0,
                     nv - 1, vst[1:, cv2.CC_STAT_HEIGHT].sum() / h if nv > 1 else 0.0,
                     ncross, photo.mean(), solid.mean(), big_text, n / area * 1e4,
                     float(hs.std() / max(1e-6, hs.mean())), row_period, col_gaps, line_len_cv, left_align],
                    np.float64)


def text_features(tokens: Sequence[str]) -> np.ndarray:
    toks = [t for t in tokens if t]
    if not toks:
        return np.zeros(len(TEXT_FEATURES))
    chars = "".join(toks)
    n = len(toks)
    return np.array([sum(c.isdigit() for c in chars) / max(1, len(chars)),
                     sum(bool(_PRICE.search(t)) for t in toks) / n, sum(bool(_TIME.match(t)) for t in toks) / n,
                     sum(bool(_PCT.search(t)) for t in toks) / n, sum(bool(_SCORE.match(t)) for t in toks) / n,
                     len(chars) / n, sum(c.isupper() for c in chars) / max(1, len(chars))], np.float64)


@dataclass
class Forest:
    """A random forest as flat arrays; ``predict_proba`` in numpy."""
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray          # (nodes, classes) class probabilities
    roots: np.ndarray          # first node of each tree
    classes: list[str]
    features: list[str]
    threshold_article: float = 0.5

    @classmethod
    def from_sklearn(cls, rf, classes: list[str], features: list[str]) -> "Forest":
        L, R, F, T, V, roots = [], [], [], [], [], []
        off = 0
        for est in rf.estimators_:
            t = est.tree_
            roots.append(off)
            left, right = t.children_left.copy(), t.children_right.copy()
            left[left >= 0] += off
            right[right >= 0] += off
            L.append(left), R.append(right), F.append(t.feature.copy()), T.append(t.threshold.copy())
            v = t.value[:, 0, :].astype(np.float64)
            V.append(v / np.maximum(1e-12, v.sum(1, keepdims=True)))
            off += t.node_count
        return cls(np.concatenate(L).astype(np.int64), np.concatenate(R).astype(np.int64),
                   np.concatenate(F).astype(np.int64), np.concatenate(T), np.concatenate(V),
                   np.asarray(roots, np.int64), [classes[int(c)] for c in rf.classes_], features)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float64).reshape(-1, len(self.features))
        rows = np.arange(len(X))
        out = np.zeros((len(X), self.value.shape[1]))
        for root in self.roots:
            idx = np.full(len(X), root, np.int64)
            while True:
                left = self.left[idx]
                leaf = left < 0
                if leaf.all():
                    break
                go_left = X[rows, np.maximum(self.feature[idx], 0)] <= self.threshold[idx]
                idx = np.where(leaf, idx, np.where(go_left, left, self.right[idx]))
            out += self.value[idx]
        return out / len(self.roots)

    def p_article(self, X: np.ndarray) -> np.ndarray:
        return self.predict_proba(X)[:, self.classes.index("article")]

    def save(self, directory: str | Path, name: str) -> None:
        d = Path(directory)
        save_file({"left": self.left, "right": self.right, "feature": self.feature, "threshold": self.threshold,
                   "value": self.value, "roots": self.roots}, str(d / f"{name}.safetensors"))
        (d / f"{name}.json").write_text(json.dumps({"classes": self.classes, "features": self.features,
                                                    "threshold_article": self.threshold_article}, indent=1))

    @classmethod
    def load(cls, directory: str | Path, name: str) -> "Forest":
        d = Path(directory)
        a = load_file(str(d / f"{name}.safetensors"))
        meta = json.loads((d / f"{name}.json").read_text())
        return cls(a["left"], a["right"], a["feature"], a["threshold"], a["value"], a["roots"], meta["classes"],
                   meta["features"], meta["threshold_article"])


def train_forest(X: np.ndarray, page_types: Sequence[str], features: list[str], n_trees: int, max_depth: int,
                 min_recall: float, seed: int = 0) -> tuple[Forest, dict]:
    """Fit the forest (page-type classes); the article threshold keeps ``min_recall`` on out-of-bag pages."""
    from sklearn.ensemble import RandomForestClassifier

    y = np.array([PAGE_TYPES.index(t) for t in page_types])
    rf = RandomForestClassifier(n_estimators=n_trees, max_depth=max_depth, oob_score=True, random_state=seed,
                                n_jobs=1, class_weight="balanced")
    rf.fit(X, y)
    forest = Forest.from_sklearn(rf, PAGE_TYPES, features)
    col = list(rf.classes_).index(PAGE_TYPES.index("article"))
    oob = np.nan_to_num(rf.oob_decision_function_[:, col], nan=0.5)
    is_art = y == PAGE_TYPES.index("article")
    if is_art.any():
        # lowest article scores on out-of-bag pages: keep min_recall of them, with a margin
        q = np.quantile(oob[is_art], 1.0 - min_recall)
        forest.threshold_article = float(min(0.5, max(0.02, 0.5 * q)))
    return forest, {"oob_accuracy": float(rf.oob_score_), "threshold_article": forest.threshold_article}
