import numpy as np

from ml.omr.dwd import (Detection, add_margin, energy_to_boxes, make_targets, match_detections,
                        mean_average_precision)


def _maps_from_targets(cls, energy, box, n_classes, levels):
    e = np.eye(levels)[energy].transpose(2, 0, 1)
    c = np.eye(n_classes + 1)[cls].transpose(2, 0, 1)
    return e, c, box


def test_energy_to_boxes_on_hand_made_maps():
    levels, H, W = 8, 60, 80
    energy = np.zeros((levels, H, W))
    energy[0] = 1
    # two symbols: a peak of level 7 at (20, 20) and one at (60, 40), as concentric squares
    for (cx, cy, r) in ((20, 20, 6), (60, 40, 4)):
        for lvl in range(1, levels):
            half = max(0, r - lvl * r // levels)
            energy[:, cy - half:cy + half + 1, cx - half:cx + half + 1] = 0
            energy[lvl, cy - half:cy + half + 1, cx - half:cx + half + 1] = 1
    cls = np.zeros((3, H, W))
    cls[0] = 1
    cls[:, :, :40] = 0
    cls[1, :, :40] = 1          # left half: class a
    cls[:, :, 40:] = 0
    cls[2, :, 40:] = 1          # right half: class b
    box = np.zeros((2, H, W))
    box[:, :, :40] = np.log([[[12.0]], [[10.0]]])
    box[:, :, 40:] = np.log([[[8.0]], [[6.0]]])
    dets = sorted(energy_to_boxes(energy, cls, box, ["a", "b"], threshold=3), key=lambda d: d.bbox[0])
    assert [d.cls for d in dets] == ["a", "b"]
    assert np.allclose(dets[0].bbox, (20.5 - 6, 20.5 - 5, 20.5 + 6, 20.5 + 5), atol=0.01)
    assert np.allclose(dets[1].bbox, (60.5 - 4, 40.5 - 3, 60.5 + 4, 40.5 + 3), atol=0.01)
    assert all(0 < d.score <= 1 for d in dets)
    # stride: map pixels -> image pixels
    d2 = sorted(energy_to_boxes(energy, cls, box, ["a", "b"], threshold=3, stride=2), key=lambda d: d.bbox[0])
    assert np.isclose((d2[0].bbox[0] + d2[0].bbox[2]) / 2, 41.0)


def test_targets_round_trip_to_boxes():
    symbols = [{"class": "noteheadBlack", "bbox": [10.0, 10.0, 23.0, 21.0]},
               {"class": "stem", "bbox": [22.0, 30.0, 23.5, 70.0]},
               {"class": "noteheadBlack", "bbox": [40.0, 12.0, 53.0, 23.0]},
               {"class": "clefG", "bbox": [60.0, 5.0, 80.0, 60.0]}]
    classes = ["clefG", "noteheadBlack", "stem"]
    ci = {c: i for i, c in enumerate(classes)}
    for scale, stride in ((1.0, 1), (0.5, 2)):
        shape = (int(80 * scale), int(100 * scale))
        cls, energy, box = make_targets(shape, symbols, ci, 8, scale=scale)
        e, c, b = _maps_from_targets(cls, energy, box, len(classes), 8)
        dets = energy_to_boxes(e, c, b, classes, threshold=3, stride=stride)
        per = match_detections(dets, symbols, iou=0.5)
        assert sum(sum(v[1]) for v in per.values()) == 4, (scale, [d.to_dict() for d in dets])


def test_margin_patches_add_symbols():
    rng = np.random.default_rng(0)
    img = np.full((200, 100), 250, np.uint8)
    bank = [(np.full((12, 10), 30, np.uint8), {"class": "fermataAbove", "bbox": [2, 2, 8, 10]})]
    out, syms = add_margin(img, [], bank, 60, 5, rng)
    assert out.shape == (200, 160) and len(syms) == 5
    for s in syms:
        x0, y0, x1, y1 = s["bbox"]
        assert x0 >= 100 and (out[int(y0):int(y1), int(x0):int(x1)] < 100).all()


def test_map_metric():
    truth = [{"class": "a", "bbox": [0, 0, 10, 10]}, {"class": "a", "bbox": [20, 0, 30, 10]}]
    dets = [Detection("a", (0, 0, 10, 10), 0.9), Detection("a", (50, 50, 60, 60), 0.8),
            Detection("a", (21, 0, 31, 10), 0.7)]
    m = mean_average_precision([match_detections(dets, truth)], ["a"])
    assert np.isclose(m["ap"]["a"], 0.5 + 0.5 * 2 / 3) and m["recall"]["a"] == 1.0
