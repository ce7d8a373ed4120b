"""Slurm accounting (``sacct``) ingest: each job's GPU-hours by day, attributed to an
allocation by its account or WCKey, then rolled up."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal

from inventory.usage.choices import ExternalKeyKind
from inventory.usage.models import SlurmJobRecord
from inventory.usage.services.rollup import (
    ALLOCATION,
    BULK_BATCH_SIZE,
    GPU_HOURS_QUANTUM,
    _job_span,
    _utc_day,
    rollup_days,
)
from inventory.usage.services.samples import Matcher


def _job_days(start, elapsed_seconds) -> set[dt.date]:
    span = _job_span(start, elapsed_seconds)
    if span is None:
        return set()
    first, last = _utc_day(span[0]), _utc_day(span[1])
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


def import_slurm_jobs(*, batch, jobs: list) -> dict:
    """Upsert ``SlurmJobRecord`` on (cluster, job_id) and roll up the touched days."""
    matcher = Matcher([ExternalKeyKind.SLURM_WCKEY, ExternalKeyKind.SLURM_ACCOUNT])
    stored = {
        (record.cluster, record.job_id): record
        for record in SlurmJobRecord.objects.filter(job_id__in={job.job_id for job in jobs})
    }
    touched: set[tuple] = set()
    new, updated = [], []
    running = unattributed = 0
    for job in jobs:
        allocation_id = matcher.for_slurm_job(job)
        values = {
            "job_name": job.job_name[:200],
            "partition": job.partition,
            "account": job.account,
            "wckey": job.wckey,
            "user": job.user,
            "state": job.state[:40],
            "start": job.start,
            "end": job.end,
            "elapsed_seconds": job.elapsed_seconds,
            "gpus": job.gpus,
            "gpu_type": job.gpu_type[:50],
            "gpu_hours": job.gpu_hours.quantize(GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN),
            "allocation_id": allocation_id,
            "batch_id": batch.pk,
        }
        record = stored.get((job.cluster, job.job_id))
        if record is None:
            record = SlurmJobRecord(cluster=job.cluster, job_id=job.job_id, **values)
            stored[(job.cluster, job.job_id)] = record
            new.append(record)
        else:
            if record.allocation_id:  # the days it counted on before
                touched |= {
                    (ALLOCATION, record.allocation_id, day)
                    for day in _job_days(record.start, record.elapsed_seconds)
                }
            for name, value in values.items():
                setattr(record, name, value)
            if record.pk is not None and record not in updated:
                updated.append(record)
        running += job.is_running
        if allocation_id:
            touched |= {
                (ALLOCATION, allocation_id, d) for d in _job_days(job.start, job.elapsed_seconds)
            }
        else:
            unattributed += 1
    SlurmJobRecord.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
    if updated:
        SlurmJobRecord.objects.bulk_update(
            updated,
            ["job_name", "partition", "account", "wckey", "user", "state", "start", "end",
             "elapsed_seconds", "gpus", "gpu_type", "gpu_hours", "allocation", "batch"],
            batch_size=500,
        )  # fmt: skip
    days = rollup_days(touched)
    return {
        "jobs": len(jobs),
        "jobs_new": len(new),
        "jobs_updated": len(updated),
        "jobs_running": running,
        "jobs_unattributed": unattributed,
        "allocations_matched": len(jobs) - unattributed,
        "gpu_hours": str(sum((job.gpu_hours for job in jobs), Decimal("0"))),
        "days_rolled_up": days,
        "activity_metric": "",
    }
