"""Strings are strings, numbers are numbers: no API input field coerces one JSON type into another
(DRF's own CharField turns 0 into "0", ChoiceField matches 1 to "1", BooleanField takes "yes"), so what the
OpenAPI schema says is what the server takes."""
import importlib
import inspect
import pkgutil

import pytest
from rest_framework import serializers

import webapp
from webapp.core.serializers import StrictChoiceField, StrictModelSerializer

COERCING = (serializers.CharField, serializers.ChoiceField, serializers.IntegerField, serializers.FloatField,
            serializers.BooleanField)


def _serializer_classes():
    for info in pkgutil.walk_packages(webapp.__path__, "webapp."):
        if "migrations" in info.name or not info.name.rsplit(".", 1)[-1].startswith(("serializers", "api")):
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, serializers.Serializer) and cls.__module__ == module.__name__:
                yield cls


def _writable_plain_fields(cls):
    try:
        fields = cls().fields
    except Exception:   # a serializer that needs its view's context is built in its own tests
        return []
    return [f"{cls.__module__}.{cls.__name__}.{name}: {type(field).__name__}"
            for name, field in fields.items()
            if not field.read_only and type(field) in COERCING]


def test_no_input_field_coerces_types(db):
    classes = list(_serializer_classes())
    assert len(classes) > 20     # the walk found the API's serializers
    plain = [line for cls in classes for line in _writable_plain_fields(cls)]
    assert not plain, "fields that coerce JSON types (use webapp.core.serializers' strict fields):\n" + "\n".join(plain)


@pytest.mark.parametrize("value", [0, 1, True, 1.5, "2"])
def test_a_choice_is_the_choice_itself(value):
    field = StrictChoiceField(choices=["1", "ok"])
    with pytest.raises(serializers.ValidationError):
        field.run_validation(value)
    assert field.run_validation("ok") == "ok"


def test_model_serializers_get_strict_fields():
    from webapp.mlops.models import TriggerChange

    class Probe(StrictModelSerializer):
        class Meta:
            model = TriggerChange
            fields = ["reason"]

    with pytest.raises(serializers.ValidationError):
        Probe().fields["reason"].run_validation(0)
