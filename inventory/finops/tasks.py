"""FinOps background work: the nightly findings scan and the running month's chargeback."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.
from django.db import OperationalError


@shared_task(
    name="inventory.tasks.findings_scan_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def findings_scan_task() -> dict:
    """Nightly: open, update and resolve the GPU waste findings
    (``inventory.finops.services.findings``).
    Idempotent: one open finding per subject, each notified once."""
    from inventory.finops.services.findings import findings_scan

    return findings_scan()


@shared_task(
    name="inventory.tasks.chargeback_refresh_running_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def chargeback_refresh_running_task() -> dict:
    """Nightly: recompute the running month's chargeback (and the previous month's while it is
    open), so the dashboard's "spend this month" counts the days held so far. Idempotent: a
    recompute rewrites the month's lines."""
    from inventory.finops.services.chargeback import chargeback_refresh_running

    return chargeback_refresh_running()
