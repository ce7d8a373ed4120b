"""Celery tasks of the core app: thin wrappers around services."""

import smtplib

from celery import shared_task

from core import services

# Webhook retries wait about 30 s, 1, 2, 4, 8 and 16 min (with jitter, up to that long): a
# receiver that is down for a deploy or a restart still gets the event. Celery's
# ``retry_backoff=True`` (1 s base) would spend all six retries within about a minute.
WEBHOOK_RETRY_BACKOFF_SECONDS = 30
WEBHOOK_RETRY_BACKOFF_MAX_SECONDS = 3600


# smtplib.SMTPException is an OSError; both are named so the intent is plain.
@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=True,
    retry_jitter=True,
    max_retries=5,
)
def send_notification_email_task(notification_id: int) -> bool:
    return services.notification_email(notification_id=notification_id)


@shared_task(
    autoretry_for=(services.WebhookDeliveryError,),
    retry_backoff=WEBHOOK_RETRY_BACKOFF_SECONDS,
    retry_backoff_max=WEBHOOK_RETRY_BACKOFF_MAX_SECONDS,
    retry_jitter=True,
    max_retries=6,
)
def deliver_webhook_task(webhook_id: int, body: str, *, event: str, delivery_id: str) -> bool:
    """POST one event to one webhook; retries reuse ``delivery_id`` (the same delivery row)."""
    delivery = services.webhook_deliver(
        webhook_id=webhook_id, body=body, event=event, delivery_id=delivery_id
    )
    return delivery is not None and delivery.succeeded_at is not None


@shared_task
def verify_audit_chain_task(requested_by_id=None) -> dict:
    """Verify the whole chain and store the result (``requested_by_id``: who asked, if not
    the nightly schedule)."""
    report = services.audit_chain_check_and_alert(requested_by_id=requested_by_id)
    return {"ok": report.ok, "checked": report.checked, "message": report.describe()}
