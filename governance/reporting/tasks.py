"""Reporting background work: build a report's PDF, purge expired reports."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.


@shared_task(name="governance.tasks.build_report_task", acks_late=True)
def build_report_task(report_id: int) -> str:
    """Build one requested PDF (board pack or dossier) as its requester; a redelivered task
    finds the report no longer queued and does nothing. Returns the report's final status."""
    from governance.reporting import services as reports

    return reports.report_build(report_id).status


@shared_task(name="governance.tasks.purge_expired_reports_task")
def purge_expired_reports_task() -> int:
    """Daily: delete generated PDFs past their retention and mark them expired; fail builds
    whose worker stopped (still queued or running hours later)."""
    from governance.reporting import services as reports

    reports.reports_fail_stale()
    return reports.reports_purge_expired()
