"""The reviewer's view of an omr answer against the proposal it started from."""
from webapp.omr.diff import review_diff

H = [[1.0, 0.0, 5.0], [0.0, 1.0, 3.0], [0.0, 0.0, 1.0]]
PROPOSAL = {"status": "rejected", "homography": H, "point_pairs": [], "reasons": ["page curl"]}


def test_a_fix_lists_its_pairs_and_the_changed_verdict():
    pairs = [[[10, 10], [15, 13]], [[900, 10], [905, 14]], [[900, 1200], [904, 1203]], [[10, 1200], [16, 1204]]]
    fixed = {"status": "fixed", "homography": [[1.0, 0.0, 5.2], [0.0, 1.0, 3.1], [0.0, 0.0, 1.0]],
             "point_pairs": pairs, "reasons": []}
    d = review_diff(PROPOSAL, fixed)
    assert [a["pair"] for a in d["added"]] == [0, 1, 2, 3] and d["removed"] == []
    assert d["changed"] == [{"before": {"status": "rejected", "reasons": ["page curl"], "homography": H},
                             "after": {"status": "fixed", "reasons": [], "homography": fixed["homography"]}}]
    assert d["status"] == {"before": "rejected", "after": "fixed"}


def test_the_proposal_taken_as_is_changes_nothing_and_no_start_is_all_new():
    assert review_diff(PROPOSAL, dict(PROPOSAL)) == {"added": [], "removed": [], "changed": [],
                                                     "status": {"before": "rejected", "after": "rejected"}}
    d = review_diff(None, {"status": "accepted", "homography": H, "point_pairs": [], "reasons": []})
    assert len(d["changed"]) == 1 and d["changed"][0]["before"]["status"] is None
