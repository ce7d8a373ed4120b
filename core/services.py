"""Writes for the organisation: business units, memberships, sequences, notifications."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from .audit import record_event
from .models import BusinessUnit, Membership, Notification, Sequence
from .permissions import can_manage_organisation, forget_memberships

BUSINESS_UNIT_FIELDS = ("name", "code", "parent", "head", "cost_centre")


def snapshot(instance, fields) -> dict:
    """Plain values of ``fields`` for an audit before/after record (FKs as ids)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        values[name] = getattr(instance, field.attname)
    return values


def apply_changes(instance, data: dict, fields) -> tuple[dict, dict]:
    """Set the allowed ``fields`` found in ``data``; return (before, after) of the changed ones."""
    before, after = {}, {}
    for name in fields:
        if name not in data:
            continue
        old = snapshot(instance, [name])[name]
        setattr(instance, name, data[name])
        new = snapshot(instance, [name])[name]
        if old != new:
            before[name], after[name] = old, new
    return before, after


def sequence_next(name: str, count: int = 1) -> int:
    """Reserve ``count`` numbers of the named sequence and return the last one.

    The UPDATE takes the row lock, so concurrent callers are serialised and never share a
    number; if the caller's transaction rolls back, so does the reservation.
    """
    with transaction.atomic():
        if not Sequence.objects.filter(name=name).update(last_value=F("last_value") + count):
            Sequence.objects.bulk_create([Sequence(name=name)], ignore_conflicts=True)
            Sequence.objects.filter(name=name).update(last_value=F("last_value") + count)
        return Sequence.objects.values_list("last_value", flat=True).get(name=name)


def business_unit_create(*, actor, data: dict) -> BusinessUnit:
    if not can_manage_organisation(actor):
        raise PermissionDenied("Only CoE admins can create business units.")
    unit = BusinessUnit(**{k: v for k, v in data.items() if k in BUSINESS_UNIT_FIELDS})
    unit.full_clean()
    with transaction.atomic():
        unit.save()
        record_event(
            actor=actor,
            action="business_unit.created",
            target=unit,
            after=snapshot(unit, BUSINESS_UNIT_FIELDS),
        )
    return unit


def business_unit_update(*, actor, business_unit: BusinessUnit, data: dict) -> BusinessUnit:
    if not can_manage_organisation(actor):
        raise PermissionDenied("Only CoE admins can change business units.")
    with transaction.atomic():
        unit = BusinessUnit.objects.select_for_update().get(pk=business_unit.pk)
        before, after = apply_changes(unit, data, BUSINESS_UNIT_FIELDS)
        unit.full_clean()
        if after:
            unit.save()
            record_event(
                actor=actor, action="business_unit.updated", target=unit, before=before, after=after
            )
    return unit


def membership_grant(*, actor, user, business_unit: BusinessUnit, role: str) -> Membership:
    if actor is not None and not can_manage_organisation(actor):
        raise PermissionDenied("Only CoE admins can grant roles.")
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, business_unit=business_unit, role=role
        )
        if created:
            record_event(
                actor=actor,
                action="membership.granted",
                target=membership,
                after={"user_id": user.pk, "business_unit_id": business_unit.pk, "role": role},
            )
    forget_memberships(user)
    return membership


def notification_send(*, recipient, subject: str, body: str = "", url: str = "") -> Notification:
    """Create an in-app notification and email it once the current transaction commits."""
    from .tasks import send_notification_email_task

    notification = Notification.objects.create(
        recipient=recipient, subject=subject[:200], body=body, url=url
    )
    transaction.on_commit(lambda: send_notification_email_task.delay(notification.pk))
    return notification


def notification_email(*, notification_id: int) -> bool:
    """Email one notification if it has not been emailed yet; True when sent now."""
    from django.core.mail import send_mail
    from django.utils import timezone

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return False
        send_mail(
            subject=f"[Keel] {notification.subject}",
            message=notification.body or notification.subject,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notifications_mark_read(*, user) -> int:
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def administrators():
    """Users who receive operational alerts: superusers and holders of the admin role."""
    from django.db.models import Q

    from .choices import Role

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(memberships__role=Role.ADMIN))
        .distinct()
    )


def audit_chain_check_and_alert() -> "object":
    """Verify the audit chain; notify every administrator (in-app and email) if it is broken."""
    from .audit import verify_audit_chain

    report = verify_audit_chain()
    if not report.ok:
        with transaction.atomic():
            for admin in administrators():
                notification_send(
                    recipient=admin,
                    subject="Audit chain verification FAILED",
                    body=report.describe(),
                )
    return report
