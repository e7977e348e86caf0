import dataclasses

import cv2
import numpy as np
import pytest

from ml.articles.scan import LEVELS, ScanMapping, degrade_image, draw_params, map_annotation
from ml.articles.synth import generate_page, generate_pages

W, H = 400, 566     # a page 1.4145 times as high as wide, as the renderer's


def _dots(points, w=W, h=H, r=2.5):
    img = np.full((h, w), 244, np.uint8)
    for x, y in points:
        cv2.circle(img, (int(round(x * 16 - 8)), int(round(y * 16 - 8))), int(r * 16), 18, -1, cv2.LINE_AA, shift=4)
    return img


def _centroids(img, points, win=7):
    out = []
    ink = np.clip(240.0 - img.astype(np.float64), 0, None)
    for x, y in points:
        x0, y0 = int(x) - win, int(y) - win
        sub = ink[y0:y0 + 2 * win + 1, x0:x0 + 2 * win + 1]
        ys, xs = np.mgrid[y0:y0 + sub.shape[0], x0:x0 + sub.shape[1]]
        out.append([(xs * sub).sum() / sub.sum() + 0.5, (ys * sub).sum() / sub.sum() + 0.5])
    return np.array(out)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_geometry_of_the_image_matches_the_mapped_points(seed):
    """Marks drawn at known page points land, in the degraded image, where the mapping puts the points."""
    params = draw_params(seed, LEVELS["heavy"], aspect=H / W)
    geo_only = dataclasses.replace(params, bleed=0.0, yellow=0.0, light=0.0, shadow=0.0, blur=0.0, noise=0.0, jpeg=0)
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.linspace(40, W - 40, 6), np.linspace(40, H - 40, 8))   # marks well apart
    pts = np.c_[gx.ravel(), gy.ravel()] + rng.uniform(-10, 10, (48, 2))
    pts = np.r_[pts, [[20.0, 100.0], [W - 20.0, 300.0]]]   # near both edges: the gutter warp is strongest there
    scan = degrade_image(_dots(pts), geo_only)
    mapped = params.mapping.forward(pts, W)
    err = np.linalg.norm(_centroids(scan, mapped) - mapped, axis=1)
    assert err.max() < 0.35, err.max()
    assert abs(params.mapping.angle) > 0.05 and params.mapping.warp > 0
    # with every photometric effect on, the marks are still found where the mapping says
    full = degrade_image(_dots(pts, r=3.5), params)
    err = np.linalg.norm(_centroids(full, mapped) - mapped, axis=1)
    assert np.median(err) < 0.5 and err.max() < 1.5


def test_mapping_inverse_and_straight_lines():
    m = ScanMapping(angle=1.3, warp=0.006, band=0.1, gutter="right", aspect=H / W)
    p = np.c_[np.linspace(0, W, 50), np.linspace(0, H, 50)]
    assert np.abs(m.inverse(m.forward(p, W), W) - p).max() < 1e-6
    # a vertical page line inside the bent band stays a straight line in the scan (the warp moves x by x)
    line = np.c_[np.full(30, W - 15.0), np.linspace(20, H - 20, 30)]
    q = m.forward(line, W)
    d = q - q[0]
    cross = d[:, 0] * d[-1, 1] - d[:, 1] * d[-1, 0]
    assert np.abs(cross).max() / np.linalg.norm(d[-1]) < 1e-9
    # resolution independent: the same page point at 300 dpi and on a 640 px copy
    assert np.allclose(m.forward(p * 2480 / W, 2480) * 640 / 2480, m.forward(p * 640 / W, 640))


def test_scanned_page_deterministic_and_cuts_on_gutters():
    a = generate_page("daily-courier", 777, "article", 640, scan=1.0)
    b = generate_page("daily-courier", 777, "article", 640, scan=1.0)
    clean = generate_page("daily-courier", 777, "article", 640)
    assert np.array_equal(a.image, b.image) and a.gt == b.gt
    assert not np.array_equal(a.image, clean.image)
    assert a.gt["annotation"] == map_annotation(clean.gt["annotation"], ScanMapping(**a.gt["scan"]["mapping"]),
                                                2480, 3508)
    s = 640 / a.gt["width"]

    def mean_ink(img, c, dx, part):
        ink = 255.0 - img.astype(np.float32)
        t = np.linspace(0.05, 0.45, 100) + 0.5 * part
        xs = (c["x0"] + t * (c["x1"] - c["x0"])) * s + dx
        ys = (c["y0"] + t * (c["y1"] - c["y0"])) * s
        return cv2.remap(ink, (xs - 0.5).astype(np.float32)[None], (ys - 0.5).astype(np.float32)[None],
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).mean()

    def z(v):
        v = np.asarray(v, np.float64)
        return (v - v.mean()) / (v.std() + 1e-9)

    pairs = [(c0, c1) for c0, c1 in zip(clean.gt["annotation"]["cuts"], a.gt["annotation"]["cuts"])
             if abs(c0["y1"] - c0["y0"]) > 200]
    assert pairs
    offsets = np.arange(-8, 8.01, 0.5)
    lags = np.arange(-4, 4.01, 0.25)
    for c0, c1 in pairs:   # the ink across the mapped cut in the scan is the ink across the cut on the page
        for part in (0, 1):   # top and bottom half apart: the skew moves them opposite ways
            ref = z([mean_ink(clean.image, c0, d, part) for d in offsets])
            err = [np.mean((z([mean_ink(a.image, c1, d + lag, part) for d in offsets]) - ref) ** 2) for lag in lags]
            assert abs(lags[int(np.argmin(err))]) <= 0.5, (c1, part, lags[int(np.argmin(err))])


def test_strength_zero_is_the_clean_page_and_levels_grow():
    clean = generate_pages(1, seed=3, publishers=["evening-post"], width=320)[0]
    same = generate_pages(1, seed=3, publishers=["evening-post"], width=320, scan=0.0)[0]
    assert np.array_equal(clean.image, same.image) and clean.gt == same.gt
    diffs = []
    for level in ("light", "realistic", "heavy"):
        p = generate_pages(1, seed=3, publishers=["evening-post"], width=320, scan=LEVELS[level])[0]
        diffs.append(np.abs(p.image.astype(int) - clean.image.astype(int)).mean())
        assert p.gt["scan"]["strength"] == LEVELS[level]
    assert diffs[0] < diffs[1] < diffs[2]
    assert abs(draw_params(5, 1.0).mapping.angle) <= 1.5
