"""Articles from cuts and page geometry, snapping, merging and the threshold preview (formats.articles.layout),
and the PAGE XML round trip of an operator's answer made with them."""
from formats.articles import count_edits, match_cuts, review_diff, validate
from formats.articles.layout import (
    articles_from_cuts, candidates_from_levels, cuts_at_threshold, merge_articles, page_geometry, recompute, snap_cut,
    straighten,
)
from formats.articles.pagexml import from_page_xml, to_page_xml
from formats.common import AssetDims
from formats.common.geometry import polygon_area

W, H = 1000, 1500
GEO = page_geometry({"frame": [50, 100, 950, 1400], "gutters": [350, 650], "rules": [[50, 700, 950, 700]]}, W, H)
V1 = {"x0": 350, "y0": 100, "x1": 350, "y1": 1400}
V2 = {"x0": 650, "y0": 100, "x1": 650, "y1": 700}
H1 = {"x0": 350, "y0": 700, "x1": 950, "y1": 700}


def test_straighten_only_within_a_few_degrees():
    assert straighten({"x0": 0, "y0": 10, "x1": 100, "y1": 14})[0]["y0"] == 12  # 2.3 degrees: horizontal
    assert straighten({"x0": 10, "y0": 0, "x1": 14, "y1": 100})[0]["x1"] == 12
    cut, done = straighten({"x0": 0, "y0": 0, "x1": 100, "y1": 30})            # 16.7 degrees: kept as drawn
    assert not done and cut["y1"] == 30


def test_a_drawn_cut_snaps_to_the_gutter_the_rule_and_its_neighbours():
    cut, what = snap_cut({"x0": 655, "y0": 120, "x1": 648, "y1": 690}, GEO, [V1], W, H)
    assert (cut["x0"], cut["x1"], cut["y0"], cut["y1"]) == (650, 650, 100, 700)
    assert what == ["axis", "gutter", "end:frame", "end:rule"]
    cut, what = snap_cut({"x0": 362, "y0": 704, "x1": 940, "y1": 699}, GEO, [V1, V2], W, H)
    assert (cut["x0"], cut["y0"], cut["x1"], cut["y1"]) == (350, 700, 950, 700)
    assert "rule" in what and "end:cut" in what and "end:frame" in what


def test_a_cut_far_from_everything_keeps_its_place():
    cut, what = snap_cut({"x0": 500, "y0": 300, "x1": 502, "y1": 500}, GEO, [V1], W, H)
    assert (cut["x0"], cut["y0"], cut["y1"]) == (501, 300, 500) and what == ["axis"]


def test_articles_follow_the_cuts_and_a_dangling_cut_separates_nothing():
    arts = articles_from_cuts([V1, V2, H1], GEO, W, H)
    assert [a["id"] for a in arts] == ["a1", "a2", "a3", "a4"]
    assert sorted(polygon_area(a["polygon"]) for a in arts) == sorted(
        [300 * 1300, 300 * 600, 300 * 600, 600 * 700])
    assert sum(polygon_area(a["polygon"]) for a in arts) == 900 * 1300  # the frame, tiled
    dangling = {"x0": 800, "y0": 800, "x1": 800, "y1": 1200}
    assert len(articles_from_cuts([V1, V2, H1, dangling], GEO, W, H)) == 4
    assert articles_from_cuts([], GEO, W, H)[0]["polygon"] == [[50, 100], [950, 100], [950, 1400], [50, 1400]]


def test_ids_and_reading_order_are_kept_through_a_split_and_a_merge():
    before = articles_from_cuts([V1, V2, H1], GEO, W, H)
    before = [before[3], *before[:3]]                       # the operator's order: the bottom article first
    split = {"x0": 50, "y0": 1000, "x1": 350, "y1": 1000}  # across column 1
    after = articles_from_cuts([V1, V2, H1, split], GEO, W, H, previous=before)
    ids = [a["id"] for a in after]
    assert ids[:1] == [before[0]["id"]] and len(ids) == 5 and "a5" in ids
    assert ids.index("a5") == ids.index("a1") + 1           # the piece split off column 1 comes right after it
    out = recompute(cuts=[V1, V2, H1, split], geometry=GEO, width=W, height=H, previous=after, merge=("a2", "a3"))
    assert len(out["articles"]) == 4 and [a["id"] for a in out["articles"]][0] == before[0]["id"]
    assert V2 not in out["cuts"] and V1 in out["cuts"] and H1 in out["cuts"]


def test_merge_removes_only_the_piece_of_a_long_cut_between_the_two():
    cuts = [V1, V2, H1]
    arts = articles_from_cuts(cuts, GEO, W, H)
    col1 = next(a["id"] for a in arts if [50, 100] in a["polygon"])
    bottom = next(a["id"] for a in arts if [950, 1400] in a["polygon"])
    out = merge_articles(cuts, arts, col1, bottom, GEO, W)
    assert {"x0": 350.0, "y0": 100.0, "x1": 350.0, "y1": 700.0} in out and V2 in out and H1 in out
    try:
        merge_articles(cuts, arts, col1, next(a["id"] for a in arts if [950, 100] in a["polygon"]), GEO, W)
    except ValueError as exc:
        assert "do not meet" in str(exc)
    else:
        raise AssertionError("two articles that do not touch cannot be merged")


def test_threshold_preview_gives_the_proposal_at_the_threshold_in_use():
    levels = {0.1: [V1, V2, H1, {"x0": 50, "y0": 1000, "x1": 350, "y1": 1000}], 0.3: [V1, V2, H1],
              0.5: [V1, {**V2, "y1": 690}], 0.7: [V1], 0.9: []}
    cands = candidates_from_levels(levels, 0.3, W)
    assert {c["confidence"] for c in cands} == {0.7, 0.5, 0.3, 0.1}
    at = lambda t: [{k: c[k] for k in ("x0", "y0", "x1", "y1")} for c in cuts_at_threshold(cands, t)]  # noqa: E731
    assert at(0.3) == levels[0.3]
    assert at(0.6) == [V1] and len(at(0.5)) == 2 and len(at(0.1)) == 4 and at(0.95) == []


def test_geometry_from_a_prediction_is_checked_not_trusted():
    g = page_geometry({"frame": [-5, 10, 5000, "x"], "gutters": [100, "a", None, 2000], "rules": [[1, 2, 3]]}, W, H)
    assert g == {"frame": [0.0, 0.0, 1000.0, 1500.0], "gutters": [100.0], "rules": []}
    assert page_geometry(None, W, H)["frame"] == [0.0, 0.0, 1000.0, 1500.0]


def test_review_diff_counts_what_the_edit_count_counts():
    before = {"page_type": "article", "cuts": [V1, V2, H1]}
    after = {"page_type": "article", "cuts": [V1, {**V2, "y1": 660}, {"x0": 50, "y0": 1000, "x1": 350, "y1": 1000}]}
    d = review_diff(before, after)
    assert (len(d["added"]), len(d["removed"]), len(d["changed"])) == (1, 1, 1)
    assert d["edits"] == count_edits(before, after) == 3
    m = match_cuts(before["cuts"], after["cuts"])
    assert m["same"] == [(V1, V1)]


def test_an_operator_answer_round_trips_through_page_xml_with_its_ids():
    cuts = [V1, V2, H1, {"x0": 50, "y0": 1000, "x1": 350, "y1": 1000}]
    previous = articles_from_cuts(cuts[:3], GEO, W, H)
    out = recompute(cuts=cuts, geometry=GEO, width=W, height=H, previous=[previous[2], *previous[:2], previous[3]])
    answer = validate({"page_type": "article", "cuts": out["cuts"], "articles": out["articles"]},
                      [AssetDims(W, H, "page")])
    back, width, height = from_page_xml(to_page_xml(answer, W, H, "page.png"))
    assert (width, height) == (W, H)
    assert back == answer
    ads = {"page_type": "ads", "cuts": [], "articles": []}
    assert from_page_xml(to_page_xml(ads, W, H))[0] == ads
