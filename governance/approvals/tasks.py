"""Approval background work: the SLA escalation sweep."""

from celery import shared_task

from governance.approvals import escalation

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.


@shared_task(name="governance.tasks.escalate_overdue_task")
def escalate_overdue_task() -> int:
    """Every 15 minutes: escalate pending approval steps past their SLA by one level.
    Idempotent and safe beside another run (rows are claimed with SKIP LOCKED)."""
    return escalation.escalate_overdue()
