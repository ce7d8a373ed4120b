"""Roles from the organisation's directory (issue 18, item 2): group mappings as data, and
the one recomputation of a person's directory-granted memberships from their groups, used by
single sign-on at every sign-in (``core.sso``) and by SCIM provisioning.

A membership granted by a mapping carries ``granted_via`` (group mapping or SCIM); only
those are added and removed here. Memberships granted by hand are never touched, and a
person's superuser flag never comes from the directory.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from core.audit import record_event
from core.choices import ORGANISATION_WIDE_READ_ROLES, GrantedVia, Role
from core.models import BusinessUnit, GroupMapping, Membership
from core.people import can_manage_people
from core.permissions import forget_memberships

BU_ROLES = frozenset({Role.BU_MEMBER, Role.BU_LEAD})


def _require(actor) -> None:
    if not can_manage_people(actor):
        raise PermissionDenied("Only CoE admins and administrators edit group mappings.")


def mapping_list(*, actor, q: str = ""):
    _require(actor)
    mappings = GroupMapping.objects.select_related("business_unit", "created_by")
    q = (q or "").strip()
    if q:
        mappings = mappings.filter(
            Q(group__icontains=q) | Q(provider__icontains=q) | Q(business_unit__name__icontains=q)
        )
    return mappings


def mapping_create(
    *, actor, group: str, role: str, business_unit=None, provider: str = ""
) -> GroupMapping:
    """A new mapping (audited). A unit is required for BU roles; organisation-wide roles may
    leave it blank (the top-level unit)."""
    _require(actor)
    group, provider = (group or "").strip(), (provider or "").strip()
    errors = {}
    if not group:
        errors["group"] = "Enter the group as your identity provider sends it."
    if role not in Role.values:
        errors["role"] = "Choose a role."
    elif role in BU_ROLES and business_unit is None:
        errors["business_unit"] = "A business-unit role needs its unit."
    if not errors and (
        GroupMapping.objects.filter(
            provider=provider, group=group, business_unit=business_unit, role=role
        ).exists()
    ):
        errors["group"] = "This group already grants this role in this unit."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        mapping = GroupMapping.objects.create(
            provider=provider,
            group=group,
            business_unit=business_unit,
            role=role,
            created_by=actor,
        )
        record_event(
            actor=actor, action="group_mapping.created", target=mapping, after=_describe(mapping)
        )
    return mapping


def mapping_delete(*, actor, mapping: GroupMapping) -> None:
    """Remove a mapping (audited). People keep what it granted until their next sign-in or
    SCIM update recomputes their memberships."""
    _require(actor)
    with transaction.atomic():
        record_event(
            actor=actor, action="group_mapping.deleted", target=mapping, before=_describe(mapping)
        )
        mapping.delete()


def _describe(mapping: GroupMapping) -> dict:
    return {
        "provider": mapping.provider,
        "group": mapping.group,
        "business_unit_id": mapping.business_unit_id,
        "role": mapping.role,
    }


def _top_level_unit_id() -> int | None:
    return (
        BusinessUnit.objects.filter(parent__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def roles_for_groups(groups, *, provider: str) -> set[tuple[int, str]]:
    """(unit id, role) pairs the mappings give to someone in ``groups`` from ``provider``."""
    groups = {str(g).strip() for g in groups or () if str(g).strip()}
    if not groups:
        return set()
    wanted, top = set(), None
    mappings = GroupMapping.objects.filter(group__in=groups).filter(
        Q(provider="") | Q(provider=provider)
    )
    for unit_id, role in mappings.values_list("business_unit_id", "role"):
        if unit_id is None:
            if role not in ORGANISATION_WIDE_READ_ROLES:
                continue
            top = top or _top_level_unit_id()
            unit_id = top
        if unit_id is not None:
            wanted.add((unit_id, role))
    return wanted


def _label(units: dict, unit_id: int, role: str) -> str:
    return f"{units.get(unit_id, unit_id)}:{role}"


def memberships_sync(*, user, groups, provider: str, via: str, claim: str = "") -> dict | None:
    """Make the person's ``via``-granted memberships exactly what their ``groups`` map to;
    one audit event (old → new, the provider, the claim and the groups) when anything
    changed. Returns that change, or None."""
    if via not in (GrantedVia.GROUP_MAPPING, GrantedVia.SCIM):
        raise ValueError(f"Memberships granted {via!r} are not recomputed from groups.")
    wanted = roles_for_groups(groups, provider=provider)
    held = {
        (m.business_unit_id, m.role): m
        for m in Membership.objects.filter(user=user).only(
            "pk", "business_unit_id", "role", "granted_via"
        )
    }
    to_add = sorted(key for key in wanted if key not in held)
    to_remove = [m for key, m in held.items() if m.granted_via == via and key not in wanted]
    if not to_add and not to_remove:
        return None
    unit_ids = {unit for unit, _ in held} | {unit for unit, _ in wanted}
    units = dict(BusinessUnit.objects.filter(pk__in=unit_ids).values_list("pk", "code"))
    before = sorted(_label(units, unit, role) for unit, role in held)
    with transaction.atomic():
        Membership.objects.filter(pk__in=[m.pk for m in to_remove]).delete()
        Membership.objects.bulk_create(
            [
                Membership(user=user, business_unit_id=unit, role=role, granted_via=via)
                for unit, role in to_add
            ],
            ignore_conflicts=True,
        )
        removed = {(m.business_unit_id, m.role) for m in to_remove}
        after = sorted(
            _label(units, unit, role) for unit, role in (held.keys() - removed) | set(to_add)
        )
        change = {
            "memberships": after,
            "added": [_label(units, unit, role) for unit, role in to_add],
            "removed": sorted(_label(units, m.business_unit_id, m.role) for m in to_remove),
            "provider": provider,
            "claim": claim,
            "groups": sorted({str(g) for g in groups or ()}),
        }
        record_event(
            actor=None,
            action="membership.synced",
            target=user,
            before={"memberships": before},
            after=change,
            reason=f"{GrantedVia(via).label} from {provider or 'the directory'}",
        )
    forget_memberships(user)
    return change
