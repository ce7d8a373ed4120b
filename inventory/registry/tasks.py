"""Inventory background work: thin wrappers around the model lifecycle services."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.
from django.db import OperationalError

from inventory.registry import services as model_services


@shared_task(
    name="inventory.tasks.model_reviews_remind_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def model_reviews_remind_task() -> dict[str, int]:
    """Nightly: send the 30- and 7-day review reminders and the overdue escalations that are
    due today. Idempotent and safe beside another run (a ``ReviewReminder`` row per version,
    due date and kind), so a retry after a lost connection sends nothing twice."""
    return model_services.model_reviews_remind()
