"""The catheter review diff: identical defects drop out, overlapping ones pair as changed, the rest are
added or removed; every shape names its shot."""
from webapp.catheter.diff import review_diff

SCRATCH = {"type": "axial_scratch", "box": [10, 10, 50, 200], "polyline": [[10, 10], [50, 200]]}
BUBBLE = {"type": "bubble", "box": [300, 300, 320, 320], "point": [310, 310]}


def test_added_removed_changed_per_shot():
    proposal = {"verdict": "defect", "shots": [{"defects": [SCRATCH, BUBBLE]}, {"defects": [BUBBLE]}]}
    moved = {**SCRATCH, "box": [12, 10, 52, 200], "polyline": [[12, 10], [52, 200]]}
    inclusion = {"type": "inclusion", "box": [100, 100, 110, 110], "polygon": [[100, 100], [110, 100], [105, 110]]}
    answer = {"verdict": "defect", "shots": [{"defects": [moved, BUBBLE]}, {"defects": [inclusion]}]}
    d = review_diff(proposal, answer)
    assert d["changed"] == [{"before": {"shot": 0, **SCRATCH}, "after": {"shot": 0, **moved}}]
    assert d["removed"] == [{"shot": 1, **BUBBLE}]
    assert d["added"] == [{"shot": 1, **inclusion}]
    assert "verdict" not in d


def test_against_nothing_everything_is_added_and_a_verdict_change_is_said():
    answer = {"verdict": "defect", "shots": [{"defects": [SCRATCH]}]}
    assert review_diff(None, answer) == {"added": [{"shot": 0, **SCRATCH}], "removed": [], "changed": []}
    d = review_diff({"verdict": "defect", "shots": [{"defects": [SCRATCH]}]},
                    {"verdict": "ok", "shots": [{"defects": []}]})
    assert d["removed"] == [{"shot": 0, **SCRATCH}] and d["verdict"] == {"before": "defect", "after": "ok"}
    far = {**SCRATCH, "box": [200, 10, 240, 200], "polyline": [[200, 10], [240, 200]]}
    d = review_diff({"verdict": "defect", "shots": [{"defects": [SCRATCH]}]},
                    {"verdict": "defect", "shots": [{"defects": [far]}]})
    assert len(d["added"]) == 1 and len(d["removed"]) == 1 and d["changed"] == []   # no overlap: not "changed"
