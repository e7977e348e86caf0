"""Newspaper pages cut into articles: page types, annotation schema and validator, PAGE XML 2019, COCO."""
from formats.articles.annotation import (
    JSON_SCHEMA, PAGE_TYPES, count_edits, empty, match_cuts, review_diff, slices, validate,
)

__all__ = ["JSON_SCHEMA", "PAGE_TYPES", "count_edits", "empty", "match_cuts", "review_diff", "slices", "validate"]
