"""SCIM filters (RFC 7644 §3.4.2.2) as Django queries over people and groups."""

import datetime
import uuid
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.scim.base import (
    ScimError,
)
from core.scim.filter import (
    And,
    AttrPath,
    Compare,
    FilterError,
    Not,
    Or,
    ValuePath,
    matches,
    parse_filter,
)

# --- Filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    lookup: str
    kind: str  # "text" (case-insensitive), "exact", "uuid", "bool", "datetime"


@dataclass(frozen=True)
class _Constant:
    """A sub-attribute with one value for every row: Keel keeps one email, the work one."""

    value: object


USER_FIELDS = {
    ("id", ""): _Field("scim_identity__scim_id", "uuid"),
    ("externalid", ""): _Field("scim_identity__external_id", "exact"),
    ("username", ""): _Field("username", "text"),
    ("active", ""): _Field("is_active", "bool"),
    ("name", "givenname"): _Field("first_name", "text"),
    ("name", "familyname"): _Field("last_name", "text"),
    ("emails", ""): _Field("email", "text"),
    ("emails", "value"): _Field("email", "text"),
    ("emails", "type"): _Constant("work"),
    ("emails", "primary"): _Constant(True),
    ("meta", "created"): _Field("date_joined", "datetime"),
    ("meta", "lastmodified"): _Field("scim_identity__updated_at", "datetime"),
}
GROUP_FIELDS = {
    ("id", ""): _Field("scim_id", "uuid"),
    ("externalid", ""): _Field("external_id", "exact"),
    ("displayname", ""): _Field("display_name", "text"),
    ("members", ""): _Field("members__scim_identity__scim_id", "uuid"),
    ("members", "value"): _Field("members__scim_identity__scim_id", "uuid"),
    ("members", "display"): _Field("members__username", "text"),
    ("meta", "created"): _Field("created_at", "datetime"),
    ("meta", "lastmodified"): _Field("updated_at", "datetime"),
}
NEVER = Q(pk__in=[])
ALWAYS = Q(pk__isnull=False)
_TEXT_LOOKUPS = {"eq": "exact", "ne": "exact", "co": "contains", "sw": "startswith"}
_TEXT_LOOKUPS |= {"ew": "endswith", "gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def filter_q(text: str, fields: dict, schema: str) -> Q:
    """The ``Q`` of a ``filter=`` on users (``USER_FIELDS``) or groups; ``ScimError``
    ``invalidFilter`` for anything Keel cannot answer exactly (never a wider search)."""
    try:
        return _q(parse_filter(text), fields, schema)
    except FilterError as error:
        raise ScimError(f"Invalid filter: {error}", scim_type="invalidFilter") from None


def _q(expr, fields, schema, namespace: str = "") -> Q:
    if isinstance(expr, And):
        return _q(expr.left, fields, schema, namespace) & _q(expr.right, fields, schema, namespace)
    if isinstance(expr, Or):
        return _q(expr.left, fields, schema, namespace) | _q(expr.right, fields, schema, namespace)
    if isinstance(expr, Not):
        return ~_q(expr.expr, fields, schema, namespace)
    if isinstance(expr, ValuePath):
        if namespace or expr.path.sub:
            raise FilterError("A value filter cannot be nested.")
        _check_uri(expr.path, schema)
        outer = expr.path.attr.lower()
        query = _q(expr.filter, fields, schema, outer)
        if expr.then is not None:
            query &= _q(expr.then, fields, schema, outer)
        return query
    path = expr.path
    if namespace:
        if path.sub or path.uri:
            raise FilterError(f"{path.attr!r} inside [ ] must be a sub-attribute.")
        key = (namespace, path.attr.lower())
    else:
        _check_uri(path, schema)
        key = path.key
    target = fields.get(key)
    if target is None:
        raise FilterError(f"Keel cannot filter on {'.'.join(filter(None, key))!r}.")
    return _compare(expr, target)


def _check_uri(path: AttrPath, schema: str) -> None:
    if path.uri and path.uri.lower() != schema.lower():
        raise FilterError(f"{path.uri!r} is not this resource's schema.")


def _compare(expr: Compare, target) -> Q:
    op, value = expr.op, expr.value
    if isinstance(target, _Constant):
        held = {"x": target.value}
        return ALWAYS if matches(Compare(AttrPath("", "x"), op, value), held) else NEVER
    lookup, kind = target.lookup, target.kind
    if op == "pr":
        present = Q(**{f"{lookup}__isnull": False})
        return present & ~Q(**{lookup: ""}) if kind in ("text", "exact") else present
    if kind == "bool":
        if op not in ("eq", "ne") or not isinstance(value, bool):
            raise FilterError(f"{expr.path.attr!r} is compared with eq or ne and true or false.")
        query = Q(**{lookup: value})
    elif kind == "uuid":
        if op not in ("eq", "ne") or not isinstance(value, str):
            raise FilterError(f"{expr.path.attr!r} is compared with eq or ne and a string.")
        try:
            query = Q(**{lookup: uuid.UUID(value)})
        except ValueError:
            query = NEVER  # no resource has this id
    elif kind == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None or op in ("co", "sw", "ew"):
            raise FilterError(f"{expr.path.attr!r} is compared with a date and time.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        suffix = {"eq": "", "ne": "", "gt": "__gt", "ge": "__gte", "lt": "__lt", "le": "__lte"}
        query = Q(**{f"{lookup}{suffix[op]}": moment})
    else:
        if not isinstance(value, str):
            raise FilterError(f"{expr.path.attr!r} is compared with a string.")
        name = _TEXT_LOOKUPS[op]
        if kind == "text" and op in ("eq", "ne", "co", "sw", "ew"):
            name = f"i{name}"
        query = Q(**{f"{lookup}__{name}": value})
    return ~query if op == "ne" else query
