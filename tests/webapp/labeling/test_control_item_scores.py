"""Each kind's measure of a control answer against the truth."""
import pytest

from webapp.labeling.kinds import AssetDims


def test_control_item_score_catheter_is_verdict_and_box_f1():
    from webapp.catheter.quality import control_score

    a, b = {"type": "bubble", "box": [10, 10, 50, 50]}, {"type": "inclusion", "box": [200, 200, 260, 260]}
    truth = {"verdict": "defect", "shots": [{"defects": [a, b]}]}
    shifted = {"type": "bubble", "box": [12, 12, 52, 52]}          # IoU > 0.3: the same defect
    half = control_score(truth, {"verdict": "defect", "shots": [{"defects": [shifted]}]}, [])
    assert half["box_f1"] == pytest.approx(2 / 3, abs=1e-4) and half["missed"] == 1 and half["extra"] == 0
    assert half["accuracy"] == pytest.approx((1 + 2 / 3) / 2, abs=1e-4)
    empty = {"verdict": "ok", "shots": [{"defects": []}]}
    assert control_score(empty, empty, [])["accuracy"] == 1.0


def test_control_item_score_articles_is_cut_f1_with_the_page_type():
    from webapp.articles.quality import control_score

    cuts = [{"x0": 100, "y0": 0, "x1": 100, "y1": 1000}, {"x0": 0, "y0": 500, "x1": 1000, "y1": 500}]
    truth = {"page_type": "article", "cuts": cuts, "articles": []}
    one = control_score(truth, {"page_type": "article", "cuts": cuts[:1], "articles": []}, [])
    assert one["cut_f1"] == pytest.approx(2 / 3, abs=1e-4) and one["accuracy"] == pytest.approx(0.6667, abs=1e-4)
    assert control_score(truth, {"page_type": "ads", "cuts": cuts, "articles": []}, [])["accuracy"] == 0.0


def test_control_item_score_omr_is_status_and_corner_error():
    from webapp.omr.quality import control_score

    dims = [AssetDims(width=1000, height=1400, role="original"), AssetDims(width=1000, height=1400, role="photo")]
    identity = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    truth = {"status": "accepted", "homography": identity, "point_pairs": [], "reasons": []}
    near = {**truth, "homography": [[1, 0, 5], [0, 1, 0], [0, 0, 1]]}       # 5 px off: within 1 % of 1720
    far = {**truth, "homography": [[1, 0, 40], [0, 1, 0], [0, 0, 1]]}
    assert control_score(truth, near, dims) == {"accuracy": 1.0, "status_agrees": True,
                                               "corner_error_px": 5.0, "truth_status": "accepted",
                                               "answer_status": "accepted"}
    assert control_score(truth, far, dims)["accuracy"] == 0.0
    rejected = {"status": "rejected", "homography": None, "point_pairs": [], "reasons": ["wrong page"]}
    assert control_score(truth, rejected, dims)["accuracy"] == 0.0
