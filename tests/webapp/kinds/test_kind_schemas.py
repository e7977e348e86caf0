import pytest

from webapp.labeling.kinds import AnnotationError, AssetDims, get_kind, kind_names

PAGE = [AssetDims(2000, 3000, "page")]
PAIR = [AssetDims(1240, 1754, "original"), AssetDims(1600, 1200, "photo")]


def test_three_kinds_are_registered():
    assert {"catheter", "articles", "omr"} <= set(kind_names())
    with pytest.raises(LookupError):
        get_kind("lidar")


def errors_of(kind, annotation, assets):
    with pytest.raises(AnnotationError) as caught:
        get_kind(kind).validate(annotation, assets)
    return {e["path"]: e["message"] for e in caught.value.errors}


def test_catheter_needs_one_entry_per_shot_and_a_consistent_verdict():
    shots = [AssetDims(512, 512)] * 3
    assert "$.shots" in errors_of("catheter", {"verdict": "ok", "shots": [{"defects": []}]}, shots)
    bubble = {"type": "bubble", "box": [1, 1, 9, 9]}
    ok_with_defect = {"verdict": "ok", "shots": [{"defects": [bubble]}, {"defects": []}, {"defects": []}]}
    assert "$.verdict" in errors_of("catheter", ok_with_defect, shots)
    assert "$.shots" in errors_of("catheter", {"verdict": "defect", "shots": [{"defects": []}] * 3}, shots)
    good = dict(ok_with_defect, verdict="defect")
    assert get_kind("catheter").validate(good, shots)["verdict"] == "defect"
    assert "$" in errors_of("catheter", ["not", "an", "object"], shots)
    assert "$.shots[0].defects[0].box" in errors_of(
        "catheter",
        {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [9, 9, 1, 1]}]}, {"defects": []},
                                        {"defects": []}]},
        shots)


def test_articles_geometry_and_page_types():
    spec = get_kind("articles")
    good = {"page_type": "article", "cuts": [{"x0": 0, "y0": 100, "x1": 2000, "y1": 100}],
            "articles": [{"id": "a1", "polygon": [[0, 0], [2000, 0], [2000, 100], [0, 100]]}]}
    assert spec.validate(good, PAGE)["articles"][0]["id"] == "a1"
    errs = errors_of("articles", {"page_type": "ads", "cuts": [], "articles": good["articles"]}, PAGE)
    assert "$.articles" in errs
    errs = errors_of("articles", {"page_type": "article", "cuts": [{"x0": 0, "y0": 0, "x1": 0, "y1": 0}],
                                  "articles": [{"id": "a", "polygon": [[0, 0], [1, 1], [2, 2]]},
                                               {"id": "a", "polygon": [[0, 0], [5000, 0], [0, 5]]}]}, PAGE)
    assert "$.cuts[0]" in errs and "$.articles[0].polygon" in errs and "$.articles[1].id" in errs
    assert "$.articles[1].polygon[1]" in errs
    assert "$.page_type" in errors_of("articles", {"page_type": "weather"}, PAGE)


def test_omr_pairs_homography_and_fix_rules():
    spec = get_kind("omr")
    identity = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert spec.validate({"status": "accepted", "homography": identity}, PAIR)["status"] == "accepted"
    singular = [[0, 0, 0], [0, 0, 0], [0, 0, 1]]
    assert "$.homography" in errors_of("omr", {"status": "accepted", "homography": singular}, PAIR)
    assert "$.homography" in errors_of("omr", {"status": "accepted", "homography": [[1, 0], [0, 1]]}, PAIR)
    assert "$.point_pairs" in errors_of(
        "omr", {"status": "fixed", "homography": identity, "point_pairs": [[[1, 1], [2, 2]]]}, PAIR)
    errs = errors_of("omr", {"status": "fixed", "point_pairs": [[[1300, 1], [2, 2]]] * 4}, PAIR)
    assert "$.point_pairs[0][0]" in errs
    not_finite = [[float("nan"), 0, 0], [0, 1, 0], [0, 0, 1]]
    assert "$.homography[0][0]" in errors_of("omr", {"status": "accepted", "homography": not_finite}, PAIR)
    with pytest.raises(AnnotationError):
        spec.validate({"status": "accepted", "homography": identity}, PAIR[:1])


def test_articles_edit_count():
    spec = get_kind("articles")
    before = {"page_type": "article", "cuts": [{"x0": 0, "y0": 100, "x1": 1000, "y1": 100},
                                               {"x0": 500, "y0": 0, "x1": 500, "y1": 1000}], "articles": []}
    same = spec.count_edits(before, before)
    moved = dict(before, cuts=[{"x0": 0, "y0": 150, "x1": 1000, "y1": 150}, before["cuts"][1]])
    added = dict(before, cuts=before["cuts"] + [{"x0": 0, "y0": 700, "x1": 1000, "y1": 700}])
    assert (same, spec.count_edits(before, moved), spec.count_edits(before, added)) == (0, 1, 1)
