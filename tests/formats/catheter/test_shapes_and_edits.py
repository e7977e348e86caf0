"""The catheter annotation: boxes with at most one polygon, polyline or point, and a defect id."""
import math

import pytest

from formats.catheter import annotation as schema
from formats.common.checker import AnnotationError, AssetDims

SHOTS = [AssetDims(400, 300)] * 2


def series(*defects, second=()):
    return {"verdict": "defect", "shots": [{"defects": list(defects)}, {"defects": list(second)}]}


def errors_of(annotation):
    with pytest.raises(AnnotationError) as caught:
        schema.validate(annotation, SHOTS)
    return {e["path"]: e["message"] for e in caught.value.errors}


def test_each_shape_is_kept_with_its_box_and_id():
    ann = series({"type": "axial_scratch", "box": [10, 10, 50, 90], "polyline": [[10, 10], [30.5, 50], [50, 90]],
                  "id": "d1"},
                 {"type": "bubble", "box": [100, 100, 110, 110], "point": [105, 105]},
                 second=[{"type": "inclusion", "box": [0, 0, 40, 40], "polygon": [[0, 0], [40, 0], [20, 40]],
                          "id": "d1"},
                         {"type": "radial_scratch", "box": [200, 200, 260, 210]}])
    clean = schema.validate(ann, SHOTS)
    first, second = clean["shots"]
    assert first["defects"][0] == {"type": "axial_scratch", "box": [10, 10, 50, 90],
                                   "polyline": [[10, 10], [30.5, 50], [50, 90]], "id": "d1"}
    assert first["defects"][1]["point"] == [105, 105]
    assert second["defects"][0]["polygon"] == [[0, 0], [40, 0], [20, 40]]
    assert set(second["defects"][1]) == {"type", "box"}


@pytest.mark.parametrize("defect, path", [
    # outside the image
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [500, 5]}, "$.shots[0].defects[0].point"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [math.nan, 5]}, "$.shots[0].defects[0].point[0]"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [5, math.inf]}, "$.shots[0].defects[0].point[1]"),
    # unknown label
    ({"type": "scratch", "box": [1, 1, 9, 9]}, "$.shots[0].defects[0].type"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "polyline": [[1, 1]]}, "$.shots[0].defects[0].polyline"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "polyline": [[2, 2], [2, 301]]}, "$.shots[0].defects[0].polyline[1]"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "polygon": [[1, 1], [9, 9]]}, "$.shots[0].defects[0].polygon"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [5, 5], "polygon": [[1, 1], [9, 1], [5, 9]]},
     "$.shots[0].defects[0]"),
    # outside its box
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [50, 50]}, "$.shots[0].defects[0].point"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": "x" * 65}, "$.shots[0].defects[0].id"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": 7}, "$.shots[0].defects[0].id"),
    ({"type": "bubble", "box": [1, 1, 9, 401]}, "$.shots[0].defects[0].box"),
])
def test_bad_shapes_are_refused_naming_the_field(defect, path):
    errors = errors_of(series(defect))
    assert path in errors, errors


def test_count_edits_sees_a_moved_vertex_and_a_new_shape():
    before = series({"type": "axial_scratch", "box": [10, 10, 50, 90], "polyline": [[10, 10], [50, 90]]})
    assert schema.count_edits(before, before) == 0
    moved = series({"type": "axial_scratch", "box": [10, 10, 50, 90], "polyline": [[10, 10], [40, 60], [50, 90]]})
    assert schema.count_edits(before, moved) == 2          # the old shape removed, the new one added
    retyped = series({"type": "radial_scratch", "box": [10, 10, 50, 90], "polyline": [[10, 10], [50, 90]]})
    assert schema.count_edits(before, retyped) == 2
    assert schema.slices(moved, {}) == ["defect:axial_scratch"]
