"""The catheter gate's per-item figure: the share of a proposal the operator keeps."""
import pytest

from workers.adapters.catheter_golden import shot_agreement

BUBBLE = {"type": "bubble", "box": [10, 10, 30, 30]}
SCRATCH = {"type": "axial_scratch", "box": [100, 40, 140, 200]}


@pytest.mark.parametrize("proposed, truth, expected", [
    ([], [], 1.0),                              # an OK shot called OK
    ([BUBBLE], [], 0.0),                        # an OK shot called defective: everything proposed is removed
    ([], [BUBBLE], 0.0),                        # a missed defect
    ([BUBBLE], [BUBBLE], 1.0),
    ([BUBBLE, SCRATCH], [BUBBLE], 0.5),         # one spurious box beside the right one
    ([{**BUBBLE, "type": "inclusion"}], [BUBBLE], 0.0),   # the right place, the wrong type: not kept
    ([{"type": "bubble", "box": [12, 12, 32, 32]}], [BUBBLE], 1.0),   # a box a little off is kept
])
def test_shot_agreement_counts_what_the_operator_keeps(proposed, truth, expected):
    assert shot_agreement(proposed, truth) == pytest.approx(expected)


def test_fewer_spurious_boxes_score_higher_even_at_the_same_verdict():
    noisy = [BUBBLE, SCRATCH, {"type": "inclusion", "box": [200, 200, 220, 220]}]
    assert shot_agreement([BUBBLE], [BUBBLE]) > shot_agreement(noisy[:2], [BUBBLE]) > shot_agreement(noisy, [BUBBLE])
