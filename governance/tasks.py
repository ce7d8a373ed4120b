"""Governance background work: thin wrappers around services."""

from celery import shared_task

from portfolio.models import Initiative

from . import approval_services, services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def evaluate_controls_task(initiative_id: int) -> dict | None:
    """Re-evaluate one initiative's automated controls; a deleted initiative is skipped."""
    initiative = Initiative.objects.filter(pk=initiative_id).first()
    if initiative is None:
        return None
    return services.controls_evaluate(initiative=initiative)


@shared_task
def evaluate_all_controls_task() -> int:
    """Nightly: re-evaluate every initiative (assessments age, waivers expire)."""
    return services.controls_evaluate_all()


@shared_task
def escalate_overdue_task() -> int:
    """Every 15 minutes: escalate pending approval steps past their SLA by one level.
    Idempotent and safe beside another run (rows are claimed with SKIP LOCKED)."""
    return approval_services.escalate_overdue()


@shared_task(acks_late=True)
def run_import_job_task(job_id: int) -> str:
    """Run a confirmed inventory import (one transaction); a redelivered task finds the job
    no longer queued and does nothing. Returns the job's final status."""
    from . import import_services

    return import_services.import_job_run(job_id).status


@shared_task(acks_late=True)
def build_report_task(report_id: int) -> str:
    """Build one requested PDF (board pack or dossier) as its requester; a redelivered task
    finds the report no longer queued and does nothing. Returns the report's final status."""
    from . import reports

    return reports.report_build(report_id).status


@shared_task
def purge_expired_reports_task() -> int:
    """Daily: delete generated PDFs past their retention and mark them expired; fail builds
    whose worker stopped (still queued or running hours later)."""
    from . import reports

    reports.reports_fail_stale()
    return reports.reports_purge_expired()
