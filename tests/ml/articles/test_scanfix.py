"""Undoing the scanner: skew measured, paper flattened, annotations carried into the fixed frame and back."""
import numpy as np
import pytest

from ml.articles.config import PostConfig
from ml.articles.data import Sample
from ml.articles.metrics import page_metrics
from ml.articles.scan import PAPER, ScanMapping, map_annotation
from ml.articles.scanfix import deskew, estimate_skew, fix_sample, fix_scan, flatten
from ml.articles.synth import generate_page


@pytest.mark.parametrize("publisher,seed", [("daily-courier", 31), ("weekly-gazette", 32), ("city-tribune", 33)])
def test_skew_is_measured_within_a_tenth_of_a_degree(publisher, seed):
    p = generate_page(publisher, seed, "article", 640, scan=1.4)
    true = p.gt["scan"]["mapping"]["angle"]
    assert abs(estimate_skew(flatten(p.image)) - true) < 0.1, true


def test_clean_page_is_left_straight_and_nearly_unchanged():
    p = generate_page("evening-post", 5, "article", 320)
    page, mapping = fix_scan(p.image)
    assert mapping is None
    dark = p.image < 100                       # the ink stays where it was; the paper's grain goes
    assert (page[dark] < 120).mean() > 0.97 and ((page < 120) & ~dark).mean() < 0.01
    assert np.abs(page.astype(int) - p.image.astype(int))[~dark].mean() < 6


def test_flatten_evens_the_paper():
    p = generate_page("daily-courier", 8, "article", 320, scan=1.4)
    flat = flatten(p.image)
    h, w = flat.shape
    # the paper (brightest decile) of each vertical strip: uneven on the scan, even after flattening
    strips = lambda img: [np.percentile(img[:, i:i + w // 8], 90) for i in range(0, w - w // 8 + 1, w // 8)]  # noqa: E731
    assert np.ptp(strips(flat)) <= 4 < np.ptp(strips(p.image))
    assert abs(np.median(strips(flat)) - PAPER) <= 2


def test_deskew_inverts_the_scan_rotation():
    img = np.full((283, 200), 244, np.uint8)
    img[40:243, 99:101] = 0                                          # a vertical rule
    turned = deskew(img, -1.2)                                        # the same rotation the other way = a "scan"
    back = deskew(turned, 1.2)
    cols = (back[60:220] < 120).sum(0)
    assert set(np.nonzero(cols > 100)[0]) <= {98, 99, 100, 101}


def test_fix_sample_metrics_equal_in_both_frames():
    p = generate_page("morning-herald", 17, "article", 640, scan=1.0)
    s = Sample.from_synth(p)
    f = fix_sample(s, PostConfig())
    assert f.meta["deskew"] == pytest.approx(p.gt["scan"]["mapping"]["angle"], abs=0.1)
    # the annotation in the fixed frame is nearly axis-parallel again (what the post-processing can draw)
    for c in f.annotation["cuts"]:
        assert min(abs(c["x1"] - c["x0"]), abs(c["y1"] - c["y0"])) < 3.0
    # a prediction in the fixed frame, mapped back onto the scan, scores as it does in the fixed frame
    back = map_annotation(f.annotation, ScanMapping(angle=f.meta["deskew"], aspect=s.size[1] / s.size[0]), *s.size)
    scores = page_metrics({"page_type": "article", **back}, s.annotation, s.size)
    assert scores["cuts"]["tp"] == len(s.annotation["cuts"])
    off = fix_sample(s, PostConfig(flatten=False, deskew=False))
    assert off is s


def test_deskew_undoes_the_degrader_geometry_pixel_for_pixel():
    """Marks moved by a scan's rotation come back to their page positions (the same geometry convention)."""
    import dataclasses

    import cv2

    from ml.articles.scan import ScanParams, degrade_image

    w, h = 300, 424
    pts = np.array([[60.3, 80.7], [240.2, 90.1], [150.0, 212.0], [70.6, 350.4], [230.9, 340.2]])
    page = np.full((h, w), 244, np.uint8)
    for x, y in pts:
        cv2.circle(page, (int(round(x * 16 - 8)), int(round(y * 16 - 8))), 48, 18, -1, cv2.LINE_AA, shift=4)
    scan = degrade_image(page, dataclasses.replace(ScanParams(ScanMapping(angle=1.4, aspect=h / w))))
    back = deskew(scan, 1.4)
    ink = np.clip(240.0 - back.astype(np.float64), 0, None)
    for x, y in pts:
        x0, y0 = int(x) - 7, int(y) - 7
        sub = ink[y0:y0 + 15, x0:x0 + 15]
        ys, xs = np.mgrid[y0:y0 + 15, x0:x0 + 15]
        cx, cy = (xs * sub).sum() / sub.sum() + 0.5, (ys * sub).sum() / sub.sum() + 0.5
        assert abs(cx - x) < 0.3 and abs(cy - y) < 0.3
