"""The pure point-pair homography (normalised DLT) and the checks on what an operator sends."""
import math
import random

import pytest

from formats.common.checker import AnnotationError, AssetDims
from formats.common.geometry import apply_homography
from formats.omr.homography import check_point_pairs, homography_from_pairs, pair_residuals

H = [[0.92, 0.04, 35.0], [-0.03, 1.08, 18.0], [2e-5, -1e-5, 1.0]]
ORIGINAL, PHOTO = AssetDims(1240, 1754, "original"), AssetDims(1400, 1900, "photo")


def _pairs(points, h=H, noise=0.0, seed=0):
    rng = random.Random(seed)
    out = []
    for x, y in points:
        u, v = apply_homography(h, x, y)
        out.append([[x, y], [u + rng.gauss(0, noise), v + rng.gauss(0, noise)]])
    return out


CORNERS = [(100, 120), (1100, 150), (1080, 1600), (140, 1650)]


def test_four_pairs_give_the_homography_exactly():
    h = homography_from_pairs(_pairs(CORNERS))
    assert max(abs(a - b) for ra, rb in zip(h, H) for a, b in zip(ra, rb)) < 1e-9
    assert max(pair_residuals(h, _pairs(CORNERS))) < 1e-6


def test_more_pairs_are_fitted_in_least_squares():
    points = CORNERS + [(620, 870), (300, 900), (900, 400), (700, 1300)]
    h = homography_from_pairs(_pairs(points, noise=1.5, seed=3))
    for x, y in [(0, 0), (1240, 0), (1240, 1754), (0, 1754)]:   # page corners within a few pixels
        u, v = apply_homography(h, x, y)
        tu, tv = apply_homography(H, x, y)
        assert math.hypot(u - tu, v - tv) < 6.0


def test_good_pairs_pass_the_check_as_floats():
    pairs = check_point_pairs(_pairs(CORNERS), ORIGINAL, PHOTO)
    assert len(pairs) == 4 and all(isinstance(v, float) for p in pairs for pt in p for v in pt)


@pytest.mark.parametrize("pairs,path,words", [
    (_pairs(CORNERS[:3]), "$.point_pairs", "at least 4 point pairs (3 given)"),
    ("four pairs", "$.point_pairs", "must be a list"),
    (_pairs(CORNERS[:3]) + [[[500, 500]]], "$.point_pairs[3]", "must be [[x_original"),
    (_pairs(CORNERS[:3]) + [[[float("nan"), 500], [10, 10]]], "$.point_pairs[3][0][0]", "finite number"),
    (_pairs(CORNERS[:3]) + [[[500, 500], [10, "ten"]]], "$.point_pairs[3][1][1]", "finite number"),
    (_pairs(CORNERS[:3]) + [[[500, 1800], [10, 10]]], "$.point_pairs[3][0]", "outside the image"),
    (_pairs(CORNERS[:3]) + [[[500, 500], [1401, 10]]], "$.point_pairs[3][1]", "outside the image"),
    (_pairs([(100, 100), (400, 400), (700, 700), (1000, 1000)]), "$.point_pairs", "on one line"),
    (_pairs([(100, 100), (600, 100), (1100, 100), (600, 1500)]), "$.point_pairs", "on one line"),  # three in a row
    (_pairs([(500, 500)] * 4), "$.point_pairs", "on one line"),
])
def test_bad_pairs_are_refused_naming_the_field(pairs, path, words):
    with pytest.raises(AnnotationError) as e:
        check_point_pairs(pairs, ORIGINAL, PHOTO)
    assert any(err["path"] == path and words in err["message"] for err in e.value.errors), e.value.errors


def test_degenerate_sets_have_no_homography():
    assert homography_from_pairs(_pairs(CORNERS[:3])) is None
    flat = [[[x, 100.0], [x * 0.5, 80.0]] for x in (100, 400, 700, 1000)]
    assert homography_from_pairs(flat) is None
