"""Incident background work: the deadline sweep (beat) and the Art. 73 draft PDF."""

from celery import shared_task

# Task names follow the governance convention (``governance.tasks.*``): the contract with
# beat's schedule and with queued messages.


@shared_task(name="governance.tasks.incident_deadlines_sweep_task")
def incident_deadlines_sweep_task() -> dict:
    """Every 15 minutes: warn owners and escalate to the risk function before deadlines."""
    from governance.incidents import services

    return services.deadlines_sweep()


@shared_task(name="governance.tasks.build_incident_draft_task", acks_late=True)
def build_incident_draft_task(incident_id: int) -> str:
    """Build the Art. 73 initial-report draft; a deleted incident is skipped."""
    from governance.incidents import services

    return services.incident_draft_build(incident_id)
