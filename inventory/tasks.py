"""Inventory background work: thin wrappers around the model lifecycle services."""

from celery import shared_task
from django.db import OperationalError

from . import model_services


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def model_reviews_remind_task() -> dict[str, int]:
    """Nightly: send the 30- and 7-day review reminders and the overdue escalations that are
    due today. Idempotent and safe beside another run (a ``ReviewReminder`` row per version,
    due date and kind), so a retry after a lost connection sends nothing twice."""
    return model_services.model_reviews_remind()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def findings_scan_task() -> dict:
    """Nightly: open, update and resolve the GPU waste findings (``inventory.findings``).
    Idempotent: one open finding per subject, each notified once."""
    from .findings import findings_scan

    return findings_scan()


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def chargeback_refresh_running_task() -> dict:
    """Nightly: recompute the running month's chargeback (and the previous month's while it is
    open), so the dashboard's "spend this month" counts the days held so far. Idempotent: a
    recompute rewrites the month's lines."""
    from .chargeback import chargeback_refresh_running

    return chargeback_refresh_running()
