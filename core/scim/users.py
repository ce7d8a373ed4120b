"""SCIM Users (``/Users``): reads, create, replace, PATCH and delete of people."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone

from core import people
from core.audit import record_event
from core.models import DirectoryGroup, ScimIdentity
from core.scim.base import (
    ENTERPRISE_USER_SCHEMA,
    TEXT_MAX,
    USER_SCHEMA,
    ScimError,
    boolean_value,
    lower_keys,
    not_found,
    object_of_paths,
    page_bounds,
    parse_uuid,
    patch_operations,
    patch_path,
    require,
    sync_memberships,
    text_value,
)
from core.scim.filter import (
    FilterError,
    PatchPath,
    matches,
)
from core.scim.query import USER_FIELDS, filter_q

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


def users_page(*, actor, filter_text: str = "", start=None, count=None):
    """(total, the page of people, its start) for ``GET /Users``; people without a SCIM id
    get one."""
    require(actor)
    start, count = page_bounds(start, count)
    users = _users()
    if filter_text:
        users = users.filter(filter_q(filter_text, USER_FIELDS, USER_SCHEMA))
    total = users.count()
    page = list(users.order_by("pk")[start - 1 : start - 1 + count]) if count and total else []
    _ensure_identities(page)
    return total, page, start


def user_get(*, actor, scim_id):
    require(actor)
    wanted = parse_uuid(scim_id)
    user = _users().filter(scim_identity__scim_id=wanted).first() if wanted else None
    if user is None:
        raise not_found("User", scim_id)
    return user


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
        value = lower_keys(value, where).get("value")
    email = text_value(value, where, limit=254)
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
        lower_keys(e, "emails") if isinstance(e, dict) else {"value": e} for e in emails if e
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
    data = lower_keys(body, "The body")
    name = lower_keys(data.get("name"), "name")
    state = {
        "username": _username(data.get("username")),
        "email": _primary_email(data.get("emails")),
        "first_name": text_value(name.get("givenname"), "name.givenName"),
        "last_name": text_value(name.get("familyname"), "name.familyName"),
        "external_id": text_value(data.get("externalid"), "externalId", limit=TEXT_MAX),
        "is_active": current["is_active"] if current else True,
    }
    if data.get("active") is not None:
        state["is_active"] = boolean_value(data["active"], "active")
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
    require(actor)
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
    require(actor)
    _guard(actor, user)
    with transaction.atomic():
        locked = _locked_user(user)
        state = _resource_state(body, _state(locked))
        _write_user(actor=actor, user=locked, state=state, reason="SCIM provisioning (PUT)")


def user_patch(*, actor, user, operations) -> None:
    """``PATCH /Users/{id}`` (RFC 7644 §3.5.2) with what Entra and Okta send: ``op`` in any
    case, with a ``path`` or an object of paths as value, ``emails[type eq "work"].value``,
    enterprise-extension attributes (ignored) and ``active`` as a string."""
    require(actor)
    _guard(actor, user)
    with transaction.atomic():
        locked = _locked_user(user)
        state = {**_state(locked), "scim_id": str(locked.scim_identity.scim_id)}
        for kind, path, value in patch_operations(operations):
            if path is None:
                for key, item in object_of_paths(value).items():
                    _user_set(state, patch_path(key), item)
            elif kind == "remove":
                _user_remove(state, path)
            else:
                _user_set(state, path, value)
        _write_user(actor=actor, user=locked, state=state, reason="SCIM provisioning (PATCH)")


def _user_set(state: dict, target: PatchPath, value) -> None:
    path = target.path
    uri = path.uri.lower()
    if uri == ENTERPRISE_USER_SCHEMA.lower():
        return  # department, employeeNumber, manager…: Keel keeps none of them
    if uri and uri != USER_SCHEMA.lower():
        raise ScimError(f"Unknown schema {path.uri!r}.", scim_type="invalidPath")
    if not path.attr:  # the core schema's URN as a key: an object of attributes
        for key, item in object_of_paths(value).items():
            _user_set(state, patch_path(key), item)
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
        name = lower_keys(value, "name")
        if "givenname" in name:
            state["first_name"] = text_value(name["givenname"], "name.givenName")
        if "familyname" in name:
            state["last_name"] = text_value(name["familyname"], "name.familyName")
    elif (attr, sub) == ("name", "givenname"):
        state["first_name"] = text_value(value, "name.givenName")
    elif (attr, sub) == ("name", "familyname"):
        state["last_name"] = text_value(value, "name.familyName")
    elif attr == "name":
        return  # formatted, middleName, honorifics
    elif (attr, sub) in (("emails", ""), ("emails", "value")):
        state["email"] = _primary_email(value) if isinstance(value, list) else _email(value)
    elif (attr, sub) == ("active", ""):
        state["is_active"] = boolean_value(value, "active")
    elif (attr, sub) == ("externalid", ""):
        state["external_id"] = text_value(value, "externalId", limit=TEXT_MAX)
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
    require(actor)
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
        sync_memberships([locked.pk])
