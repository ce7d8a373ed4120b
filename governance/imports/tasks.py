"""Import background work: run a confirmed import job."""

from celery import shared_task

# Task names are the contract with beat's schedule and with messages already queued, so they
# keep the module path they had before the contexts became packages.


@shared_task(name="governance.tasks.run_import_job_task", acks_late=True)
def run_import_job_task(job_id: int) -> str:
    """Run a confirmed inventory import (one transaction); a redelivered task finds the job
    no longer queued and does nothing. Returns the job's final status."""
    from governance.imports import services as import_services

    return import_services.import_job_run(job_id).status
