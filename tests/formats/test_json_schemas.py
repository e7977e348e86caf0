"""Each kind's published JSON Schema agrees with its validator: what the validator returns is valid
under the schema, and shapes the schema refuses the validator refuses too."""
import jsonschema
import pytest

from formats import articles, catheter, omr
from formats.common import AnnotationError, AssetDims

PAGE = [AssetDims(100, 100)]
PAIR = [AssetDims(100, 100), AssetDims(100, 100)]
CASES = [
    (catheter, [AssetDims(100, 100)], {"verdict": "defect", "shots": [{"defects": [
        {"type": "bubble", "box": [1, 1, 9, 9], "point": [5, 5], "id": "d1"},
        {"type": "inclusion", "box": [10, 10, 20, 20], "polygon": [[10, 10], [20, 10], [20, 20]]}]}]},
     [{"verdict": "maybe", "shots": [{"defects": []}]},
      {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [1, 1, 9]}]}]},
      {"verdict": "defect", "shots": [{"defects": [{"type": "bubble", "box": [1, 1, 9, 9], "point": [2, 2],
                                                    "polygon": [[1, 1], [9, 1], [9, 9]]}]}]}]),
    (articles, PAGE, {"page_type": "article", "cuts": [{"x0": 0, "y0": 50, "x1": 100, "y1": 50}],
                      "articles": [{"id": "_lead-1.a", "polygon": [[0, 0], [100, 0], [100, 50]]}]},
     [{"page_type": "weather"},
      {"page_type": "article", "articles": [{"id": "Sport 1", "polygon": [[0, 0], [9, 0], [9, 9]]}]},
      {"page_type": "article", "articles": [{"id": "1a", "polygon": [[0, 0], [9, 0], [9, 9]]}]},
      {"page_type": "article", "articles": [{"id": "a", "polygon": [[0, 0], [9, 0]]}]}]),
    (omr, PAIR, {"status": "fixed", "homography": None, "reasons": ["page curl"],
                 "point_pairs": [[[1, 1], [2, 2]], [[50, 1], [52, 2]], [[1, 50], [2, 52]], [[50, 50], [51, 51]]]},
     [{"status": "fine"}, {"status": "rejected", "reasons": ["cat on the page"]},
      {"status": "accepted", "homography": [[1, 0], [0, 1]]}]),
]


@pytest.mark.parametrize("module, assets, good, bad", CASES, ids=["catheter", "articles", "omr"])
def test_schema_and_validator_agree(module, assets, good, bad):
    jsonschema.Draft202012Validator.check_schema(module.JSON_SCHEMA)
    jsonschema.validate(module.validate(good, assets), module.JSON_SCHEMA)
    for annotation in bad:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(annotation, module.JSON_SCHEMA)
        with pytest.raises(AnnotationError):
            module.validate(annotation, assets)
