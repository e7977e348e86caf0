"""Sheet-music alignment: statuses and reasons, annotation schema and validator, alignments JSON, and the
symbol exports (DeepScoresV2 JSON and COCO, with DeepScoresV2's class names and ids)."""
from formats.omr.annotation import JSON_SCHEMA, REASONS, STATUSES, count_edits, empty, slices, validate

__all__ = ["JSON_SCHEMA", "REASONS", "STATUSES", "count_edits", "empty", "slices", "validate"]
