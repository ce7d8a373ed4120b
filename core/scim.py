"""SCIM 2.0 provisioning (issue 18, item 2): the organisation's directory (Microsoft Entra ID,
Okta, OneLogin, Keycloak…) creates, updates and deactivates people and groups in Keel without
anyone signing in. The endpoints (``core.api.scim``) call the reads and writes here; the token
behind them must be a read-and-write API token of an administrator (``can_provision``).

What the directory may do, and what follows:

- A person: ``userName`` → username (unique regardless of case), the primary (else work, else
  first) email, ``name.givenName``/``familyName``, ``externalId`` (``ScimIdentity``) and
  ``active``. ``active`` false — in a PUT, or a PATCH as Entra (``"Replace"``, the string
  ``"False"``) or Okta (no path, ``{"active": false}``) send it — is the People page's
  deactivation (``core.people.person_set_active``): every session ends and their API tokens
  stop working. DELETE deactivates too and ends the SCIM identity; a person is never deleted
  (the audit trail keeps them). A password sent by the directory is ignored: provisioned people
  sign in through single sign-on.
- The directory may not change a superuser (the break-glass account) nor the token's own
  account (nobody changes their own access).
- A group (``DirectoryGroup``): whenever its name or members change, every affected person's
  directory-granted roles are recomputed from the group mappings
  (``core.directory.memberships_sync``, provider ``scim``), so a mapped role follows at once.

Every write is audited with the token's user as actor (``scim.user_created``,
``scim.user_updated``, ``user.deactivated``/``reactivated``, ``scim.user_deleted``,
``scim.group_created``/``updated``/``deleted``, and ``membership.synced`` per person).
Errors are ``ScimError`` with the HTTP status and the ``scimType`` of RFC 7644 §3.12.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core import people
from core.audit import record_event
from core.choices import GrantedVia, Role
from core.directory import memberships_sync
from core.models import DirectoryGroup, ScimIdentity
from core.permissions import has_any_role
from core.scim_filter import (
    And,
    AttrPath,
    Compare,
    FilterError,
    Not,
    Or,
    PatchPath,
    ValuePath,
    matches,
    parse_filter,
    parse_path,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PROVIDER = "scim"
CLAIM = "scim groups"
# A list answers at most MAX_RESULTS resources (ServiceProviderConfig ``filter.maxResults``).
MAX_RESULTS = 200
DEFAULT_COUNT = 100
NAME_MAX = 150
TEXT_MAX = 255

# Core User attributes Keel has no place for: accepted and left alone, so that a directory
# sending them (Entra's displayName, Okta's locale) is not refused.
IGNORED_USER_ATTRIBUTES = frozenset(
    {
        "displayname",
        "nickname",
        "profileurl",
        "title",
        "usertype",
        "preferredlanguage",
        "locale",
        "timezone",
        "password",
        "phonenumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509certificates",
    }
)


class ScimError(Exception):
    """A refusal: ``status`` (400, 403, 404, 409), ``scim_type`` (RFC 7644 §3.12: uniqueness,
    invalidFilter, invalidValue, invalidPath, invalidSyntax, noTarget, mutability) and why."""

    def __init__(self, detail: str, *, status: int = 400, scim_type: str = ""):
        super().__init__(detail)
        self.detail, self.status, self.scim_type = detail, status, scim_type


def not_found(what: str, scim_id) -> ScimError:
    return ScimError(f"{what} {scim_id} not found.", status=404)


def can_provision(user) -> bool:
    """Administrators (the role, or a superuser) provision; CoE admins do not."""
    return bool(user.is_authenticated and user.is_active and has_any_role(user, {Role.ADMIN}))


def _require(actor) -> None:
    if not can_provision(actor):
        raise ScimError("Only an administrator's token may provision people.", status=403)


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


# --- Reads -----------------------------------------------------------------------------------


def page_bounds(start, count) -> tuple[int, int]:
    """``startIndex`` and ``count`` as RFC 7644 §3.4.2.4 reads them: 1-based, below 1 is 1;
    a negative count is 0; at most ``MAX_RESULTS``; a non-number is refused."""

    def number(value, default, name):
        if value in (None, ""):
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ScimError(f"{name} must be an integer.", scim_type="invalidValue") from None

    start = max(number(start, 1, "startIndex"), 1)
    count = min(max(number(count, DEFAULT_COUNT, "count"), 0), MAX_RESULTS)
    return start, count


def _users():
    groups = DirectoryGroup.objects.only("pk", "scim_id", "display_name").order_by(
        "display_name", "pk"
    )
    return (
        get_user_model()
        .objects.select_related("scim_identity")
        .prefetch_related(Prefetch("directory_groups", queryset=groups))
    )


def _ensure_identities(users) -> None:
    """Give each listed person without one their SCIM id (the first time the directory sees
    them: people made in Keel before provisioning started)."""
    missing = [user for user in users if not hasattr(user, "scim_identity")]
    if not missing:
        return
    ScimIdentity.objects.bulk_create(
        [ScimIdentity(user=user) for user in missing], ignore_conflicts=True
    )
    stored = {i.user_id: i for i in ScimIdentity.objects.filter(user__in=missing)}
    for user in missing:
        user.scim_identity = stored[user.pk]


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def users_page(*, actor, filter_text: str = "", start=None, count=None):
    """(total, the page of people, its start) for ``GET /Users``; people without a SCIM id
    get one."""
    _require(actor)
    start, count = page_bounds(start, count)
    users = _users()
    if filter_text:
        users = users.filter(filter_q(filter_text, USER_FIELDS, USER_SCHEMA))
    total = users.count()
    page = list(users.order_by("pk")[start - 1 : start - 1 + count]) if count and total else []
    _ensure_identities(page)
    return total, page, start


def user_get(*, actor, scim_id):
    _require(actor)
    wanted = _uuid(scim_id)
    user = _users().filter(scim_identity__scim_id=wanted).first() if wanted else None
    if user is None:
        raise not_found("User", scim_id)
    return user


def _groups(*, members: bool = True):
    groups = DirectoryGroup.objects.all()
    if members:
        people_of = get_user_model().objects.select_related("scim_identity").order_by("pk")
        groups = groups.prefetch_related(Prefetch("members", queryset=people_of))
    return groups


def groups_page(*, actor, filter_text: str = "", start=None, count=None, members: bool = True):
    _require(actor)
    start, count = page_bounds(start, count)
    groups = _groups(members=members)
    if filter_text:
        groups = groups.filter(filter_q(filter_text, GROUP_FIELDS, GROUP_SCHEMA)).distinct()
    total = groups.count()
    page = list(groups.order_by("pk")[start - 1 : start - 1 + count]) if count and total else []
    return total, page, start


def group_get(*, actor, scim_id, members: bool = True) -> DirectoryGroup:
    _require(actor)
    wanted = _uuid(scim_id)
    group = _groups(members=members).filter(scim_id=wanted).first() if wanted else None
    if group is None:
        raise not_found("Group", scim_id)
    return group


# --- Values from the directory ---------------------------------------------------------------


def _lower_keys(value, where: str) -> dict:
    """SCIM attribute names are case-insensitive (RFC 7643 §2.1)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScimError(f"{where} must be an object.", scim_type="invalidValue")
    return {str(key).lower(): item for key, item in value.items()}


def _text(value, where: str, *, limit: int = NAME_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(f"{where} must be a string.", scim_type="invalidValue")
    value = value.strip()
    if len(value) > limit:
        raise ScimError(f"{where} is longer than {limit} characters.", scim_type="invalidValue")
    return value


def _boolean(value, where: str) -> bool:
    """A JSON boolean, or the strings ``"True"``/``"False"`` in any case (what Microsoft Entra
    ID sends without its ``aadOptscim062020`` flag)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(f"{where} must be true or false.", scim_type="invalidValue")


def _username(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScimError("userName is required.", scim_type="invalidValue")
    User = get_user_model()
    username = User.normalize_username(value.strip())
    field = User._meta.get_field("username")
    try:
        field.clean(username, None)
    except ValidationError as error:
        raise ScimError(
            f"userName {value!r}: {' '.join(error.messages)}", scim_type="invalidValue"
        ) from None
    return username


def _email(value, where: str = "emails") -> str:
    if isinstance(value, dict):
        value = _lower_keys(value, where).get("value")
    email = _text(value, where, limit=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ScimError(
                f"{where}: {email!r} is not an email address.", scim_type="invalidValue"
            ) from None
    return email


def _primary_email(emails) -> str:
    """Keel keeps one address: the primary, else the work one, else the first."""
    if emails is None:
        return ""
    if isinstance(emails, dict | str):
        emails = [emails]
    if not isinstance(emails, list):
        raise ScimError("emails must be a list.", scim_type="invalidValue")
    entries = [
        _lower_keys(e, "emails") if isinstance(e, dict) else {"value": e} for e in emails if e
    ]
    for test in (
        lambda e: e.get("primary") is True or str(e.get("primary")).lower() == "true",
        lambda e: str(e.get("type", "")).lower() == "work",
        lambda e: True,
    ):
        for entry in entries:
            if test(entry):
                return _email(entry.get("value"))
    return ""


def _targets_work_email(expr, email: str) -> bool:
    """Whether an ``emails[…]`` filter names the one address Keel keeps (work, primary)."""
    try:
        return matches(expr, {"value": email, "type": "work", "primary": True, "display": email})
    except FilterError as error:
        raise ScimError(f"Invalid path: {error}", scim_type="invalidPath") from None


# --- People ----------------------------------------------------------------------------------

_STATE = ("username", "email", "first_name", "last_name", "external_id", "is_active")


def _state(user) -> dict:
    identity = getattr(user, "scim_identity", None)
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "external_id": identity.external_id if identity else "",
        "is_active": user.is_active,
    }


def _resource_state(body, current: dict | None) -> dict:
    """The person a whole User resource (POST, PUT) describes. Attributes it leaves out are
    cleared (RFC 7644 §3.5.1), except ``active``, which only changes when it is sent."""
    data = _lower_keys(body, "The body")
    name = _lower_keys(data.get("name"), "name")
    state = {
        "username": _username(data.get("username")),
        "email": _primary_email(data.get("emails")),
        "first_name": _text(name.get("givenname"), "name.givenName"),
        "last_name": _text(name.get("familyname"), "name.familyName"),
        "external_id": _text(data.get("externalid"), "externalId", limit=TEXT_MAX),
        "is_active": current["is_active"] if current else True,
    }
    if data.get("active") is not None:
        state["is_active"] = _boolean(data["active"], "active")
    return state


def _guard(actor, user) -> None:
    if user.is_superuser:
        raise ScimError(
            "A superuser is kept in Keel (the break-glass account), not by the directory.",
            status=403,
        )
    if user.pk == actor.pk:
        raise ScimError(
            "The provisioning token's own account is not changed through SCIM.", status=403
        )


def _unique_username(username: str, *, exclude=None) -> None:
    others = get_user_model().objects.filter(username__iexact=username)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ScimError(
            f"userName {username!r} is already taken.", status=409, scim_type="uniqueness"
        )


def user_create(*, actor, body) -> object:
    """``POST /Users``: a new person with no password (they sign in through single sign-on),
    their SCIM identity and a ``scim.user_created`` event. 409 ``uniqueness`` when the
    userName is taken, whatever its case."""
    _require(actor)
    state = _resource_state(body, None)
    User = get_user_model()
    try:
        with transaction.atomic():
            _unique_username(state["username"])
            user = User(
                username=state["username"],
                email=state["email"],
                first_name=state["first_name"],
                last_name=state["last_name"],
                is_active=state["is_active"],
            )
            user.set_unusable_password()
            user.save()
            user.scim_identity = ScimIdentity.objects.create(
                user=user, external_id=state["external_id"]
            )
            record_event(actor=actor, action="scim.user_created", target=user, after=state)
    except IntegrityError:
        raise ScimError("userName is already taken.", status=409, scim_type="uniqueness") from None
    return user


def _locked_user(user):
    locked = get_user_model().objects.select_for_update().get(pk=user.pk)
    locked.scim_identity = ScimIdentity.objects.get_or_create(user=locked)[0]
    return locked


def _write_user(*, actor, user, state: dict, reason: str) -> None:
    """Make ``user`` (locked, with their identity) what ``state`` says: one
    ``scim.user_updated`` event for the attributes, the People page's deactivation or
    reactivation for ``active``."""
    before = _state(user)
    changed = [key for key in _STATE if key != "is_active" and state[key] != before[key]]
    if state["username"] != before["username"]:
        _unique_username(state["username"], exclude=user)
    fields = [key for key in changed if key != "external_id"]
    for key in fields:
        setattr(user, key, state[key])
    if fields:
        user.save(update_fields=fields)
    if changed or state["is_active"] != before["is_active"]:
        identity = user.scim_identity  # its updated_at is the resource's lastModified
        identity.external_id = state["external_id"]
        identity.save(update_fields=["external_id", "updated_at"])
    if changed:
        record_event(
            actor=actor,
            action="scim.user_updated",
            target=user,
            before={key: before[key] for key in changed},
            after={key: state[key] for key in changed},
            reason=reason,
        )
    if state["is_active"] != before["is_active"]:
        try:
            people.person_set_active(
                actor=actor, user=user, active=state["is_active"], reason=reason
            )
        except PermissionDenied as refused:
            raise ScimError(str(refused), status=403) from None


def user_replace(*, actor, user, body) -> None:
    """``PUT /Users/{id}``: the person becomes the resource sent (Okta's profile push)."""
    _require(actor)
    _guard(actor, user)
    with transaction.atomic():
        locked = _locked_user(user)
        state = _resource_state(body, _state(locked))
        _write_user(actor=actor, user=locked, state=state, reason="SCIM provisioning (PUT)")


def user_patch(*, actor, user, operations) -> None:
    """``PATCH /Users/{id}`` (RFC 7644 §3.5.2) with what Entra and Okta send: ``op`` in any
    case, with a ``path`` or an object of paths as value, ``emails[type eq "work"].value``,
    enterprise-extension attributes (ignored) and ``active`` as a string."""
    _require(actor)
    _guard(actor, user)
    with transaction.atomic():
        locked = _locked_user(user)
        state = {**_state(locked), "scim_id": str(locked.scim_identity.scim_id)}
        for kind, path, value in _operations(operations):
            if path is None:
                for key, item in _object_of_paths(value).items():
                    _user_set(state, _path(key), item)
            elif kind == "remove":
                _user_remove(state, path)
            else:
                _user_set(state, path, value)
        _write_user(actor=actor, user=locked, state=state, reason="SCIM provisioning (PATCH)")


def _path(text) -> PatchPath:
    if not isinstance(text, str):
        raise ScimError("path must be a string.", scim_type="invalidPath")
    try:
        return parse_path(text)
    except FilterError as error:
        raise ScimError(f"Invalid path {text!r}: {error}", scim_type="invalidPath") from None


def _operations(operations):
    """(op, path or None, value) of each PATCH operation, op in lower case."""
    if not isinstance(operations, list) or not operations:
        raise ScimError("Operations must be a non-empty list.", scim_type="invalidSyntax")
    for operation in operations:
        operation = _lower_keys(operation, "An operation")
        kind = str(operation.get("op", "")).lower()
        if kind not in ("add", "replace", "remove"):
            raise ScimError(
                f"op must be add, replace or remove, not {operation.get('op')!r}.",
                scim_type="invalidSyntax",
            )
        path = operation.get("path")
        if path in (None, ""):
            if kind == "remove":
                raise ScimError("remove needs a path.", scim_type="noTarget")
            yield kind, None, operation.get("value")
        else:
            yield kind, _path(path), operation.get("value")


def _object_of_paths(value) -> dict:
    if not isinstance(value, dict):
        raise ScimError("Without a path, value must be an object.", scim_type="invalidValue")
    return value


def _user_set(state: dict, target: PatchPath, value) -> None:
    path = target.path
    uri = path.uri.lower()
    if uri == ENTERPRISE_USER_SCHEMA.lower():
        return  # department, employeeNumber, manager…: Keel keeps none of them
    if uri and uri != USER_SCHEMA.lower():
        raise ScimError(f"Unknown schema {path.uri!r}.", scim_type="invalidPath")
    if not path.attr:  # the core schema's URN as a key: an object of attributes
        for key, item in _object_of_paths(value).items():
            _user_set(state, _path(key), item)
        return
    attr, sub = path.key
    if target.filter is not None:
        if attr == "emails":
            # Keel keeps the work address only: other types (home…) are left alone.
            named = _targets_work_email(target.filter, state["email"])
            if named and target.sub.lower() in ("", "value"):
                state["email"] = _email(value, "emails[…].value")
            return
        if attr in IGNORED_USER_ATTRIBUTES:
            return
        raise ScimError(f"Keel cannot filter {path.attr!r} in a path.", scim_type="invalidPath")
    if (attr, sub) == ("username", ""):
        state["username"] = _username(value)
    elif (attr, sub) == ("name", ""):
        name = _lower_keys(value, "name")
        if "givenname" in name:
            state["first_name"] = _text(name["givenname"], "name.givenName")
        if "familyname" in name:
            state["last_name"] = _text(name["familyname"], "name.familyName")
    elif (attr, sub) == ("name", "givenname"):
        state["first_name"] = _text(value, "name.givenName")
    elif (attr, sub) == ("name", "familyname"):
        state["last_name"] = _text(value, "name.familyName")
    elif attr == "name":
        return  # formatted, middleName, honorifics
    elif (attr, sub) in (("emails", ""), ("emails", "value")):
        state["email"] = _primary_email(value) if isinstance(value, list) else _email(value)
    elif (attr, sub) == ("active", ""):
        state["is_active"] = _boolean(value, "active")
    elif (attr, sub) == ("externalid", ""):
        state["external_id"] = _text(value, "externalId", limit=TEXT_MAX)
    elif attr in IGNORED_USER_ATTRIBUTES or attr == "schemas" or _own_id(attr, sub, value, state):
        return
    elif attr in ("id", "meta", "groups"):
        raise ScimError(
            f"{path.attr} is read-only (groups change through /Groups).", scim_type="mutability"
        )
    else:
        raise ScimError(f"Unknown attribute {path.attr!r}.", scim_type="invalidPath")


def _own_id(attr: str, sub: str, value, state: dict) -> bool:
    """Okta repeats the resource's own ``id`` in a replace value: harmless, ignored."""
    return (attr, sub) == ("id", "") and str(value) == state.get("scim_id")


def _user_remove(state: dict, target: PatchPath) -> None:
    path = target.path
    if path.uri.lower() == ENTERPRISE_USER_SCHEMA.lower():
        return
    attr, sub = path.key
    if attr == "emails":
        if target.filter is None or _targets_work_email(target.filter, state["email"]):
            state["email"] = ""
    elif (attr, sub) in (("name", ""), ("name", "givenname")):
        state["first_name"] = ""
        if not sub:
            state["last_name"] = ""
    elif (attr, sub) == ("name", "familyname"):
        state["last_name"] = ""
    elif (attr, sub) == ("externalid", ""):
        state["external_id"] = ""
    elif attr in ("username", "active"):
        raise ScimError(f"{path.attr} cannot be removed.", scim_type="invalidValue")
    elif attr in IGNORED_USER_ATTRIBUTES or attr == "name":
        return
    else:
        raise ScimError(f"Unknown attribute {path.attr!r}.", scim_type="invalidPath")


def user_delete(*, actor, user) -> None:
    """``DELETE /Users/{id}``: the person is deactivated (sessions end, tokens stop), leaves
    every directory group (their SCIM-granted roles go) and their SCIM id ends (a later GET is
    404); the account stays for the audit trail."""
    _require(actor)
    _guard(actor, user)
    with transaction.atomic():
        locked = _locked_user(user)
        identity = locked.scim_identity
        groups = dict(locked.directory_groups.values_list("pk", "display_name"))
        record_event(
            actor=actor,
            action="scim.user_deleted",
            target=locked,
            before={
                "scim_id": str(identity.scim_id),
                "external_id": identity.external_id,
                "groups": sorted(groups.values()),
            },
            after={"is_active": False},
        )
        if locked.is_active:
            try:
                people.person_set_active(
                    actor=actor, user=locked, active=False, reason="SCIM provisioning (DELETE)"
                )
            except PermissionDenied as refused:
                raise ScimError(str(refused), status=403) from None
        locked.directory_groups.clear()
        DirectoryGroup.objects.filter(pk__in=groups).update(updated_at=timezone.now())
        identity.delete()
        _sync([locked.pk])


# --- Groups ----------------------------------------------------------------------------------


def _sync(user_ids) -> None:
    """Recompute the directory-granted memberships of these people from their groups."""
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    names = defaultdict(list)
    through = DirectoryGroup.members.through.objects.filter(user_id__in=user_ids)
    for user_id, name in through.values_list("user_id", "directorygroup__display_name"):
        names[user_id].append(name)
    for user in get_user_model().objects.filter(pk__in=user_ids):
        memberships_sync(
            user=user,
            groups=sorted(names[user.pk]),
            provider=PROVIDER,
            via=GrantedVia.SCIM,
            claim=CLAIM,
        )


def _member_ids(value) -> dict[int, str]:
    """{user pk: username} of the members a value names (``[{"value": "<SCIM id>"}, …]``);
    400 ``invalidValue`` for an id Keel does not know."""
    if value is None:
        return {}
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ScimError("members must be a list.", scim_type="invalidValue")
    wanted = {}
    for entry in value:
        raw = _lower_keys(entry, "A member").get("value")
        wanted[str(raw)] = _uuid(raw)
    unknown = sorted(raw for raw, parsed in wanted.items() if parsed is None)
    found = dict(
        ScimIdentity.objects.filter(
            scim_id__in=[parsed for parsed in wanted.values() if parsed]
        ).values_list("scim_id", "user_id")
    )
    unknown += sorted(raw for raw, parsed in wanted.items() if parsed and parsed not in found)
    if unknown:
        raise ScimError(f"No user with id {', '.join(unknown)}.", scim_type="invalidValue")
    return dict(
        get_user_model().objects.filter(pk__in=found.values()).values_list("pk", "username")
    )


def _display_name(value) -> str:
    name = _text(value, "displayName", limit=TEXT_MAX)
    if not name:
        raise ScimError("displayName is required.", scim_type="invalidValue")
    return name


def _unique_group(name: str, *, exclude=None) -> None:
    others = DirectoryGroup.objects.filter(display_name__iexact=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ScimError(
            f"A group named {name!r} exists: group mappings name groups, so names are unique.",
            status=409,
            scim_type="uniqueness",
        )


def group_create(*, actor, body) -> DirectoryGroup:
    """``POST /Groups`` (with or without members): the group, its members' mapped roles and
    a ``scim.group_created`` event. 409 ``uniqueness`` for a name taken (in any case)."""
    _require(actor)
    data = _lower_keys(body, "The body")
    name = _display_name(data.get("displayname"))
    external_id = _text(data.get("externalid"), "externalId", limit=TEXT_MAX)
    with transaction.atomic():
        members = _member_ids(data.get("members"))
        _unique_group(name)
        group = DirectoryGroup.objects.create(display_name=name, external_id=external_id)
        group.members.add(*members)
        record_event(
            actor=actor,
            action="scim.group_created",
            target=group,
            after={
                "display_name": name,
                "external_id": external_id,
                "members": sorted(members.values()),
            },
        )
        _sync(members)
    return group


def _write_group(*, actor, group, name: str, external_id: str, members: dict[int, str]) -> None:
    """Make the (locked) group what is given; one ``scim.group_updated`` event; the roles of
    everyone who joined or left (everyone, after a rename) recomputed."""
    held = dict(group.members.values_list("pk", "username"))
    added = {pk: u for pk, u in members.items() if pk not in held}
    removed = {pk: u for pk, u in held.items() if pk not in members}
    renamed = name != group.display_name
    before = {"display_name": group.display_name, "external_id": group.external_id}
    if renamed:
        _unique_group(name, exclude=group)
    if not (added or removed or renamed or external_id != group.external_id):
        return
    group.display_name, group.external_id = name, external_id
    group.save(update_fields=["display_name", "external_id", "updated_at"])
    group.members.remove(*removed)
    group.members.add(*added)
    record_event(
        actor=actor,
        action="scim.group_updated",
        target=group,
        before=before,
        after={
            "display_name": name,
            "external_id": external_id,
            "members_added": sorted(added.values()),
            "members_removed": sorted(removed.values()),
        },
    )
    _sync(set(held) | set(members) if renamed else set(added) | set(removed))


def group_replace(*, actor, group, body) -> None:
    """``PUT /Groups/{id}``: name, externalId and members as sent (members left out: none)."""
    _require(actor)
    data = _lower_keys(body, "The body")
    name = _display_name(data.get("displayname"))
    external_id = _text(data.get("externalid"), "externalId", limit=TEXT_MAX)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        members = _member_ids(data.get("members"))
        _write_group(actor=actor, group=locked, name=name, external_id=external_id, members=members)


def group_patch(*, actor, group, operations) -> None:
    """``PATCH /Groups/{id}``: members added, removed (by a list, as Entra sends it without
    its flag, or by ``members[value eq "…"]``) or replaced; displayName and externalId
    replaced (Okta sends them with the group's own id in the value)."""
    _require(actor)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        name, external_id = locked.display_name, locked.external_id
        members = dict(locked.members.values_list("pk", "username"))
        for kind, path, value in _operations(operations):
            if path is None:
                items = [(_path(key), item) for key, item in _object_of_paths(value).items()]
            else:
                items = [(path, value)]
            for target, item in items:
                attr, sub = target.path.key
                if target.path.uri and target.path.uri.lower() != GROUP_SCHEMA.lower():
                    raise ScimError(f"Unknown schema {target.path.uri!r}.", scim_type="invalidPath")
                if attr == "members" and not sub:
                    members = _patch_members(locked, members, kind, target, item)
                elif (attr, sub) == ("displayname", ""):
                    if kind == "remove":
                        raise ScimError("displayName cannot be removed.", scim_type="invalidValue")
                    name = _display_name(item)
                elif (attr, sub) == ("externalid", ""):
                    external_id = (
                        "" if kind == "remove" else _text(item, "externalId", limit=TEXT_MAX)
                    )
                elif (attr, sub) == ("id", "") and str(item) == str(locked.scim_id):
                    continue
                elif attr in ("id", "meta"):
                    raise ScimError(f"{target.path.attr} is read-only.", scim_type="mutability")
                elif attr == "schemas":
                    continue
                else:
                    raise ScimError(
                        f"Unknown attribute {target.path.attr!r}.", scim_type="invalidPath"
                    )
        _write_group(actor=actor, group=locked, name=name, external_id=external_id, members=members)


def _patch_members(group, members: dict, kind: str, target: PatchPath, value) -> dict:
    if target.filter is not None:
        if kind != "remove" or target.sub:
            raise ScimError("A filtered members path is only removed.", scim_type="invalidPath")
        ids = dict(ScimIdentity.objects.filter(user__in=members).values_list("user_id", "scim_id"))
        try:
            return {
                pk: username
                for pk, username in members.items()
                if not matches(
                    target.filter,
                    {"value": str(ids.get(pk, "")), "display": username, "type": "User"},
                )
            }
        except FilterError as error:
            raise ScimError(f"Invalid path: {error}", scim_type="invalidPath") from None
    if kind == "remove":
        if value in (None, [], {}):
            return {}
        named = _member_ids(value)
        return {pk: u for pk, u in members.items() if pk not in named}
    named = _member_ids(value)
    return named if kind == "replace" else {**members, **named}


def group_delete(*, actor, group) -> None:
    """``DELETE /Groups/{id}``: the group goes; its former members' roles are recomputed."""
    _require(actor)
    with transaction.atomic():
        locked = DirectoryGroup.objects.select_for_update().get(pk=group.pk)
        members = dict(locked.members.values_list("pk", "username"))
        record_event(
            actor=actor,
            action="scim.group_deleted",
            target=locked,
            before={
                "display_name": locked.display_name,
                "external_id": locked.external_id,
                "members": sorted(members.values()),
            },
        )
        locked.delete()
        _sync(members)
