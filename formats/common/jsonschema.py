"""Pieces of the kinds' published JSON Schemas (draft 2020-12)."""

DIALECT = "https://json-schema.org/draft/2020-12/schema"
POINT = {"type": "array", "items": {"type": "number", "minimum": 0}, "minItems": 2, "maxItems": 2,
         "description": "[x, y] in original image pixels"}
