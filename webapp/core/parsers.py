"""Request parsers."""
from rest_framework.parsers import JSONParser


class AnnotationJSONParser(JSONParser):
    """JSON that may carry NaN / Infinity (Python's json writes them): parsed, so that the annotation
    validator refuses the value naming its field, instead of a parse error that names none. Only for
    bodies whose numbers all pass a validator that checks finiteness (annotations)."""

    strict = False
