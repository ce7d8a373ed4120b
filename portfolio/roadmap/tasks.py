"""Celery tasks for roadmap indicators (registered through portfolio/tasks.py)."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.
from django.db import OperationalError

from portfolio.roadmap.services import indicators_recompute

__all__ = ["indicators_recompute_task"]


@shared_task(
    name="portfolio.roadmap_tasks.indicators_recompute_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def indicators_recompute_task() -> dict[str, str | None]:
    """Nightly: store today's value of every computed indicator. Idempotent: a rerun the
    same day replaces the day's values instead of adding new ones."""
    values = indicators_recompute()
    return {key: None if value is None else str(value) for key, value in values.items()}
