import sys
from pathlib import Path

import numpy as np
import pytest

from ml.omr.align import Aligner, alignment_errors, homography_from_points
from ml.omr.degrade import apply_h

ALIGNER = Aligner()


@pytest.mark.parametrize("seed", [1000, 1001, 1002])
def test_fast_alignment_on_phone_photos(pair, seed):
    s = pair(seed, "moderate")
    a = ALIGNER.align(s.original.image, s.photo, mode="fast")
    e = alignment_errors(a.homography, s.mapping.page_to_photo, s.original.size)
    assert e["corner_max"] < 3.0 and e["grid_median"] < 1.0, e
    assert a.verdict == "accept", (a.reasons, a.metrics)
    m = a.metrics
    for key in ("good_matches", "inliers", "inlier_ratio", "reproj_median", "reproj_p95", "coverage", "sanity",
                "ncc_per_system", "system_shift_max", "visible_share"):
        assert key in m
    ann = a.to_annotation()
    assert ann["status"] == "accepted" and len(ann["homography"]) == 3 and 0 <= a.uncertainty <= 1


def test_precise_alignment(pair):
    s = pair(1000, "moderate")
    a = ALIGNER.align(s.original.image, s.photo, mode="precise")
    e = alignment_errors(a.homography, s.mapping.page_to_photo, s.original.size)
    assert e["corner_max"] < 1.5, e
    assert a.verdict == "accept"


def test_wrong_page_is_rejected(pair):
    for seed in (1000,):
        a = ALIGNER.align(pair(seed, "wrong").original.image, pair(seed, "wrong").photo)
        assert a.verdict == "reject" and "wrong page" in a.reasons, a.metrics


def test_curl_and_partial_go_to_review(pair):
    a = ALIGNER.align(pair(1000, "curl").original.image, pair(1000, "curl").photo)
    assert a.verdict == "review" and "page curl" in a.reasons, a.metrics
    s = pair(1001, "partial")
    a = ALIGNER.align(s.original.image, s.photo)
    assert a.verdict != "accept" and ("partial page" in a.reasons or a.verdict == "reject"), a.metrics


def test_degenerate_and_blank_inputs():
    blank = np.full((400, 300), 255, np.uint8)
    a = ALIGNER.align(blank, blank)
    assert a.verdict == "reject" and a.reasons == ["too few matches"]


def test_homography_from_operator_points(pair):
    s = pair(1002, "moderate")
    W, H = s.original.size
    rng = np.random.default_rng(0)
    src = np.array([[0.1 * W, 0.1 * H], [0.9 * W, 0.12 * H], [0.88 * W, 0.6 * H], [0.12 * W, 0.55 * H]])
    dst = s.mapping.page_to_photo(src) + rng.normal(0, 2.0, (4, 2))        # clicks 2 px off
    pairs = [[a.tolist(), b.tolist()] for a, b in zip(src, dst)]
    raw = homography_from_points(pairs)
    refined = homography_from_points(pairs, s.original.image, s.photo)
    e_raw = alignment_errors(raw.homography, s.mapping.page_to_photo, s.original.size)
    e_ref = alignment_errors(refined.homography, s.mapping.page_to_photo, s.original.size)
    assert e_ref["corner_max"] < 2.0 and e_ref["corner_max"] < e_raw["corner_max"], (e_raw, e_ref)
    with pytest.raises(ValueError):
        homography_from_points(pairs[:3])
    assert np.allclose(apply_h(raw.homography, src), dst, atol=1e-6)


def test_curl_at_the_outer_edge_goes_to_review(pair):
    """The bench's curl that was accepted: its right sixth is 3.1-3.6 px off any planar fit, which a third of
    the page averaged down to 1.49 px (under the 1.5 px threshold)."""
    s = pair(1015, "curl")
    a = ALIGNER.align(s.original.image, s.photo)
    assert a.verdict == "review" and "page curl" in a.reasons, a.metrics
    assert len(a.metrics["shift_per_system"][0]) == 6


def test_a_lone_shift_needs_a_neighbouring_system_to_count():
    from ml.omr.align import _confirmed_max

    lone = [[0.3, 0.2, 6.5, 0.4, 0.3, 0.2], [0.2, 0.3, 0.4, 0.3, 0.2, 0.3], [0.3, 0.2, 0.2, 0.4, 0.3, 0.2]]
    assert _confirmed_max(lone) == 0.4
    curl = [[0.3, 0.4, 0.6, 1.2, 2.0, 2.6], [0.2, 0.5, 0.7, 1.1, 1.9, 2.4], [None, None, None, None, None, None]]
    assert _confirmed_max(curl) == 2.4
    assert _confirmed_max([[0.5, None]]) == 0.0 and _confirmed_max([]) is None


def test_operator_points_are_judged_like_an_alignment(pair):
    """A fix by point pairs is refined by guided matching and gets the aligner's metrics and verdict: good
    points on an ordinary photo are accepted; on a curled page they still go to review."""
    for seed, kind, verdict in ((1002, "moderate", "accept"), (1015, "curl", "review")):
        s = pair(seed, kind)
        W, H = s.original.size
        src = np.array([[0.1 * W, 0.1 * H], [0.9 * W, 0.1 * H], [0.9 * W, 0.5 * H], [0.1 * W, 0.5 * H]])
        pairs = [[a.tolist(), b.tolist()] for a, b in zip(src, s.mapping.page_to_photo(src))]
        a = homography_from_points(pairs, s.original.image, s.photo)
        assert a.verdict == verdict, (kind, a.reasons, a.metrics)
        assert a.metrics["good_matches"] > 100 and a.metrics["inliers"] > 50 and a.inliers.shape[1] == 4
        assert a.metrics["operator_residual_median"] < 6.0


@pytest.mark.parametrize("seed", [4, 30])
def test_sparse_or_distant_pages_get_a_second_look(seed):
    """Pairs of the bench's wide set that fast mode once got wrong: seed 30 (Schoenberg op. 19/2, small staves,
    a soft photo) was accepted at 6.6 px corner error, its ORB matches bunched on the few bars of music; seed 4
    (the same piece photographed from farther away than ORB's 4 pyramid levels reach) was rejected as the wrong
    page with 15 inliers. A second look with twice the features and levels gets both under 3 px."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    from omr_wide import wide_pair

    s, _ = wide_pair(seed)
    a = ALIGNER.align(s.original.image, s.photo, mode="fast")
    e = alignment_errors(a.homography, s.mapping.page_to_photo, s.original.size)
    assert e["corner_max"] < 3.0 and a.verdict == "accept" and a.metrics["retried"], (e, a.reasons, a.metrics)
