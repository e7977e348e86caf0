"""Shapes shared by every app's API."""
from django.db import models
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false only (DRF's own also takes "yes", 1, "on"...: not what the schema says)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only (not "5", not 5.0)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A JSON number only (not "0.5")."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A JSON string only (not 0 turned into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSlugField(serializers.SlugField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """One of the choices as the JSON type the schema gives (DRF's own matches ``str(data)``: 0 for "0")."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)) or \
                (isinstance(data, int) and data not in self.choices):
            self.fail("invalid_choice", input=data)
        if isinstance(data, str) and data not in self.choices and data != "":
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields take the JSON types the schema names and nothing coerced."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.SlugField: StrictSlugField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = StrictChoiceField


class ServiceErrorSerializer(serializers.Serializer):
    """A service error: what is wrong and the kind of error (further keys name fields or carry details)."""

    code = StrictCharField()
    detail = StrictCharField()
