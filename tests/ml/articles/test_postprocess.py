import numpy as np

from ml.articles.config import PostConfig
from ml.articles.postprocess import article_polygons, extract_cuts


def _t_junction(h=200, w=160):
    p = np.zeros((h, w), np.float32)
    p[100:102, 10:150] = 0.9        # horizontal cut across the page at y ~ 100.5
    p[10:101, 79:82] = 0.8          # vertical cut above it at x = 80
    return p


def test_extracts_straight_segments_with_positions_and_scores():
    segs = extract_cuts(_t_junction(), 0.5)
    v = [s for s in segs if s.vertical]
    h = [s for s in segs if not s.vertical]
    assert len(v) == 1 and len(h) == 1
    assert abs(v[0].x0 - 80) < 0.6 and abs(v[0].x1 - 80) < 0.6
    assert abs(h[0].y0 - 100.5) < 0.6
    assert abs(v[0].y0 - 10) <= 1 and abs(v[0].y1 - h[0].y0) < 1e-6   # snapped onto the horizontal cut
    assert abs(h[0].x0 - 10) <= 1 and abs(h[0].x1 - 149) <= 1
    assert 0.75 < v[0].score <= 0.81 and 0.85 < h[0].score <= 0.91


def test_threshold_above_the_map_gives_no_cuts_and_short_blobs_are_dropped():
    p = _t_junction()
    assert extract_cuts(p, 0.95) == []
    q = np.zeros((200, 160), np.float32)
    q[50:53, 50:53] = 1.0           # a blob, not a line
    assert extract_cuts(q, 0.5) == []


def test_collinear_pieces_are_joined():
    p = np.zeros((300, 200), np.float32)
    p[10:140, 100] = 0.9
    p[143:290, 100] = 0.9            # a 3-pixel gap (1.5% of the width)
    segs = extract_cuts(p, 0.5, PostConfig())
    assert len(segs) == 1 and segs[0].y0 == 10 and segs[0].y1 == 289


def test_article_polygons_split_by_a_cut():
    region = np.zeros((3, 200, 160), np.float32)
    region[0] = 1.0
    region[0, 20:180, 20:140] = 0.0
    region[1, 20:180, 20:140] = 1.0   # one body area ...
    cuts = extract_cuts(np.pad(np.full((160, 1), 0.9, np.float32), ((20, 20), (80, 79))), 0.5)
    polys = article_polygons(region, cuts)   # ... split into two articles by the cut at x = 80
    assert len(polys) == 2
    (a, sa), (b, sb) = polys
    xs_a = [x for x, _ in a]
    xs_b = [x for x, _ in b]
    assert max(xs_a) <= 80.5 and min(xs_b) >= 80.5
    assert min(xs_a) <= 21 and max(xs_b) >= 139
    assert sa > 0.99 and sb > 0.99
    assert len(article_polygons(region, [])) == 1


def test_region_aware_cuts_drop_rules_outside_articles_and_fit_free_ends():
    h, w = 300, 200
    region = np.zeros((3, h, w), np.float32)
    region[0] = 1.0
    for x0, x1 in ((20, 97), (103, 180)):        # two articles side by side, rows 40..260
        region[0, 40:260, x0:x1] = 0.0
        region[1, 40:260, x0:x1] = 1.0
    p = np.zeros((h, w), np.float32)
    p[34:266, 99:102] = 0.9                      # the cut between them, overshooting into both margins
    p[25:27, 20:180] = 0.9                       # a rule under the masthead: no article above it
    plain = extract_cuts(p, 0.5)
    assert len(plain) == 2
    segs = extract_cuts(p, 0.5, region_prob=region)
    assert len(segs) == 1 and segs[0].vertical
    s = segs[0]
    ext = 0.012 * w
    assert abs(s.y1 - (259 + ext)) < 1.0 and abs(s.y0 - (40 - ext)) < 1.0
