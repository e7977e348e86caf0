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
    box = np.zeros((4, H, W))    # offsets 0: every pixel votes for a box centred on itself
    box[2:, :, :40] = np.log([[[12.0]], [[10.0]]])
    box[2:, :, 40:] = np.log([[[8.0]], [[6.0]]])
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
        cls, energy, box, weight = make_targets(shape, symbols, ci, 8, scale=scale)
        assert weight.min() >= 0.25 and weight[cls == 0].max() == 1.0
        e, c, b = _maps_from_targets(cls, energy, box, len(classes), 8)
        dets = energy_to_boxes(e, c, b, classes, threshold=3, stride=stride)
        per = match_detections(dets, symbols, iou=0.5)
        assert sum(sum(v[1]) for v in per.values()) == 4, (scale, [d.to_dict() for d in dets])


def test_pieces_of_one_symbol_vote_for_one_box_and_classes_stay_apart():
    levels, H, W = 8, 40, 60
    energy = np.zeros((levels, H, W))
    energy[0] = 1
    # symbol "a" (box 20 x 10 centred at (20, 20)) cut in two by a 2-px column of class "b" at x = 20..21
    energy[0, 17:24, 12:28] = 0
    energy[6, 17:24, 12:28] = 1
    cls = np.zeros((3, H, W))
    cls[0] = 1
    cls[:, 17:24, 12:28] = 0
    cls[1, 17:24, 12:28] = 1
    cls[1, 17:24, 20:22] = 0
    cls[2, 17:24, 20:22] = 1          # touches both pieces of "a": must not merge with them
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    box = np.zeros((4, H, W))
    box[0] = (20.0 - xs) / 20.0       # every pixel of "a" points at its centre
    box[1] = (20.0 - ys) / 10.0
    box[2], box[3] = np.log(20.0), np.log(10.0)
    box[0, 17:24, 20:22] = (21.0 - xs[17:24, 20:22]) / 2.0   # "b": a 2 x 7 box
    box[1, 17:24, 20:22] = (20.5 - ys[17:24, 20:22]) / 7.0
    box[2, 17:24, 20:22], box[3, 17:24, 20:22] = np.log(2.0), np.log(7.0)
    dets = energy_to_boxes(energy, cls, box, ["a", "b"], threshold=3)
    a = [d for d in dets if d.cls == "a"]
    b = [d for d in dets if d.cls == "b"]
    assert len(a) == 1 and np.allclose(a[0].bbox, (10, 15, 30, 25), atol=1e-6)
    assert len(b) == 1 and np.allclose(b[0].bbox, (20, 17, 22, 24), atol=1e-6)


def test_ground_truth_maps_give_full_map(bach_page, pair):
    """targets -> one-hot maps -> energy_to_boxes -> mAP must be ~1: the post-processing and the metric
    lose nothing on a real page (render and photo) at the network's resolution."""
    from ml.omr.transfer import map_boxes

    s = pair(1000, "moderate")
    boxes = map_boxes(s.original.boxes(), s.mapping.page_to_photo)
    pages = [(bach_page.image.shape, [x.to_dict() for x in bach_page.symbols]),
             (s.photo.shape, [{"class": x.cls, "bbox": b.tolist()} for x, b in zip(s.original.symbols, boxes)])]
    classes = sorted({x["class"] for _, syms in pages for x in syms})
    ci = {c: i for i, c in enumerate(classes)}
    for shape, syms in pages:
        cls, energy, box, _ = make_targets(shape, syms, ci, 8)
        e, c, b = _maps_from_targets(cls, energy, box, len(classes), 8)
        dets = energy_to_boxes(e, c, b, classes, threshold=3)
        m = mean_average_precision([match_detections(dets, syms)], classes)
        assert m["mAP"] > 0.99 and min(m["recall"].values()) > 0.95, {k: v for k, v in m["ap"].items() if v < 1}


def test_too_many_components_are_capped():
    levels, H, W = 8, 64, 64
    energy = np.zeros((levels, H, W))
    energy[0] = 1
    energy[:, ::2, ::2] = 0
    energy[7, ::2, ::2] = 1          # 1024 isolated one-pixel cores
    cls = np.zeros((2, H, W))
    cls[1] = 1
    box = np.zeros((4, H, W))
    assert len(energy_to_boxes(energy, cls, box, ["a"], min_component=1, max_detections=100)) == 100


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
