"""Snapping cuts onto the page's layout geometry, on hand-drawn pages and on generated ones."""
import numpy as np
import pytest

from ml.articles.metrics import cut_stats
from ml.articles.postprocess import Segment
from ml.articles.refine import (GeometryPrior, PageGeometry, calibrate_geometry, column_grid, refine_cuts,
                                rule_along, split_ink, text_extent, text_on_both_sides)
from ml.articles.synth import generate_page

W, H = 800, 1000
LEFT, RIGHT, GUTTER, COLS = 60, 740, 20, 4
PITCH = (RIGHT - LEFT + GUTTER) / COLS          # 175: columns 155 wide
GUTTERS = [LEFT + k * PITCH - GUTTER / 2 for k in range(1, COLS)]   # 225, 400, 575


def _page(top=100, bottom=900, rules=()):
    """White page, a masthead rule, four columns of 'text lines' (dark bars with line gaps), a white band
    between two stacked articles at y 480..520 in columns 2-3, optional horizontal rules."""
    img = np.full((H, W), 250, np.uint8)
    img[60:62, LEFT:RIGHT] = 0                                    # masthead rule (thin, as on a scan)
    for c in range(COLS):
        x0 = int(round(LEFT + c * PITCH))
        x1 = int(round(x0 + PITCH - GUTTER))
        for y in range(top, bottom, 14):
            if c >= 2 and 480 <= y < 520:
                continue
            img[y:y + 8, x0:x1] = 40
    for y in rules:
        img[y - 1:y + 1, LEFT:RIGHT] = 0
    return img


def test_ink_is_split_into_rules_and_text_and_the_extent_is_found():
    geo = PageGeometry.measure(_page())
    assert geo.rules[61, 400] and not geo.text[61, 400]            # the masthead rule is a rule
    assert geo.text[100, 100] and not geo.rules[100, 100]          # a text line is text
    left, right, top, bottom = geo.extent
    assert abs(left - LEFT) <= 1 and abs(right - RIGHT) <= 1
    assert abs(top - 100) <= 1 and abs(bottom - 900) <= 8


def test_the_column_grid_is_found_even_where_a_headline_crosses_a_gutter():
    img = _page()
    img[200:260, 100:700] = 20                                     # a banner across three gutters
    rules, text = split_ink(img)
    grid = column_grid(text, text_extent(text, rules), 0.004 * W, 0.035 * W)
    assert len(grid) == COLS - 1
    assert max(abs(g - t) for g, t in zip(grid, GUTTERS)) <= 1.5


def test_coarse_cuts_are_moved_onto_the_gutter_the_band_and_the_frame():
    geo = PageGeometry.measure(_page())
    prior = GeometryPrior(top_pad=0.02, bottom_pad=0.02, side_pad=GUTTER / 2 / W, cut_above_text=20 / W)
    # what a coarse network proposes: a vertical cut 6 px off the gutter, ends short of the frame; a
    # horizontal cut 8 px off the band, ends 15 px short of the gutter and the frame
    coarse = [Segment(406, 112, 406, 890, 0.9), Segment(415, 492, 725, 492, 0.8)]
    fine = refine_cuts(coarse, geo, prior)
    v = [s for s in fine if s.vertical]
    h = [s for s in fine if not s.vertical]
    assert len(v) == 1 and len(h) == 1
    assert abs(v[0].x0 - 400) <= 1                                 # gutter centre
    assert abs(v[0].y0 - (100 - 16)) <= 2 and abs(v[0].y1 - (906 + 16)) <= 10   # frame top / bottom
    assert abs(h[0].y0 - 500) <= 2                                 # 20 px above the text below the band
    assert abs(h[0].x0 - 400) <= 1 and abs(h[0].x1 - (RIGHT + GUTTER / 2)) <= 2   # vertical cut / frame side


def test_a_rule_along_a_cut_wins_and_two_box_lines_stand_for_their_middle():
    img = _page(rules=(500,))
    geo = PageGeometry.measure(img)
    assert abs(rule_along(geo.rules, 492, 415, 725, 12) - 500) <= 1
    img2 = _page(rules=(490, 512))
    geo2 = PageGeometry.measure(img2)
    assert abs(rule_along(geo2.rules, 495, 415, 725, 20) - 501) <= 1


def test_a_cut_with_text_on_one_side_only_is_dropped():
    geo = PageGeometry.measure(_page())
    margin = Segment(RIGHT + 25, 200, RIGHT + 25, 800, 0.9)         # in the right margin
    assert not text_on_both_sides(geo.text, margin, 3, 30)
    assert refine_cuts([margin], geo) == []
    assert text_on_both_sides(geo.text, Segment(400, 200, 400, 800, 0.9), 3, 30)


def test_two_pieces_of_one_cut_are_joined_and_a_weak_stretch_past_a_junction_is_cut_off():
    geo = PageGeometry.measure(_page())
    pieces = [Segment(400, 110, 400, 430, 0.9), Segment(400, 455, 400, 890, 0.9)]
    fine = refine_cuts(pieces, geo)
    assert len(fine) == 1 and fine[0].y1 - fine[0].y0 > 750
    # probability map (working resolution = geometry / 4): strong below the junction at y 500, weak above
    prob = np.zeros((H // 4, W // 4), np.float32)
    prob[125:, 100] = 0.95
    prob[:125, 100] = 0.2
    segs = [Segment(400, 110, 400, 890, 0.9), Segment(400, 500, 740, 500, 0.9)]
    prior = GeometryPrior(cut_above_text=20 / W)
    fine = refine_cuts(segs, geo, prior, prob=prob, scale=(4.0, 4.0), tau=0.5)
    v = [s for s in fine if s.vertical]
    assert len(v) == 1 and abs(v[0].y0 - 500) <= 2


def test_empty_input_and_a_blank_page_are_harmless():
    assert refine_cuts([], PageGeometry.measure(_page())) == []
    blank = PageGeometry.measure(np.full((H, W), 255, np.uint8))
    assert blank.gutters == []
    assert refine_cuts([Segment(400, 100, 400, 900, 0.9)], blank) == []


@pytest.mark.parametrize("publisher", ["daily-courier", "morning-herald"])
def test_on_generated_pages_ground_truth_cuts_moved_off_by_a_coarse_network_come_back(publisher):
    rng = np.random.default_rng(3)
    pages = [generate_page(publisher, seed, width=640) for seed in (11, 12, 13)]
    prior = calibrate_geometry([(p.image, p.gt["annotation"]["cuts"], p.gt["width"]) for p in pages])
    tp = n = 0
    for p in pages:
        cuts = p.gt["annotation"]["cuts"]
        k = p.image.shape[1] / p.gt["width"]
        coarse = []
        for c in cuts:
            d, e0, e1 = rng.normal(0, 4, 3)                     # ~0.6% position, endpoints off too
            if c["x0"] == c["x1"]:
                coarse.append(Segment(c["x0"] * k + d, c["y0"] * k + e0, c["x1"] * k + d, c["y1"] * k + e1, 0.9))
            else:
                coarse.append(Segment(c["x0"] * k + e0, c["y0"] * k + d, c["x1"] * k + e1, c["y1"] * k + d, 0.9))
        fine = refine_cuts(coarse, PageGeometry.measure(p.image), prior)
        pred = [Segment(s.x0 / k, s.y0 / k, s.x1 / k, s.y1 / k, s.score).to_json() for s in fine]
        st = cut_stats(pred, cuts, p.gt["width"])
        tp, n = tp + st["tp"], n + len(cuts)
    assert n > 0 and tp / n >= 0.8
