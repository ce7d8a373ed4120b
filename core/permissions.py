"""Role look-ups shared by every app's permission predicates.

Memberships are loaded once per user object and cached on it, so permission checks inside a
request cost one query however many objects they look at.
"""

from core.choices import (
    BU_WRITE_ROLES,
    INVENTORY_WRITE_ROLES,
    ORGANISATION_WIDE_READ_ROLES,
    ORGANISATION_WIDE_WRITE_ROLES,
    Role,
)

_CACHE_ATTRIBUTE = "_keel_memberships"


def memberships_of(user) -> frozenset[tuple[int, str]]:
    """The user's (business unit id, role) pairs."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = frozenset(user.memberships.values_list("business_unit_id", "role"))
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def forget_memberships(user) -> None:
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def roles_of(user) -> set[str]:
    return {role for _, role in memberships_of(user)}


def has_any_role(user, roles) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    return bool(roles_of(user) & set(roles))


def business_unit_ids(user, roles=None) -> set[int]:
    """Ids of the units where the user holds any of ``roles`` (any role when None)."""
    return {bu for bu, role in memberships_of(user) if roles is None or role in roles}


def reads_whole_organisation(user) -> bool:
    return has_any_role(user, ORGANISATION_WIDE_READ_ROLES)


def writes_whole_organisation(user) -> bool:
    return has_any_role(user, ORGANISATION_WIDE_WRITE_ROLES)


def visible_business_unit_ids(user) -> set[int] | None:
    """None: every unit (an organisation-wide reader); else the ids of the units the user
    belongs to. The scope of per-unit figures (chargeback, utilisation, the dashboard)."""
    if reads_whole_organisation(user):
        return None
    return business_unit_ids(user)


def can_write_for_business_unit(user, business_unit_id) -> bool:
    if writes_whole_organisation(user):
        return True
    return business_unit_id in business_unit_ids(user, BU_WRITE_ROLES)


def can_manage_inventory(user) -> bool:
    return has_any_role(user, INVENTORY_WRITE_ROLES)


# Readers of some units whose dashboard is scoped to them (their units' initiatives plus those
# deployed to their units, as every selector scopes them).
UNIT_DASHBOARD_ROLES = frozenset({Role.BU_LEAD, Role.BU_MEMBER})


def can_view_dashboard(user) -> bool:
    """The dashboard and board pack: organisation-wide readers (executives, CoE staff …) see
    every unit; BU leads and BU members see their own units' figures only."""
    return reads_whole_organisation(user) or has_any_role(user, UNIT_DASHBOARD_ROLES)


def can_manage_organisation(user) -> bool:
    return writes_whole_organisation(user)


def can_manage_webhooks(user) -> bool:
    """Webhooks send Keel's events out of the organisation: administrators and CoE admins
    (and superusers) set them up, everyone else gets a 403."""
    return writes_whole_organisation(user)


# Roles that read the whole audit log; a BU lead reads the events about their units' objects.
AUDIT_LOG_READ_ROLES = frozenset({Role.ADMIN, Role.COE_ADMIN, Role.RISK_OFFICER})


def can_view_audit_log(user) -> bool:
    return has_any_role(user, AUDIT_LOG_READ_ROLES | {Role.BU_LEAD})


def audit_log_unit_ids(user) -> set[int] | None:
    """None: the whole audit log; else the units whose objects' events the user reads."""
    if has_any_role(user, AUDIT_LOG_READ_ROLES):
        return None
    return business_unit_ids(user, {Role.BU_LEAD})


def can_verify_audit_chain(user) -> bool:
    """Administrators and CoE admins may start a verification of the whole chain."""
    return writes_whole_organisation(user)
