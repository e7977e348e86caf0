"""The one COCO reader: every refusal names the field by its JSON path and quotes what it found."""
from __future__ import annotations

import pytest

from formats.catheter.imports import read_coco_file
from formats.common import AnnotationError
from formats.common.coco import read_coco_images


def doc(annotations, width=64, height=48):
    return {"images": [{"id": 1, "file_name": "a.png", "width": width, "height": height}],
            "categories": [{"id": 7, "name": "bubble"}, {"id": 8, "name": "crack"}],
            "annotations": [{"id": k + 1, "image_id": 1, "category_id": 7, **a} for k, a in enumerate(annotations)]}


def errors(document) -> list[str]:
    with pytest.raises(AnnotationError) as caught:
        read_coco_images(document)
    return [f"{e['path']}: {e['message']}" for e in caught.value.errors]


def test_a_bad_number_is_named_by_its_path_and_value():
    assert errors(doc([{"bbox": [1, 1, 2, 2]}, {"bbox": [1, "abc", 2, 2]}])) == [
        "$.annotations[1].bbox[1]: must be a finite number (got 'abc')"]
    assert errors(doc([{"segmentation": [[1, 1, 5, 1, "x", 5]]}])) == [
        "$.annotations[0].segmentation[0][4]: must be a finite number (got 'x')"]
    assert errors(doc([], width=0, height=1.5)) == [
        "$.images[0].width: must be the image's width in pixels, a positive whole number (got 0)",
        "$.images[0].height: must be the image's height in pixels, a positive whole number (got 1.5)"]


def test_an_unknown_class_is_named_by_the_annotations_path():
    content = __import__("json").dumps(doc([{"bbox": [1, 1, 2, 2]}, {"bbox": [1, 1, 2, 2], "category_id": 8}]))
    with pytest.raises(AnnotationError) as caught:
        read_coco_file(content.encode())
    assert caught.value.errors[0]["path"] == "$.annotations[1].category_id"


def test_the_file_gives_each_image_its_size_and_path():
    (image,) = read_coco_images(doc([{"bbox": [1, 1, 2, 2]}])).values()
    assert (image.width, image.height, image.path) == (64, 48, "$.images[0]")
    assert image.shapes[0].path == "$.annotations[0]"
