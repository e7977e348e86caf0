"""Catheter defects: taxonomy, annotation schema and validator, COCO and verdict CSV."""
from formats.catheter.annotation import (
                                         DEFECT_TYPES,
                                         JSON_SCHEMA,
                                         POINT_RADIUS,
                                         SHAPES,
                                         VERDICTS,
                                         count_edits,
                                         empty,
                                         slices,
                                         validate,
)

__all__ = ["DEFECT_TYPES", "JSON_SCHEMA", "POINT_RADIUS", "SHAPES", "VERDICTS", "count_edits", "empty", "slices",
           "validate"]
