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
