"""Run-length masks (CVAT's ``iscrowd: 1``, pycocotools' compressed counts) become polygons, checked with
pycocotools itself: its encoder makes the masks, its rasteriser draws the polygons back."""
from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from formats.common import AnnotationError
from formats.common.coco import read_coco_images
from formats.common.rle import MaskError, counts_from_string, outline

H, W = 48, 64


def encoded(mask: np.ndarray) -> str:
    return coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"].decode()


def plain_counts(mask: np.ndarray) -> list[int]:
    """Uncompressed counts as CVAT writes them: runs over the column-major pixels, 0s first."""
    flat = mask.flatten(order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat, [1 - flat[-1]]])))
    return np.diff(np.concatenate([[0], changes])).tolist()


def drawn_back(polygon: list[list[float]]) -> np.ndarray:
    rle = coco_mask.merge(coco_mask.frPyObjects([[v for p in polygon for v in p]], H, W))
    return coco_mask.decode(rle).astype(bool)


def disk(cx, cy, r) -> np.ndarray:
    yy, xx = np.mgrid[:H, :W]
    return (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r


def test_the_outline_of_a_mask_is_drawn_back_to_the_same_pixels_by_pycocotools():
    shape = disk(30, 20, 12)
    shape[14:26, 40:50] = True            # a block on its right side
    for counts in (encoded(shape), plain_counts(shape)):
        result = outline(counts, H, W)
        assert np.array_equal(drawn_back(result.polygon), shape)
        assert (result.pieces, result.holes) == (1, 0)
    assert counts_from_string(encoded(shape)) == plain_counts(shape)


def test_only_the_largest_piece_is_outlined_without_its_holes():
    shape = disk(20, 20, 14)
    shape[17:23, 17:23] = False           # a hole
    shape[40:44, 50:60] = True            # a speck elsewhere
    result = outline(encoded(shape), H, W)
    assert (result.pieces, result.holes) == (2, 1)
    filled = disk(20, 20, 14)
    assert np.array_equal(drawn_back(result.polygon), filled)


def test_pieces_that_touch_at_a_corner_stay_apart():
    shape = np.zeros((H, W), bool)
    shape[2:6, 2:6] = True
    shape[6:12, 6:12] = True              # meets the first at the corner (6, 6) only
    result = outline(encoded(shape), H, W)
    assert result.pieces == 2 and result.polygon == [[6.0, 6.0], [12.0, 6.0], [12.0, 12.0], [6.0, 12.0]]


@pytest.mark.parametrize("counts, words", [([10, 5], "cover 15 pixels; a 64×48 mask has 3072"),
                                           ([H * W], "empty"), ([3000, -5, 77], "negative"),
                                           ("0 ", "no count is written with"), ("a", "middle of a number")])
def test_a_mask_that_cannot_be_read_says_why(counts, words):
    with pytest.raises(MaskError, match=words):
        outline(counts, H, W)


def cvat(segmentation, width=W, height=H) -> dict:
    return {"images": [{"id": 1, "file_name": "a.png", "width": width, "height": height}],
            "categories": [{"id": 1, "name": "bubble"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 1, "bbox": [16, 6, 28, 28],
                             "area": 600, "segmentation": segmentation}]}


def test_a_cvat_crowd_mask_becomes_a_polygon_not_a_box():
    shape = disk(30, 20, 14)
    for segmentation in ({"size": [H, W], "counts": plain_counts(shape)}, {"size": [H, W], "counts": encoded(shape)}):
        (image,) = read_coco_images(cvat(segmentation)).values()
        (s,) = image.shapes
        assert s.polygon is not None and len(s.polygon) > 4 and np.array_equal(drawn_back(s.polygon), shape)
        assert s.box == [16, 6, 44, 34]


@pytest.mark.parametrize("segmentation, error", [
    ({"size": [W, H], "counts": [H * W]}, "$.annotations[0].segmentation.size: the mask is 48×64; its image is 64×48"),
    ({"size": [H], "counts": []}, "$.annotations[0].segmentation.size: a mask's size is [height, width] in pixels "
                                  "(got list)"),
    ({"size": [H, W], "counts": [1.5]}, "$.annotations[0].segmentation.counts: a mask's counts are a list of whole "
                                        "numbers or a compressed string"),
    ({"size": [H, W], "counts": [7]}, "$.annotations[0].segmentation: the counts cover 7 pixels; a 64×48 mask has "
                                      "3072"),
    ("mask", "$.annotations[0].segmentation: must be polygons [[x1, y1, x2, y2, ...]] or a run-length mask "
             "(got 'mask')")])
def test_a_bad_mask_is_refused_with_its_path(segmentation, error):
    with pytest.raises(AnnotationError) as caught:
        read_coco_images(cvat(segmentation))
    assert [f"{e['path']}: {e['message']}" for e in caught.value.errors] == [error]


def test_what_a_mask_may_cost_is_bounded_before_the_work():
    huge = cvat({"size": [20000, 20000], "counts": [0, 20000 * 20000]}, width=20000, height=20000)
    with pytest.raises(AnnotationError) as caught:
        read_coco_images(huge)       # refused before 400 MB are allocated
    assert caught.value.errors[0]["message"] == "the mask spans 400,000,000 pixels; at most 268,435,456 are decoded"
    yy, xx = np.mgrid[:500, :500]
    checkerboard = (yy + xx) % 2 == 0
    for counts in (encoded(checkerboard), plain_counts(checkerboard)):     # 250,000 runs
        with pytest.raises(MaskError, match="more than 200,000 runs"):
            outline(counts, 500, 500)
    stripes = np.zeros((500, 500), bool)
    stripes[:, ::2] = True                   # 500 runs (column-major), but 250 × 1002 pixel edges
    with pytest.raises(MaskError, match="run over 250,500 pixel edges"):
        outline(encoded(stripes), 500, 500)


def test_the_masks_of_one_file_share_one_budget(monkeypatch):
    from formats.common import coco

    monkeypatch.setattr(coco, "MAX_MASK_EDGES", 130)     # the budget's size, not its logic, is set here
    square = np.zeros((H, W), bool)
    square[5:20, 5:20] = True                              # 60 outline edges
    doc = cvat({"size": [H, W], "counts": encoded(square)})
    doc["annotations"] += [{**doc["annotations"][0], "id": k} for k in (2, 3)]
    with pytest.raises(AnnotationError) as caught:
        read_coco_images(doc)
    assert [f"{e['path']}: {e['message']}" for e in caught.value.errors] == [
        "$.annotations[2].segmentation: the mask's outlines run over 60 pixel edges (at most 10: a noisy or "
        "scattered mask); send polygons"]
    monkeypatch.setattr(coco, "MAX_MASK_EDGES", 120)
    with pytest.raises(AnnotationError) as caught:
        read_coco_images(doc)
    assert caught.value.errors[0]["message"].startswith("the file's masks together span more than 268,435,456 "
                                                        "pixels, 2,000,000 runs or 120 outline edges")
