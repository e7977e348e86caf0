import numpy as np

from ml.omr.align import Aligner
from ml.omr.transfer import ink_share, map_boxes, transfer, transfer_iou

HEADS = {"noteheadBlack", "noteheadHalf", "noteheadWhole"}


def test_transfer_noteheads_iou_and_ink(pair):
    s = pair(1001, "moderate")
    a = Aligner().align(s.original.image, s.photo)
    ious = transfer_iou(s.original.symbols, a.homography, s.mapping.page_to_photo, HEADS)
    assert len(ious) > 20 and np.median(ious) >= 0.9, np.median(ious)
    symbols, report = transfer(s.original.symbols, a.homography, s.photo, original=s.original.image)
    assert report["transferred"] == len(s.original.symbols) and report["ink_share"] > 0.95
    # the same boxes 12 px off land on paper much more often
    shifted = a.homography.copy()
    shifted[0] += 12 * shifted[2]
    _, bad = transfer(s.original.symbols, shifted, s.photo, original=s.original.image)
    assert bad["ink_share"] < report["ink_share"] - 0.2


def test_map_boxes_identity_and_ink_share():
    boxes = np.array([[10, 10, 20, 30], [0, 0, 5, 5]], float)
    assert np.allclose(map_boxes(boxes, np.eye(3)), boxes)
    img = np.full((50, 50), 240, np.uint8)
    img[12:28, 12:18] = 20
    share, on = ink_share(img, boxes)
    assert on.tolist() == [True, False] and share == 0.5
