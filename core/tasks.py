"""Celery tasks of the core app: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email_task(notification_id: int) -> bool:
    return services.notification_email(notification_id=notification_id)


@shared_task
def verify_audit_chain_task() -> dict:
    report = services.audit_chain_check_and_alert()
    return {"ok": report.ok, "checked": report.checked, "message": report.describe()}
