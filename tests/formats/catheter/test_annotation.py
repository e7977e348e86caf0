import jsonschema
import pytest

from formats.catheter import JSON_SCHEMA, validate
from formats.common import LIMITS, AnnotationError, AssetDims

SHOTS = [AssetDims(512, 400), AssetDims(512, 400)]


def errors_of(annotation, assets=SHOTS):
    with pytest.raises(AnnotationError) as caught:
        validate(annotation, assets)
    return {e["path"]: e["message"] for e in caught.value.errors}


def series(*defects_per_shot):
    return {"verdict": "defect" if any(defects_per_shot) else "ok",
            "shots": [{"defects": list(d)} for d in defects_per_shot]}


GOOD = series(
    [{"type": "axial_scratch", "box": [10, 10, 60, 20], "polygon": [[10, 10], [60, 12], [58, 20]], "id": "s1"},
     {"type": "inclusion", "box": [100, 100, 140, 130], "polyline": [[100, 100], [140, 130]]},
     {"type": "bubble", "box": [196, 196, 204, 204], "point": [200, 200], "id": "b1"}],
    [{"type": "axial_scratch", "box": [12, 10, 62, 20], "id": "s1"}])


def test_every_shape_and_the_id_survive_validation():
    assert validate(GOOD, SHOTS) == GOOD
    jsonschema.validate(GOOD, JSON_SCHEMA)


@pytest.mark.parametrize("defect, path", [
    ({"type": "bubble", "polygon": [[1, 1], [9, 1], [9, 9]]}, "$.shots[0].defects[0].box"),    # box is required
    ({"type": "bubble", "box": [1, 1, 9, 9], "polygon": [[1, 1], [9, 1], [9, 9]], "point": [2, 2]},
     "$.shots[0].defects[0]"),                                                                # two shapes
    ({"type": "bubble", "box": [1, 1, 9, 9], "polyline": [[1, 1]]}, "$.shots[0].defects[0].polyline"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [300, 300]}, "$.shots[0].defects[0].point"),   # outside box
    ({"type": "bubble", "box": [1, 1, 9, 9], "point": [5, float("inf")]}, "$.shots[0].defects[0].point[1]"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": "x" * (LIMITS["id_length"] + 1)}, "$.shots[0].defects[0].id"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": 7}, "$.shots[0].defects[0].id"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": "<img src=x onerror=alert(1)>"}, "$.shots[0].defects[0].id"),
    ({"type": "bubble", "box": [1, 1, 9, 9], "id": "d 1"}, "$.shots[0].defects[0].id"),
    ({"type": "crack", "box": [1, 1, 9, 9]}, "$.shots[0].defects[0].type"),
    ({"type": "bubble", "box": [1, 1, 600, 9]}, "$.shots[0].defects[0].box"),
])
def test_bad_defects_are_refused_with_their_path(defect, path):
    assert path in errors_of(series([defect], []))


def test_the_json_schema_refuses_the_same_shapes():
    for bad in ({"type": "bubble"},
                {"type": "bubble", "box": [1, 1, 9, 9], "point": [2, 2], "polyline": [[1, 1], [2, 2]]},
                {"type": "crack", "box": [1, 1, 9, 9]},
                {"type": "bubble", "box": [1, 1, 9, 9], "id": "<b>d1</b>"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(series([bad], []), JSON_SCHEMA)


def test_bounds_per_image_and_per_polygon():
    many = [{"type": "bubble", "box": [1, 1, 9, 9]}] * (LIMITS["shapes_per_image"] + 1)
    assert "at most" in errors_of(series(many, []))["$.shots[0].defects"]
    ring = [[1 + i % 2, 1 + (i // 2) % 2] for i in range(LIMITS["points_per_polygon"] + 1)]
    assert "at most" in errors_of(series([{"type": "bubble", "box": [1, 1, 9, 9], "polygon": ring}], []))[
        "$.shots[0].defects[0].polygon"]


def test_one_id_per_shot_but_the_same_id_across_shots():
    twice = [{"type": "bubble", "box": [1, 1, 9, 9], "id": "d"}, {"type": "bubble", "box": [2, 2, 9, 9], "id": "d"}]
    assert "$.shots[0].defects[1].id" in errors_of(series(twice, []))
    assert validate(series(twice[:1], twice[:1]), SHOTS)["shots"][1]["defects"][0]["id"] == "d"


def test_a_flood_of_problems_is_capped():
    bad = [{"type": "crack", "box": [1, 1, 9, 9]}] * 500
    with pytest.raises(AnnotationError) as caught:
        validate(series(bad, []), SHOTS)
    assert len(caught.value.errors) == 100
