"""Writes for the organisation: business units, memberships, sequences, notifications,
notification preferences and outgoing webhooks."""

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.audit import record_event
from core.choices import NotificationKind
from core.customfields import changed_values
from core.models import (
    WEBHOOK_TEST_EVENT,
    AuditVerification,
    BusinessUnit,
    Membership,
    Notification,
    NotificationPreference,
    Sequence,
    Webhook,
    WebhookDelivery,
    generate_webhook_secret,
    validate_webhook_url,
)
from core.permissions import (
    can_manage_organisation,
    can_manage_webhooks,
    can_verify_audit_chain,
    forget_memberships,
)
from core.scheduling import enqueue, enqueue_after_commit

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
        if name == "custom_fields":
            # Custom values are audited per field, old → new, not as two whole objects.
            old, new = changed_values(old, new)
            if old or new:
                before[name], after[name] = old, new
        elif old != new:
            before[name], after[name] = old, new
    return before, after


def create_audited(instance, *, actor, action: str, fields, duplicate=None):
    """Save a new, already validated ``instance`` and audit ``action`` with its ``fields``,
    in one transaction. ``duplicate`` (a ValidationError message dict) is raised when a
    unique constraint refuses the row (e.g. a concurrent twin)."""
    try:
        with transaction.atomic():
            instance.save()
            record_event(
                actor=actor, action=action, target=instance, after=snapshot(instance, fields)
            )
    except IntegrityError:
        if duplicate is None:
            raise
        raise ValidationError(duplicate) from None
    return instance


def update_audited(instance, *, actor, action: str, data: dict, fields, validate=None):
    """Lock ``instance``'s row, apply the allowed ``fields`` of ``data``, validate (the
    model's ``full_clean`` unless ``validate(locked, after)`` is given), save and audit
    ``action`` with before/after when anything changed. Returns the locked, saved row."""
    with transaction.atomic():
        locked = type(instance).objects.select_for_update().get(pk=instance.pk)
        before, after = apply_changes(locked, data, fields)
        if validate is None:
            locked.full_clean()
        else:
            validate(locked, after)
        if after:
            locked.save()
            record_event(actor=actor, action=action, target=locked, before=before, after=after)
    return locked


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
    return create_audited(
        unit, actor=actor, action="business_unit.created", fields=BUSINESS_UNIT_FIELDS
    )


def business_unit_update(*, actor, business_unit: BusinessUnit, data: dict) -> BusinessUnit:
    if not can_manage_organisation(actor):
        raise PermissionDenied("Only CoE admins can change business units.")
    return update_audited(
        business_unit,
        actor=actor,
        action="business_unit.updated",
        data=data,
        fields=BUSINESS_UNIT_FIELDS,
    )


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


def notification_send(
    *,
    recipient,
    subject: str,
    body: str = "",
    url: str = "",
    kind: str = NotificationKind.GENERAL,
) -> Notification:
    """Create an in-app notification and email it once the current transaction commits.

    The email task decides from the recipient's preference for ``kind`` whether to send.
    Raises ValueError for a kind that is not a ``NotificationKind``.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    notification = Notification.objects.create(
        recipient=recipient, subject=subject[:200], body=body, url=url, kind=kind
    )
    # Robust: the committed notification stands even if enqueueing the email fails (broker
    # down, or an SMTP error when tasks run eagerly); the failure is logged, not raised into
    # a caller whose transaction has already committed.
    enqueue_after_commit("core.tasks.send_notification_email_task", notification.pk)
    return notification


def _email_text(notification: Notification) -> str:
    """The body, then a link to the object: absolute on ``KEEL_PUBLIC_URL``; a relative
    path only where no public URL is known (better than nothing to copy)."""
    text = notification.body or notification.subject
    if not notification.url:
        return text
    link = notification.url
    if link.startswith("/"):
        link = settings.KEEL_PUBLIC_URL + link
    return f"{text}\n\nOpen in Keel: {link}\n"


def notification_email(*, notification_id: int) -> bool:
    """Email one notification unless already emailed or the recipient turned its kind off.

    True when sent now. Idempotent: ``emailed_at`` is set in the same transaction.
    """
    from django.core.mail import send_mail

    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None or not notification.recipient.email:
            return False
        if NotificationPreference.objects.filter(
            user_id=notification.recipient_id, kind=notification.kind, email=False
        ).exists():
            return False
        send_mail(
            subject=f"[Keel] {notification.subject}",
            message=_email_text(notification),
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notifications_mark_read(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notification_preferences_update(*, user, email_by_kind: dict[str, bool]) -> dict[str, bool]:
    """Store ``user``'s email choice for each kind given; kinds left out keep their choice.

    Personal settings, so no audit event. One upsert, so concurrent saves cannot collide on
    the unique (user, kind) pair. Returns every kind's choice afterwards. Raises ValueError
    for an unknown kind or a value that is not a bool.
    """
    unknown = set(email_by_kind) - set(NotificationKind.values)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {', '.join(sorted(unknown))}.")
    if not all(isinstance(email, bool) for email in email_by_kind.values()):
        raise ValueError("Email choices must be True or False.")
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(user=user, kind=kind, email=email)
            for kind, email in email_by_kind.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["email", "updated_at"],
    )
    return NotificationPreference.objects.email_by_kind(user=user)


# --- Webhooks --------------------------------------------------------------------------------

WEBHOOK_FIELDS = ("name", "url", "business_unit", "kinds", "is_active")
WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_ERROR_EXCERPT_BYTES = 500


class WebhookDeliveryError(Exception):
    """A webhook POST failed (network error or a non-2xx answer); the task retries it."""


def _require_webhook_manager(actor) -> None:
    if not can_manage_webhooks(actor):
        raise PermissionDenied("Only administrators and CoE admins manage webhooks.")


def webhook_create(*, actor, data: dict) -> Webhook:
    """Create a webhook with a freshly generated secret; the secret is never audited."""
    _require_webhook_manager(actor)
    webhook = Webhook(**{name: value for name, value in data.items() if name in WEBHOOK_FIELDS})
    webhook.full_clean()
    with transaction.atomic():
        webhook.save()
        record_event(
            actor=actor,
            action="webhook.created",
            target=webhook,
            after=snapshot(webhook, WEBHOOK_FIELDS),
        )
    return webhook


def webhook_update(*, actor, webhook: Webhook, data: dict) -> Webhook:
    _require_webhook_manager(actor)
    with transaction.atomic():
        current = Webhook.objects.select_for_update().get(pk=webhook.pk)
        before, after = apply_changes(current, data, WEBHOOK_FIELDS)
        current.full_clean()
        if after:
            current.save()
            record_event(
                actor=actor, action="webhook.updated", target=current, before=before, after=after
            )
    return current


def webhook_delete(*, actor, webhook: Webhook) -> None:
    """Delete a webhook and its delivery records."""
    _require_webhook_manager(actor)
    with transaction.atomic():
        current = Webhook.objects.select_for_update().get(pk=webhook.pk)
        record_event(
            actor=actor,
            action="webhook.deleted",
            target=current,
            before=snapshot(current, WEBHOOK_FIELDS),
        )
        current.delete()


def webhook_rotate_secret(*, actor, webhook: Webhook) -> str:
    """Give the webhook a new signing secret and return it (to show the admin once)."""
    _require_webhook_manager(actor)
    with transaction.atomic():
        current = Webhook.objects.select_for_update().get(pk=webhook.pk)
        current.secret = generate_webhook_secret()
        current.save(update_fields=["secret"])
        record_event(actor=actor, action="webhook.secret_rotated", target=current)
    return current.secret


def webhook_set_active(*, actor, webhook: Webhook, active: bool) -> Webhook:
    """Switch a webhook on or off (an inactive one receives nothing, retries included)."""
    _require_webhook_manager(actor)
    with transaction.atomic():
        current = Webhook.objects.select_for_update().get(pk=webhook.pk)
        if current.is_active != active:
            current.is_active = active
            current.save(update_fields=["is_active"])
            record_event(
                actor=actor,
                action="webhook.activated" if active else "webhook.deactivated",
                target=current,
                before={"is_active": not active},
                after={"is_active": active},
            )
    return current


def webhook_event_body(*, event: str, business_unit: BusinessUnit | None, payload: dict) -> str:
    """The JSON text every delivery POSTs: ``{"event", "occurred_at", "business_unit",
    "data"}``, compact, serialised once (retries send the same bytes)."""
    unit = business_unit
    return json.dumps(
        {
            "event": event,
            "occurred_at": timezone.now(),
            "business_unit": {"id": unit.pk, "code": unit.code, "name": unit.name}
            if unit is not None
            else None,
            "data": payload,
        },
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def webhook_send_test(*, actor, webhook: Webhook) -> WebhookDelivery:
    """Send the webhook a test event (``ping``) once the transaction commits, through the
    same task, signature and retries as real events; returns its delivery row (pending
    until the receiver answers), which the webhook's page lists with the others."""
    _require_webhook_manager(actor)
    with transaction.atomic():
        current = (
            Webhook.objects.select_for_update(of=("self",))
            .select_related("business_unit")
            .get(pk=webhook.pk)
        )
        if not current.is_active:
            raise ValidationError("Activate the webhook before sending it a test event.")
        body = webhook_event_body(
            event=WEBHOOK_TEST_EVENT,
            business_unit=current.business_unit,
            payload={
                "test": True,
                "webhook": {"id": current.pk, "name": current.name},
                "message": f"A test event sent by {actor.get_username()} from Keel.",
            },
        )
        delivery = WebhookDelivery.objects.create(
            webhook=current, delivery_id=uuid.uuid4(), event=WEBHOOK_TEST_EVENT
        )
        record_event(
            actor=actor,
            action="webhook.test_sent",
            target=current,
            after={"delivery_id": str(delivery.delivery_id)},
        )
        _deliver_after_commit(
            current.pk, body, event=WEBHOOK_TEST_EVENT, delivery_id=str(delivery.delivery_id)
        )
    return delivery


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The ``X-Keel-Signature`` value: ``sha256=`` + hex HMAC-SHA-256 of the body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_broadcast(
    *, kind: str, business_unit: BusinessUnit | None = None, payload: dict
) -> None:
    """Send one event to every matching active webhook once the current transaction commits.

    Matching: global webhooks plus those of ``business_unit``, whose ``kinds`` are empty or
    include ``kind``. The body is serialised now (so a payload that is not JSON-serialisable
    fails in the caller) as ``{"event", "occurred_at", "business_unit", "data": payload}``.
    Nothing is enqueued if the transaction rolls back. Raises ValueError for an unknown kind.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    unit = business_unit
    body = webhook_event_body(event=kind, business_unit=unit, payload=payload)
    webhooks = Webhook.objects.matching(
        kind=kind, business_unit_id=unit.pk if unit is not None else None
    )
    for webhook in webhooks:
        _deliver_after_commit(webhook.pk, body, event=kind, delivery_id=str(uuid.uuid4()))


def _deliver_after_commit(webhook_id: int, body: str, *, event: str, delivery_id: str) -> None:
    """Queue one delivery once the transaction commits, as its own robust callback: a
    failing one (eager mode, broker down) is logged and does not stop the others or fail
    the committed caller."""
    enqueue_after_commit(
        "core.tasks.deliver_webhook_task", webhook_id, body, event=event, delivery_id=delivery_id
    )


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect counts as a failed answer: the signed body goes to the configured URL only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _webhook_post(*, url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """POST ``body``; return (status code or None, error text — empty on a 2xx answer)."""
    opener = urllib.request.build_opener(_RefuseRedirects)
    # The scheme is limited to https (http in DEBUG) by validate_webhook_url, hence the noqa.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with opener.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except urllib.error.HTTPError as error:
        try:
            excerpt = error.read(WEBHOOK_ERROR_EXCERPT_BYTES).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            excerpt = ""
        finally:
            error.close()
        return error.code, f"HTTP {error.code} {error.reason}\n{excerpt}".strip()
    except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
        return None, f"{type(error).__name__}: {error}"


def webhook_deliver(
    *, webhook_id: int, body: str, event: str, delivery_id: str
) -> WebhookDelivery | None:
    """POST one event to one webhook and record the attempt on its ``WebhookDelivery``.

    Returns None when the webhook is gone or inactive (nothing to do), the delivery unchanged
    when it already succeeded (a redelivered task), or the delivery after a successful POST.
    A network error or non-2xx answer is recorded, then raised as WebhookDeliveryError so the
    task retries with the same ``delivery_id``. A URL no longer allowed (http:// outside
    DEBUG) is recorded and not retried.
    """
    webhook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if webhook is None:
        return None
    delivery, _ = WebhookDelivery.objects.get_or_create(
        delivery_id=delivery_id, defaults={"webhook": webhook, "event": event}
    )
    if delivery.succeeded_at is not None:
        return delivery
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1, last_attempt_at=timezone.now()
    )
    try:
        validate_webhook_url(webhook.url)
    except ValidationError as error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=" ".join(error.messages))
        delivery.refresh_from_db()
        return delivery

    data = body.encode()
    status_code, error = _webhook_post(
        url=webhook.url,
        body=data,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Keel-Webhook/1",
            "X-Keel-Event": event,
            "X-Keel-Signature": webhook_signature(secret=webhook.secret, body=data),
            "X-Keel-Delivery": str(delivery.delivery_id),
        },
    )
    if error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status_code=status_code, last_error=error
        )
        raise WebhookDeliveryError(f"Webhook {webhook.pk} delivery {delivery_id}: {error}")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status_code=status_code, succeeded_at=timezone.now(), last_error=""
    )
    delivery.refresh_from_db()
    return delivery


def administrators():
    """Users who receive operational alerts: superusers and holders of the admin role."""
    from django.db.models import Q

    from core.choices import Role

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(memberships__role=Role.ADMIN))
        .distinct()
    )


def audit_chain_check_and_alert(requested_by_id=None) -> "object":
    """Verify the audit chain; notify every administrator (in-app and email) if it is broken."""
    from core.audit import verify_audit_chain

    report = verify_audit_chain()
    audit_verification_store(report, requested_by_id=requested_by_id)
    if not report.ok:
        with transaction.atomic():
            for admin in administrators():
                notification_send(
                    recipient=admin,
                    subject="Audit chain verification FAILED",
                    body=report.describe(),
                    kind=NotificationKind.AUDIT_ALERT,
                )
    return report


def audit_verification_store(report, *, requested_by_id=None):
    """Keep ``report`` (a ``ChainReport``) as the chain's latest verification result."""
    return AuditVerification.objects.create(
        checked_at=timezone.now(),
        ok=report.ok,
        checked=report.checked,
        bad_sequence=report.bad_sequence,
        bad_event_id=report.bad_id,
        problem=report.problem,
        requested_by_id=requested_by_id,
    )


def audit_verification_request(*, actor):
    """Start a verification of the whole chain in the background (administrators and CoE
    admins); its result is stored like the nightly run's."""
    if not can_verify_audit_chain(actor):
        raise PermissionDenied("Only administrators and CoE admins can verify the audit chain.")
    transaction.on_commit(
        lambda: enqueue("core.tasks.verify_audit_chain_task", requested_by_id=actor.pk)
    )
