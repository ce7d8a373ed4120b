"""Typed custom fields on every register (issue 20).

An *entity* (initiative, AI model, vendor …) is registered once by its app in
``AppConfig.ready()`` with ``register_entity``; a CoE admin then defines fields for it
(``CustomFieldDefinition``). Values live in the entity's ``custom_fields`` JSON column
(``core.models.CustomFieldsModel``) keyed by the definition's ``name``; the definitions are
the schema: ``clean_values`` validates and normalises values by type (errors keyed
``cf_<name>``) and runs inside the entity's ``full_clean``, so forms, the API and the importer
all go through the same check in the entity's own service.

Stored forms (JSON): text, long text, URL and choice as strings; integer as an integer;
decimal as a JSON number; date as an ISO ``YYYY-MM-DD`` string (so range filters compare in
order); boolean as true/false; multi-choice as a list of values in the definition's order;
user and business unit as the row's id. An empty value is not stored. A value under a name no
definition has any more (a deleted field) is kept as it was and shown as a retired field.
"""

import contextvars
import datetime
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.signals import request_finished, request_started
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from core.audit import record_event
from core.choices import CustomFieldRequired, CustomFieldType, Role
from core.models import CUSTOM_FIELD_CHECKS, BusinessUnit, CustomFieldDefinition
from core.permissions import roles_of, writes_whole_organisation

PREFIX = "cf_"
NUMBER_TYPES = frozenset({CustomFieldType.INTEGER, CustomFieldType.DECIMAL})
RANGE_TYPES = NUMBER_TYPES | {CustomFieldType.DATE}
CHOICE_TYPES = frozenset({CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE})
TEXT_LIMITS = {CustomFieldType.TEXT: 500, CustomFieldType.LONG_TEXT: 10_000}
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})
_web_link = URLValidator(schemes=["http", "https"])


# --- the entity registry ------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """A register that carries custom fields. ``stages`` (value, label) in lifecycle order
    are the stages a field may be "required from" (only entities with a lifecycle)."""

    key: str
    label: str
    model: type
    stages: tuple = ()


ENTITIES: dict[str, Entity] = {}


def register_entity(key: str, model, *, label: str, stages=()) -> None:
    """Give ``model`` (a ``CustomFieldsModel``) custom fields under ``key``; one line in the
    owning app's ``AppConfig.ready()``."""
    model.custom_fields_entity = key
    ENTITIES[key] = Entity(key=key, label=label, model=model, stages=tuple(stages))


def entity_choices() -> list[tuple[str, str]]:
    return [(entity.key, entity.label) for entity in ENTITIES.values()]


def entity_of(key: str) -> Entity:
    return ENTITIES[key]


# --- definitions and who sees them ---------------------------------------------------------


def is_visible(definition: CustomFieldDefinition, user) -> bool:
    """Everyone sees a field without ``visible_to_roles``; else members holding one of them,
    administrators (and superusers) always."""
    if not definition.visible_to_roles or user is None:
        return True
    if getattr(user, "is_superuser", False):
        return True
    roles = roles_of(user)
    return Role.ADMIN in roles or bool(roles & set(definition.visible_to_roles))


# Within one request every entity's definitions come from one query: a page shows a model,
# its versions, its allocations and its initiatives, each asking for its entity's fields. The
# memo lives from ``request_started`` to ``request_finished`` (a context variable, so threads
# and tasks never share one) and is dropped whenever a definition is saved or deleted; outside
# a request (tasks, commands, services called directly) every call asks the database.
_request_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "custom_field_definitions", default=None
)


def _start_memo(**kwargs) -> None:
    _request_memo.set({})


def _end_memo(**kwargs) -> None:
    _request_memo.set(None)


def _forget_definitions(**kwargs) -> None:
    memo = _request_memo.get()
    if memo is not None:
        memo.clear()


request_started.connect(_start_memo, dispatch_uid="keel-custom-fields-memo-start")
request_finished.connect(_end_memo, dispatch_uid="keel-custom-fields-memo-end")
post_save.connect(_forget_definitions, sender=CustomFieldDefinition, dispatch_uid="keel-cf-saved")
post_delete.connect(
    _forget_definitions, sender=CustomFieldDefinition, dispatch_uid="keel-cf-deleted"
)


def _definitions_of(entity: str) -> list[CustomFieldDefinition]:
    memo = _request_memo.get()
    if memo is None:
        return list(CustomFieldDefinition.objects.filter(entity=entity))
    if "rows" not in memo:
        memo["rows"] = list(CustomFieldDefinition.objects.all())
    return [row for row in memo["rows"] if row.entity == entity]


def definitions(entity: str, *, user=None) -> list[CustomFieldDefinition]:
    """The entity's definitions in order (at most one query per request for all entities);
    only those ``user`` sees when given. Callers that need them per row (a serializer, an
    export) ask once and keep the list."""
    rows = _definitions_of(entity)
    return [row for row in rows if is_visible(row, user)] if user is not None else rows


def stage_order(entity: Entity, stage: str) -> int | None:
    values = [value for value, _ in entity.stages]
    return values.index(stage) if stage in values else None


def required_label(definition: CustomFieldDefinition) -> str:
    if definition.required == CustomFieldRequired.ALWAYS:
        return "Required."
    if definition.required == CustomFieldRequired.FROM_STAGE:
        entity = ENTITIES.get(definition.entity)
        labels = dict(entity.stages) if entity else {}
        stage = labels.get(definition.required_from_stage, definition.required_from_stage)
        return f"Required before {stage.lower()}."
    return ""


# --- values: validation and normalisation --------------------------------------------------


def is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _integer(value) -> int:
    if isinstance(value, bool):
        raise ValidationError("Enter a whole number.")
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("Enter a whole number.") from None
    if number != number.to_integral_value():
        raise ValidationError("Enter a whole number.")
    return int(number)


def _decimal(value):
    if isinstance(value, bool):
        raise ValidationError("Enter a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError("Enter a number.") from None
    if not number.is_finite():
        raise ValidationError("Enter a number.")
    # A JSON number, so range filters compare numerically on every database.
    return int(number) if number == number.to_integral_value() else float(number)


def _date(value) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    try:
        return datetime.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValidationError("Enter a date as YYYY-MM-DD.") from None


def _boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError("Enter yes or no.")


def _text(definition, value) -> str:
    if not isinstance(value, str | int | float | Decimal) or isinstance(value, bool):
        raise ValidationError("Enter text.")
    text = str(value).strip()
    limit = TEXT_LIMITS.get(definition.field_type, 500)
    if len(text) > limit:
        raise ValidationError(f"At most {limit} characters.")
    return text


def _choice(definition, value) -> str:
    text = str(value).strip()
    if text not in definition.choices:
        allowed = ", ".join(definition.choices)
        raise ValidationError(f"{text!r} is not one of the choices ({allowed}).")
    return text


def _multi_choice(definition, value) -> list[str]:
    if isinstance(value, str):
        items = [item.strip() for item in re.split(r"[;,]", value) if item.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = [str(item).strip() for item in value]
    else:
        raise ValidationError("Enter a list of choices.")
    chosen = {_choice(definition, item) for item in items}
    return [choice for choice in definition.choices if choice in chosen]


def _url(value) -> str:
    text = str(value).strip()
    try:
        _web_link(text)
    except ValidationError:
        raise ValidationError("Enter an http(s) link.") from None
    return text


def _row_id(value, *, model, natural_key: str, what: str) -> int:
    """The id of a user or business unit given as the row, its id or its natural key
    (username, unit code); the row must exist."""
    if isinstance(value, model):
        return value.pk
    if isinstance(value, bool):
        raise ValidationError(f"Unknown {what}.")
    rows = model.objects.all()
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        match = rows.filter(pk=int(value)).values_list("pk", flat=True).first()
    else:
        match = (
            rows.filter(**{f"{natural_key}__iexact": str(value).strip()})
            .values_list("pk", flat=True)
            .first()
        )
    if match is None:
        raise ValidationError(f"Unknown {what} {value!r}.")
    return match


def coerce(definition: CustomFieldDefinition, value):
    """``value`` (a Python value, JSON or text from a spreadsheet) in its stored form; raises
    ``ValidationError`` with a message for the person who typed it."""
    from django.contrib.auth import get_user_model

    kind = definition.field_type
    if kind in TEXT_LIMITS:
        return _text(definition, value)
    if kind == CustomFieldType.INTEGER:
        return _integer(value)
    if kind == CustomFieldType.DECIMAL:
        return _decimal(value)
    if kind == CustomFieldType.DATE:
        return _date(value)
    if kind == CustomFieldType.BOOLEAN:
        return _boolean(value)
    if kind == CustomFieldType.CHOICE:
        return _choice(definition, value)
    if kind == CustomFieldType.MULTI_CHOICE:
        return _multi_choice(definition, value)
    if kind == CustomFieldType.URL:
        return _url(value)
    if kind == CustomFieldType.USER:
        user_model = get_user_model()
        return _row_id(
            value, model=user_model, natural_key=user_model.USERNAME_FIELD, what="person"
        )
    if kind == CustomFieldType.BUSINESS_UNIT:
        return _row_id(value, model=BusinessUnit, natural_key="code", what="business unit")
    raise ValidationError(f"Unknown field type {kind!r}.")


def clean_values(entity: str, values, *, adding: bool = False) -> dict:
    """``values`` (name → value) validated against the entity's definitions and normalised;
    ``ValidationError`` keyed ``cf_<name>`` lists every bad or missing value. A new record
    (``adding``) gets each field's default where it holds no value. Names without a
    definition (retired fields) are kept unchanged."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ValidationError({"custom_fields": "Custom fields must be an object of values."})
    cleaned = dict(values)
    errors = {}
    for definition in definitions(entity):
        name = definition.name
        value = values.get(name)
        if adding and name not in values and not is_empty(definition.default):
            value = definition.default
        if is_empty(value):
            cleaned.pop(name, None)
            if definition.required == CustomFieldRequired.ALWAYS:
                errors[definition.key] = "This field is required."
            continue
        try:
            cleaned[name] = coerce(definition, value)
        except ValidationError as error:
            errors[definition.key] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_instance_values(instance) -> None:
    """``full_clean``'s hook (``CustomFieldsModel.clean_fields``)."""
    entity = type(instance).custom_fields_entity
    if not entity:
        return
    instance.custom_fields = clean_values(
        entity, instance.custom_fields, adding=instance._state.adding
    )


def merged(existing: dict | None, incoming: dict | None, *, names=None) -> dict:
    """``existing`` values with ``incoming`` laid over (a ``None`` or empty value clears the
    field); with ``names``, only those fields are taken from ``incoming`` (e.g. the fields a
    form showed), so fields the writer could not see are left as they were."""
    values = dict(existing or {})
    for name, value in (incoming or {}).items():
        if names is not None and name not in names:
            continue
        if is_empty(value):
            values.pop(name, None)
        else:
            values[name] = value
    return values


def unknown_names(entity: str, incoming: dict, *, user=None) -> list[str]:
    """Names in ``incoming`` that are no field ``user`` may write (the API refuses them)."""
    known = {definition.name for definition in definitions(entity, user=user)}
    return sorted(name for name in incoming if name not in known)


def missing_before(entity: str, values: dict, stage: str) -> list[CustomFieldDefinition]:
    """Fields required from ``stage`` (or an earlier stage) on that hold no value: what
    blocks the gate into ``stage``."""
    spec = ENTITIES.get(entity)
    target = stage_order(spec, stage) if spec else None
    if target is None:
        return []
    missing = []
    for definition in definitions(entity):
        if definition.required != CustomFieldRequired.FROM_STAGE:
            continue
        start = stage_order(spec, definition.required_from_stage)
        if start is not None and start <= target and is_empty((values or {}).get(definition.name)):
            missing.append(definition)
    return missing


# --- display and export --------------------------------------------------------------------


class Names:
    """Display names of the people and units custom values point at, fetched once (one
    query per kind, only when a field of that kind exists) — never per row."""

    def __init__(self, fields):
        kinds = {definition.field_type for definition in fields}
        self.users = {}
        self.units = {}
        if CustomFieldType.USER in kinds:
            from django.contrib.auth import get_user_model

            self.users = dict(
                get_user_model().objects.values_list("pk", get_user_model().USERNAME_FIELD)
            )
        if CustomFieldType.BUSINESS_UNIT in kinds:
            self.units = dict(BusinessUnit.objects.values_list("pk", "code"))

    def text(self, definition: CustomFieldDefinition, value):
        """The value as a spreadsheet cell the importer reads back (numbers stay numbers)."""
        if is_empty(value):
            return ""
        kind = definition.field_type
        if kind == CustomFieldType.BOOLEAN:
            return "yes" if value else "no"
        if kind == CustomFieldType.MULTI_CHOICE:
            return "; ".join(value)
        if kind == CustomFieldType.USER:
            return self.users.get(value, str(value))
        if kind == CustomFieldType.BUSINESS_UNIT:
            return self.units.get(value, str(value))
        if kind == CustomFieldType.DECIMAL:
            return Decimal(str(value))
        return value


def export_columns(entity: str, *, user=None, accessor=lambda row: row) -> list[tuple]:
    """(header, value of a row) per field ``user`` sees, for a ``ListExport`` or a register
    export: the header is the field's label (what the importer maps back to ``cf_<name>``),
    the value its spreadsheet text (``Names.text``)."""
    fields = definitions(entity, user=user)
    names = Names(fields)
    return [
        (
            definition.label,
            lambda row, definition=definition: names.text(
                definition, (accessor(row).custom_fields or {}).get(definition.name)
            ),
        )
        for definition in fields
    ]


@dataclass(frozen=True)
class Shown:
    label: str
    value: object
    help: str = ""
    retired: bool = False


def detail_rows(instance, *, user) -> list[Shown]:
    """The custom fields of ``instance`` for its detail page and dossier: each field
    ``user`` sees (blank ones too), then retired values (of deleted fields), marked."""
    entity = type(instance).custom_fields_entity
    values = instance.custom_fields or {}
    fields = definitions(entity, user=user)
    names = Names(fields)
    rows = [
        Shown(
            definition.label,
            names.text(definition, values.get(definition.name)) or "—",
            required_label(definition),
        )
        for definition in fields
    ]
    every_name = {definition.name for definition in definitions(entity)}
    for name, value in sorted(values.items()):
        if name not in every_name:
            text = "; ".join(map(str, value)) if isinstance(value, list) else value
            rows.append(Shown(name, text, "A deleted field: the value is kept.", retired=True))
    return rows


# --- audit of value changes ----------------------------------------------------------------


def changed_values(old: dict | None, new: dict | None) -> tuple[dict, dict]:
    """(before, after) of the names whose value changed: the audit records old → new per
    field, not the whole object twice."""
    old, new = old or {}, new or {}
    names = sorted(set(old) | set(new))
    changed = [name for name in names if old.get(name) != new.get(name)]
    return {name: old.get(name) for name in changed}, {name: new.get(name) for name in changed}


# --- definitions: the CoE admin's writes ---------------------------------------------------


def can_manage_custom_fields(user) -> bool:
    return writes_whole_organisation(user)


DEFINITION_FIELDS = (
    "entity",
    "name",
    "label",
    "field_type",
    "required",
    "required_from_stage",
    "default",
    "help_text",
    "order",
    "choices",
    "visible_to_roles",
)


def definition_clean(definition: CustomFieldDefinition) -> None:
    """The definition's own invariants (``CustomFieldDefinition.clean``)."""
    errors = {}
    entity = ENTITIES.get(definition.entity)
    if entity is None:
        errors["entity"] = "Unknown register."
    choices = definition.choices or []
    if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
        errors["choices"] = "A list of non-empty texts."
    elif definition.field_type in CHOICE_TYPES and not choices:
        errors["choices"] = "A choice field needs at least one choice."
    elif len(set(choices)) != len(choices):
        errors["choices"] = "Each choice once."
    if definition.field_type not in CHOICE_TYPES and choices:
        errors["choices"] = "Only choice fields have choices."
    if definition.required == CustomFieldRequired.FROM_STAGE:
        if entity is not None and not entity.stages:
            errors["required"] = f"{entity.label} has no stages; choose optional or always."
        elif entity is not None and stage_order(entity, definition.required_from_stage) is None:
            errors["required_from_stage"] = "Choose one of the register's stages."
    elif definition.required_from_stage:
        errors["required_from_stage"] = "Only with 'required from a stage on'."
    roles = definition.visible_to_roles or []
    if not isinstance(roles, list) or not set(roles) <= set(Role.values):
        errors["visible_to_roles"] = "Choose roles from the list."
    if not errors and not is_empty(definition.default):
        try:
            definition.default = coerce(definition, definition.default)
        except ValidationError as error:
            errors["default"] = error.messages
    if errors:
        raise ValidationError(errors)


def _entity_rows(definition: CustomFieldDefinition):
    model = ENTITIES[definition.entity].model
    return model.objects.filter(custom_fields__has_key=definition.name)


def range_index_name(definition: CustomFieldDefinition) -> str:
    """The PostgreSQL index of a number or date field's values (≤ 63 characters)."""
    table = ENTITIES[definition.entity].model._meta.db_table
    digest = hashlib.sha256(f"{table}.{definition.name}".encode()).hexdigest()[:10]
    return f"cf_{digest}_{definition.name}"


def sync_range_index(
    definition: CustomFieldDefinition, *, present: bool, field_type: str = ""
) -> None:
    """Create (or drop) the B-tree index of a number or date field's values on PostgreSQL.

    ``?cf_<name>_min/_max`` compares ``custom_fields -> '<name>'`` as JSON, which the column's
    GIN index cannot answer (it answers containment, the choice filters): without this index
    a range filter reads every row. The index is on exactly the filter's expression, so the
    planner uses it. ``CREATE INDEX`` runs inside the definition's transaction (so a failed
    save leaves no index) and holds off writes to the register while it builds — milliseconds
    for ten thousand rows. No-op on SQLite and for other field types. The name is validated
    (``^[a-z][a-z0-9_]*$``), so it can be written into the statement as a literal.
    ``field_type`` overrides the definition's (its type before a change)."""
    if (
        connection.vendor != "postgresql"
        or (field_type or definition.field_type) not in RANGE_TYPES
    ):
        return
    table = ENTITIES[definition.entity].model._meta.db_table
    index = range_index_name(definition)
    if not re.fullmatch(r"[a-z][a-z0-9_]*", definition.name):
        raise ValueError(f"Not a field name: {definition.name!r}")
    with connection.cursor() as cursor:
        if present:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" '
                f"((custom_fields -> '{definition.name}'))"
            )
        else:
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')


def values_count(definition: CustomFieldDefinition) -> int:
    """How many records hold a value of the field (asked before a delete or a rename)."""
    return _entity_rows(definition).count()


def _check(actor) -> None:
    if not can_manage_custom_fields(actor):
        raise PermissionDenied("Only CoE admins and administrators define custom fields.")


def definition_create(*, actor, data: dict) -> CustomFieldDefinition:
    _check(actor)
    definition = CustomFieldDefinition(
        **{name: value for name, value in data.items() if name in DEFINITION_FIELDS}
    )
    definition.full_clean()
    with transaction.atomic():
        definition.save()
        sync_range_index(definition, present=True)
        record_event(
            actor=actor,
            action="custom_field.created",
            target=definition,
            after={name: getattr(definition, name) for name in DEFINITION_FIELDS},
        )
    return definition


def definition_update(*, actor, definition: CustomFieldDefinition, data: dict):
    """Change a definition. Entity and name never change (values are stored under the
    name); the type changes only while no record holds a value; a choice removed while
    records hold it is refused (rename it with ``definition_rename_choice`` instead)."""
    _check(actor)
    with transaction.atomic():
        locked = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        before, after = {}, {}
        for name in DEFINITION_FIELDS:
            if name in ("entity", "name") or name not in data:
                continue
            old = getattr(locked, name)
            if old != data[name]:
                before[name], after[name] = old, data[name]
                setattr(locked, name, data[name])
        if "field_type" in after and values_count(locked):
            raise ValidationError(
                {"field_type": "Records hold values of this field: its type cannot change."}
            )
        removed = set(before.get("choices") or ()) - set(after.get("choices") or locked.choices)
        in_use = sorted(choice for choice in removed if choice_count(locked, choice))
        if "choices" in after and in_use:
            raise ValidationError(
                {
                    "choices": f"Records hold {', '.join(in_use)}: rename the choice instead "
                    "of removing it."
                }
            )
        locked.full_clean()
        if after:
            locked.save()
            if "field_type" in after:  # no record holds a value (checked above)
                sync_range_index(locked, present=False, field_type=before["field_type"])
                sync_range_index(locked, present=True)
            record_event(
                actor=actor,
                action="custom_field.updated",
                target=locked,
                before=before,
                after=after,
            )
    return locked


def choice_count(definition, choice: str) -> int:
    """How many records hold ``choice`` (asked before a rename)."""
    rows = _entity_rows(definition).only("pk", "custom_fields")
    return sum(1 for row in rows if choice in _as_list(row.custom_fields.get(definition.name)))


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def definition_rename_choice(*, actor, definition: CustomFieldDefinition, old: str, new: str):
    """Rename choice ``old`` to ``new`` in the definition and in every record holding it,
    in one transaction; one audit event names the change and how many records moved."""
    _check(actor)
    new = (new or "").strip()
    if definition.field_type not in CHOICE_TYPES:
        raise ValidationError({"old": "Only choice fields have choices."})
    with transaction.atomic():
        locked = CustomFieldDefinition.objects.select_for_update().get(pk=definition.pk)
        if old not in locked.choices:
            raise ValidationError({"old": f"{old!r} is not a choice."})
        if not new or new in locked.choices:
            raise ValidationError({"new": "Enter a new choice that does not exist yet."})
        locked.choices = [new if choice == old else choice for choice in locked.choices]
        locked.full_clean()
        locked.save()
        model = ENTITIES[locked.entity].model
        moved = []
        for row in _entity_rows(locked).select_for_update().only("pk", "custom_fields"):
            value = row.custom_fields.get(locked.name)
            if locked.field_type == CustomFieldType.CHOICE and value == old:
                row.custom_fields[locked.name] = new
            elif isinstance(value, list) and old in value:
                renamed = {new if item == old else item for item in value}
                row.custom_fields[locked.name] = [c for c in locked.choices if c in renamed]
            else:
                continue
            moved.append(row)
        model.objects.bulk_update(moved, ["custom_fields"], batch_size=500)
        record_event(
            actor=actor,
            action="custom_field.choice_renamed",
            target=locked,
            before={"choice": old},
            after={"choice": new, "records": len(moved)},
        )
    return locked, len(moved)


def definition_delete(*, actor, definition: CustomFieldDefinition) -> int:
    """Delete a definition. Records keep their values (shown as a retired field on their
    pages), so nothing recorded is lost; returns how many records hold one."""
    _check(actor)
    with transaction.atomic():
        count = values_count(definition)
        record_event(
            actor=actor,
            action="custom_field.deleted",
            target=definition,
            before={name: getattr(definition, name) for name in DEFINITION_FIELDS},
            after={"records_keeping_values": count},
        )
        sync_range_index(definition, present=False)  # its filters go with it
        definition.delete()
    return count


CUSTOM_FIELD_CHECKS.update(definition=definition_clean, values=clean_instance_values)
