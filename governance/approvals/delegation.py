"""Delegation: holiday cover, who acts for whom today, and creating a delegation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.permissions import roles_of
from core.services import notification_send
from governance.approvals.models import (
    Delegation,
)


def active_delegators(user, today=None) -> list:
    """Users for whom ``user`` currently holds a delegation."""
    today = today or timezone.localdate()
    return [
        delegation.delegator
        for delegation in Delegation.objects.filter(
            delegate=user, starts_on__lte=today, ends_on__gte=today
        ).select_related("delegator")
    ]


def delegation_create(*, actor, delegate, starts_on, ends_on, reason: str = "") -> Delegation:
    """``actor`` lets ``delegate`` (who holds one of the same approver roles) decide for them
    between the dates."""
    approver_roles = roles_of(actor) - {Role.BU_MEMBER, Role.BU_LEAD}
    errors = {}
    if not approver_roles:
        errors["delegate"] = "You hold no approver role to delegate."
    elif not (roles_of(delegate) & approver_roles):
        errors["delegate"] = "Delegate to a colleague who holds the same approver role."
    if delegate.pk == actor.pk:
        errors["delegate"] = "You cannot delegate to yourself."
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
