"""What every SCIM resource shares: the schemas and limits, the refusal (``ScimError``), who may
provision, paging, the directory's plain values and PATCH operations, and the recomputation of
directory-granted memberships after a change."""

import uuid
from collections import defaultdict

from django.contrib.auth import get_user_model

from core.choices import GrantedVia, Role
from core.directory import memberships_sync
from core.models import DirectoryGroup
from core.permissions import has_any_role
from core.scim.filter import (
    FilterError,
    PatchPath,
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


def require(actor) -> None:
    if not can_provision(actor):
        raise ScimError("Only an administrator's token may provision people.", status=403)


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


def parse_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# --- Values from the directory ---------------------------------------------------------------


def lower_keys(value, where: str) -> dict:
    """SCIM attribute names are case-insensitive (RFC 7643 §2.1)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScimError(f"{where} must be an object.", scim_type="invalidValue")
    return {str(key).lower(): item for key, item in value.items()}


def text_value(value, where: str, *, limit: int = NAME_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScimError(f"{where} must be a string.", scim_type="invalidValue")
    value = value.strip()
    if len(value) > limit:
        raise ScimError(f"{where} is longer than {limit} characters.", scim_type="invalidValue")
    return value


def boolean_value(value, where: str) -> bool:
    """A JSON boolean, or the strings ``"True"``/``"False"`` in any case (what Microsoft Entra
    ID sends without its ``aadOptscim062020`` flag)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ScimError(f"{where} must be true or false.", scim_type="invalidValue")


def patch_path(text) -> PatchPath:
    if not isinstance(text, str):
        raise ScimError("path must be a string.", scim_type="invalidPath")
    try:
        return parse_path(text)
    except FilterError as error:
        raise ScimError(f"Invalid path {text!r}: {error}", scim_type="invalidPath") from None


def patch_operations(operations):
    """(op, path or None, value) of each PATCH operation, op in lower case."""
    if not isinstance(operations, list) or not operations:
        raise ScimError("Operations must be a non-empty list.", scim_type="invalidSyntax")
    for operation in operations:
        operation = lower_keys(operation, "An operation")
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
            yield kind, patch_path(path), operation.get("value")


def object_of_paths(value) -> dict:
    if not isinstance(value, dict):
        raise ScimError("Without a path, value must be an object.", scim_type="invalidValue")
    return value


def sync_memberships(user_ids) -> None:
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
