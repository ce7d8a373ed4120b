"""The API's ``custom_fields`` object (issue 20): one serializer field for every register,
whose OpenAPI schema lists the entity's defined fields with their types, built from the
definitions when the schema is generated (``CustomFieldsFieldSchema``)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from core.choices import CustomFieldRequired, CustomFieldType
from core.customfields import (
    coerce,
    definitions,
    is_empty,
    merged,
    required_label,
    unknown_names,
)

SCHEMA_TYPES = {
    CustomFieldType.TEXT: {"type": "string"},
    CustomFieldType.LONG_TEXT: {"type": "string"},
    CustomFieldType.INTEGER: {"type": "integer"},
    CustomFieldType.DECIMAL: {"type": "number"},
    CustomFieldType.DATE: {"type": "string", "format": "date"},
    CustomFieldType.BOOLEAN: {"type": "boolean"},
    CustomFieldType.URL: {"type": "string", "format": "uri"},
    CustomFieldType.USER: {"type": "integer", "description": "A user's id (or username)."},
    CustomFieldType.BUSINESS_UNIT: {
        "type": "integer",
        "description": "A business unit's id (or code).",
    },
}


class CustomFieldsField(serializers.Field):
    """``{"<name>": value, …}``: reads the fields the caller sees; a write lays the given
    names over the stored values (``null`` clears one) after checking each by type, and
    refuses names that are no field the caller may write (400, keyed by the name)."""

    def __init__(self, *, entity: str, **kwargs):
        self.entity = entity
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "Custom fields defined by the CoE for this register, by name."
        )
        super().__init__(**kwargs)

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _definitions(self):
        # Asked once per serializer (a list's rows share the child's field): one query.
        if not hasattr(self, "_visible"):
            self._visible = definitions(self.entity, user=self._user())
        return self._visible

    def to_representation(self, value):
        values = value or {}
        return {definition.name: values.get(definition.name) for definition in self._definitions()}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("An object of custom field values by name.")
        user = self._user()
        errors = {
            name: ["No such custom field."] for name in unknown_names(self.entity, data, user=user)
        }
        incoming = {}
        for definition in self._definitions():
            if definition.name not in data:
                continue
            value = data[definition.name]
            try:
                incoming[definition.name] = None if is_empty(value) else coerce(definition, value)
            except DjangoValidationError as error:
                errors[definition.name] = error.messages
        if errors:
            raise serializers.ValidationError(errors)
        instance = getattr(self.parent, "instance", None)
        stored = getattr(instance, "custom_fields", None) if instance is not None else None
        return merged(stored, incoming)


def _schema_definitions(entity: str) -> list:
    """The definitions the schema lists; none where the database has no table yet (``check
    --deploy`` generates the schema before any migration ran): the object is then open."""
    try:
        return definitions(entity)
    except DatabaseError:
        return []


class CustomFieldsFieldSchema(OpenApiSerializerFieldExtension):
    """The OpenAPI schema of a ``CustomFieldsField``: an object whose properties are the
    entity's defined fields (type, choices, help), read when the schema is generated."""

    target_class = CustomFieldsField

    def map_serializer_field(self, auto_schema, direction):
        properties = {}
        required = []
        for definition in _schema_definitions(self.target.entity):
            kind = definition.field_type
            if kind == CustomFieldType.CHOICE:
                schema = {"type": "string", "enum": list(definition.choices)}
            elif kind == CustomFieldType.MULTI_CHOICE:
                schema = {
                    "type": "array",
                    "items": {"type": "string", "enum": list(definition.choices)},
                }
            else:
                schema = dict(SCHEMA_TYPES[kind])
            description = " ".join(
                part
                for part in (
                    definition.label,
                    definition.help_text,
                    required_label(definition),
                    schema.pop("description", ""),
                )
                if part
            )
            properties[definition.name] = {
                **schema,
                "nullable": True,
                "title": definition.label,
                "description": description,
            }
            if definition.required == CustomFieldRequired.ALWAYS:
                required.append(definition.name)
        result = {
            "type": "object",
            "properties": properties,
            "description": "Custom fields defined by the CoE for this register.",
        }
        if required and direction == "response":
            result["required"] = required
        return result
