"""The ink split into rules and text on scans: faint broken rules found, text lines and specks not mistaken."""
import numpy as np
import pytest

from ml.articles.config import PostConfig
from ml.articles.data import Sample
from ml.articles.inkmask import DEFAULT, LEGACY, drop_specks, split_ink
from ml.articles.metrics import cut_stats
from ml.articles.postprocess import Segment
from ml.articles.refine import GeometryPrior, PageGeometry, measure_geometry, refine_cuts
from ml.articles.scanfix import fix_sample
from ml.articles.synth import generate_page

PAPER = 244


def _scan_like_page(seed=0):
    """A faint horizontal rule and a faint vertical one, broken into dashes by noise (as a 1-px line of the page
    spread over two pixel rows by the scanner's blur and the deskew), next to 'text lines': dark runs of letters
    with word gaps."""
    rng = np.random.default_rng(seed)
    img = np.full((300, 400), PAPER, np.uint8)
    img[100:102, 20:380] = np.where(rng.random((2, 360)) < 0.25, PAPER, 185)   # a quarter of each row lost
    img[150:290, 200:202] = np.where(rng.random((140, 2)) < 0.25, PAPER, 185)
    for y in range(160, 280, 10):                                          # text in the left half
        x = 20
        while x < 180:
            n = int(rng.integers(6, 20))
            img[y:y + 5, x:min(180, x + n)] = 60
            x += n + int(rng.integers(3, 5))
    return img


def test_a_faint_broken_rule_is_a_rule_and_text_lines_are_not():
    img = _scan_like_page()
    rules, text = split_ink(img, DEFAULT)
    assert rules[100, 30:370].mean() > 0.7                  # the horizontal rule, gaps and all
    assert rules[160:280, 200].mean() > 0.7                 # the vertical one
    assert not rules[160:280, 20:180].any()                 # no text line became a rule
    assert text[160:280, 20:180].mean() > 0.2 and not text[100:102, 30:370].any()
    legacy_rules, _ = split_ink(img, LEGACY)                # the clean-render split loses most of both
    assert legacy_rules[100:102, 30:370].mean() < 0.3 and legacy_rules[160:280, 200:202].mean() < 0.3


def test_isolated_specks_go_and_a_full_stop_beside_its_word_stays():
    text = np.zeros((40, 60), bool)
    text[10:15, 10:30] = True          # a word
    text[13:15, 31:33] = True          # its full stop, a pixel away
    text[30, 50] = text[5, 55] = True  # noise
    out = drop_specks(text, 4)
    assert out[13:15, 31:33].all() and out[10:15, 10:30].all()
    assert not out[30, 50] and not out[5, 55]


def test_deskewed_cuts_still_calibrate_the_prior():
    """Cuts carried into a deskewed page's frame are axis-parallel only up to rounding; they still count."""
    img = np.full((1000, 800), 250, np.uint8)
    for y in range(100, 900, 14):                           # text lines: words 30 px, word gaps 6 px
        for x in range(60, 740, 36):
            img[y:y + 6, x:x + 30] = 40
    geo = PageGeometry.measure(img)
    cuts = [{"x0": 400.0, "y0": 70.0, "x1": 400.004, "y1": 920.0}]
    seen = measure_geometry(geo, cuts, 1.0)
    assert len(seen["top_pad"]) == 1 and len(seen["bottom_pad"]) == 1


@pytest.mark.parametrize("seed", [2, 4])
def test_boxed_articles_on_a_realistic_scan_are_cut_right_again(seed):
    """Weekly-gazette boxes its articles: on a scan the box frames are faint broken lines, which the clean-render
    split took for text in the gutters (every cut of these pages missed); the scan-robust split finds them."""
    f = fix_sample(Sample.from_synth(generate_page("weekly-gazette", seed, "article", 640, scan=1.0)), PostConfig())
    k = f.image.shape[1] / f.size[0]
    cuts = f.annotation["cuts"]
    rng = np.random.default_rng(0)
    coarse = []
    for c in cuts:                                          # ground truth moved as a coarse network would
        d = rng.normal(0, 3)
        if abs(c["x1"] - c["x0"]) < abs(c["y1"] - c["y0"]):
            x = (c["x0"] + c["x1"]) / 2 * k + d
            coarse.append(Segment(x, min(c["y0"], c["y1"]) * k + 8, x, max(c["y0"], c["y1"]) * k - 8, 0.9))
        else:
            y = (c["y0"] + c["y1"]) / 2 * k + d
            coarse.append(Segment(min(c["x0"], c["x1"]) * k + 8, y, max(c["x0"], c["x1"]) * k - 8, y, 0.9))

    def f1(ink):
        fine = refine_cuts([Segment(s.x0, s.y0, s.x1, s.y1, s.score) for s in coarse],
                           PageGeometry.measure(f.image, ink), GeometryPrior())
        st = cut_stats([Segment(s.x0 / k, s.y0 / k, s.x1 / k, s.y1 / k, s.score).to_json() for s in fine], cuts,
                       f.size[0])
        return 2 * st["tp"] / max(1, 2 * st["tp"] + st["fp"] + st["fn"])

    assert f1(DEFAULT) == 1.0
    assert f1(LEGACY) <= 0.5
