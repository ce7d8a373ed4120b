"""Risk background work: evaluate one initiative's automated controls, or all of them nightly."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.
from governance.risk import controls, services
from portfolio.initiatives.models import Initiative


@shared_task(
    name="governance.tasks.evaluate_controls_task",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def evaluate_controls_task(initiative_id: int) -> dict | None:
    """Re-evaluate one initiative's automated controls; a deleted initiative is skipped."""
    initiative = Initiative.objects.filter(pk=initiative_id).first()
    if initiative is None:
        return None
    return services.controls_evaluate(initiative=initiative)


@shared_task(name="governance.tasks.evaluate_all_controls_task")
def evaluate_all_controls_task() -> int:
    """Nightly: re-evaluate every initiative (assessments age, waivers expire)."""
    return controls.controls_evaluate_all()
