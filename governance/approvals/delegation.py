"""Delegation: holiday cover, who acts for whom today, who may be a delegate, and creating a
delegation.

Who may be chosen is an administrator's rule (``DelegationRule``, one row; default
``same_role``):

* ``same_role`` — active colleagues holding one of the delegator's approver roles;
* ``coe`` — those, and any active member of the CoE: a holder of a CoE role (reviewer or
  admin) or anyone with a membership in the rule's CoE business unit;
* ``flagged`` — those, and active holders of the ``governance.act_as_delegate`` permission
  (given to a user or a group in the admin).

A delegate decides with the *delegator's* roles, and separation of duties applies to both of
them: a delegate who submitted the request, owns or leads the initiative cannot decide it, on
anyone's behalf (``services.decision_capacity``); one person and the delegator they stand for
count once per step. A delegation whose delegator or delegate is no longer active confers
nothing.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.permissions import has_any_role, roles_of
from core.services import notification_send
from governance.approvals.models import DelegateEligibility, Delegation, DelegationRule

RULE_PK = 1

# Roles that decide nothing, so have nothing to delegate.
NON_APPROVER_ROLES = frozenset({Role.BU_MEMBER, Role.BU_LEAD})
COE_ROLES = frozenset({Role.COE_REVIEWER, Role.COE_ADMIN})


def active_delegators(user, today=None) -> list:
    """Active users for whom ``user`` currently holds a delegation."""
    today = today or timezone.localdate()
    if not user.is_active:
        return []
    return [
        delegation.delegator
        for delegation in Delegation.objects.filter(
            delegate=user, starts_on__lte=today, ends_on__gte=today, delegator__is_active=True
        ).select_related("delegator")
    ]


def delegation_rule_get() -> DelegationRule:
    """The rule in force (unsaved default ``same_role`` until an administrator sets one)."""
    return DelegationRule.objects.filter(pk=RULE_PK).select_related(
        "coe_business_unit"
    ).first() or DelegationRule(pk=RULE_PK)


def can_set_delegation_rule(user) -> bool:
    return has_any_role(user, {Role.ADMIN})


def delegation_rule_set(*, actor, eligible: str, coe_business_unit=None) -> DelegationRule:
    """Administrators: set who may act as delegate (audited; applies to new delegations)."""
    if not can_set_delegation_rule(actor):
        raise PermissionDenied("Only administrators set who may act as delegate.")
    if eligible not in DelegateEligibility.values:
        raise ValidationError({"eligible": "Choose one of the rules."})
    with transaction.atomic():
        rule, _ = DelegationRule.objects.select_for_update().get_or_create(pk=RULE_PK)
        before = {"eligible": rule.eligible, "coe_business_unit": rule.coe_business_unit_id}
        rule.eligible = eligible
        rule.coe_business_unit = coe_business_unit
        rule.updated_by = actor
        rule.save()
        record_event(
            actor=actor,
            action="delegation_rule.set",
            target=rule,
            before=before,
            after={"eligible": eligible, "coe_business_unit": rule.coe_business_unit_id},
        )
    return rule


def _delegate_permission() -> Permission | None:
    return Permission.objects.filter(
        content_type__app_label="governance", codename="act_as_delegate"
    ).first()


def eligible_delegates(delegator, rule: DelegationRule | None = None) -> QuerySet:
    """Active users ``delegator`` may choose as delegate under the rule (not themselves)."""
    rule = rule or delegation_rule_get()
    approver_roles = roles_of(delegator) - NON_APPROVER_ROLES
    wanted = Q(memberships__role__in=sorted(approver_roles))
    if rule.eligible == DelegateEligibility.COE:
        wanted |= Q(memberships__role__in=sorted(COE_ROLES))
        if rule.coe_business_unit_id:
            wanted |= Q(memberships__business_unit_id=rule.coe_business_unit_id)
    elif rule.eligible == DelegateEligibility.FLAGGED:
        permission = _delegate_permission()
        if permission is not None:
            wanted |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    return (
        get_user_model()
        .objects.filter(wanted, is_active=True)
        .exclude(pk=delegator.pk)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def may_delegate(user) -> bool:
    """Whether ``user`` holds an approver role, so has approvals to delegate."""
    return bool(roles_of(user) - NON_APPROVER_ROLES)


def delegation_create(*, actor, delegate, starts_on, ends_on, reason: str = "") -> Delegation:
    """``actor`` lets ``delegate`` (an active person the delegation rule allows) decide for
    them between the dates."""
    errors = {}
    if not may_delegate(actor):
        errors["delegate"] = "You hold no approver role to delegate."
    elif delegate.pk == actor.pk:
        errors["delegate"] = "You cannot delegate to yourself."
    elif not eligible_delegates(actor).filter(pk=delegate.pk).exists():
        rule = delegation_rule_get()
        errors["delegate"] = (
            "This person may not act as your delegate: the rule in force allows "
            f"{rule.get_eligible_display().lower()}, and the delegate must be active."
        )
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "The end date cannot be before the start date."
    if starts_on and ends_on and (ends_on - starts_on).days > 90:
        errors["ends_on"] = "A delegation can last at most 90 days."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        delegation = Delegation.objects.create(
            delegator=actor, delegate=delegate, starts_on=starts_on, ends_on=ends_on, reason=reason
        )
        record_event(
            actor=actor,
            action="delegation.created",
            target=delegation,
            after={"delegate": delegate.pk, "starts_on": starts_on, "ends_on": ends_on},
            reason=reason,
        )
        notification_send(
            recipient=delegate,
            subject=f"{actor.get_full_name() or actor.username} delegated approvals to you",
            body=f"From {starts_on} to {ends_on}. {reason}".strip(),
        )
    return delegation
