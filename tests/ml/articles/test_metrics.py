from ml.articles.metrics import article_stats, cut_stats, page_metrics, segment_distance, summarize

W = 2000  # page width: the cut tolerance is 20 px


def _c(x0, y0, x1, y1):
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


GT = [_c(500, 100, 500, 1500), _c(100, 1500, 1900, 1500), _c(1200, 1500, 1200, 2800)]


def test_segment_distance():
    assert segment_distance(_c(0, 0, 0, 100), _c(5, 0, 5, 100)) == 5
    assert segment_distance(_c(0, 0, 0, 100), _c(0, 0, 0, 130)) == 30


def test_perfect_and_tolerance():
    s = cut_stats(GT, GT, W)
    assert (s["tp"], s["fp"], s["fn"], s["edits"]) == (3, 0, 0, 0)
    near = [_c(510, 90, 510, 1510), GT[1], GT[2]]          # within 1% of the width
    assert cut_stats(near, GT, W)["tp"] == 3
    far = [_c(560, 100, 560, 1500), GT[1], GT[2]]          # 3% off: one move
    s = cut_stats(far, GT, W)
    assert (s["tp"], s["fp"], s["fn"], s["moves"], s["edits"]) == (2, 1, 1, 1, 1)


def test_one_to_one_adds_and_deletes():
    dup = GT + [_c(502, 100, 502, 1500)]                  # a duplicate of a true cut is a false positive
    s = cut_stats(dup, GT, W)
    assert (s["tp"], s["fp"], s["deletes"], s["edits"]) == (3, 1, 1, 1)
    s = cut_stats(GT[:1] + [_c(1900, 100, 1900, 200)], GT, W)   # missing two, one stray far away
    assert (s["tp"], s["fn"], s["fp"], s["adds"], s["deletes"], s["edits"]) == (1, 2, 1, 2, 1, 3)
    # orientation matters: a horizontal cut never matches a vertical one
    assert cut_stats([_c(480, 800, 520, 800)], [_c(500, 780, 500, 820)], W)["tp"] == 0


def test_article_f1_with_iou_and_hungarian():
    a = [[0, 0], [1000, 0], [1000, 1000], [0, 1000]]
    b = [[1000, 0], [2000, 0], [2000, 1000], [1000, 1000]]
    shifted = [[0, 0], [1000, 0], [1000, 600], [0, 600]]    # IoU 0.6 with a
    s = article_stats([a, b], [a, b], (2000, 2000))
    assert (s["tp"], s["fp"], s["fn"]) == (2, 0, 0) and s["mean_iou"] > 0.97
    s = article_stats([shifted], [a], (2000, 2000))
    assert s["tp"] == 1
    merged = [[0, 0], [2000, 0], [2000, 1000], [0, 1000]]  # IoU 0.5 with each: a merge is not a match
    s = article_stats([[[0, 0], [2000, 0], [2000, 900], [0, 900]]], [a, b], (2000, 2000))
    assert s["tp"] == 0 and s["fn"] == 2
    assert article_stats([merged], [], (2000, 2000))["fp"] == 1


def test_summary_edits_and_no_edit_share():
    p1 = page_metrics({"cuts": GT, "articles": []}, {"cuts": GT, "articles": []}, (W, 3000))
    p2 = page_metrics({"cuts": GT[:2], "articles": [], "page_type": "tv"}, {"cuts": GT, "articles": []}, (W, 3000))
    assert p1["edits"] == 0 and p2["edits"] == 2           # one add + a wrong page type
    s = summarize([p1, p2])
    assert s["no_edit_share"] == 0.5 and s["edits_median"] == 1.0
    assert abs(s["cut"]["recall"] - 5 / 6) < 1e-9 and s["cut"]["precision"] == 1.0
