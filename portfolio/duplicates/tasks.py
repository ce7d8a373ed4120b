"""Celery tasks for duplicate detection (registered through portfolio/tasks.py)."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.
from django.db import OperationalError

from portfolio.duplicates.services import duplicates_refresh, duplicates_refresh_all
from portfolio.initiatives.models import Initiative

__all__ = ["detect_all_duplicates_task", "detect_duplicates_task"]


@shared_task(
    name="portfolio.duplicate_tasks.detect_duplicates_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def detect_duplicates_task(initiative_id: int) -> int | None:
    """Refresh one initiative's possible duplicates; a deleted initiative is skipped."""
    initiative = Initiative.objects.filter(pk=initiative_id).first()
    if initiative is None:
        return None
    return duplicates_refresh(initiative)


@shared_task(
    name="portfolio.duplicate_tasks.detect_all_duplicates_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=2,
)
def detect_all_duplicates_task() -> int:
    """Nightly: refresh every initiative's possible duplicates (idempotent)."""
    return duplicates_refresh_all()
