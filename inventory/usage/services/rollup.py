"""The daily roll-up (``UsageDaily``): GPU-hours, mean activity and the nearest-rank
95th percentile per allocation or device and UTC day, recomputed for the days an ingest touched.
GPU-hours add sampled hours, Slurm jobs and Kubernetes pods (``PodRecord``) of the allocation;
``sampled_gpu_hours`` keeps the sampled part apart (the utilisation's sample coverage)."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal

from inventory.gpu.catalogue import mig_fraction
from inventory.gpu.models import GPUAllocation
from inventory.usage.models import GPUDevice, PodRecord, SlurmJobRecord, UsageDaily, UsageSample

SAMPLE_GAP_CAP = 300  # seconds: the longest a sample speaks for

LAST_SAMPLE_SECONDS = 60  # a device's last (or only) sample

GPU_HOURS_QUANTUM = Decimal("0.0001")

BULK_BATCH_SIZE = 5000

DAY = dt.timedelta(days=1)

# Roll-up keys: ("allocation", allocation id, day) or ("device", device id, day).
ALLOCATION = "allocation"

DEVICE = "device"


def _utc_day(when: dt.datetime) -> dt.date:
    return when.astimezone(dt.UTC).date() if when.utcoffset() else when.date()


def _job_span(start, elapsed_seconds) -> tuple[dt.datetime, dt.datetime] | None:
    if start is None:
        return None
    return start, start + dt.timedelta(seconds=elapsed_seconds)


def span_days(begin: dt.datetime, end: dt.datetime) -> list[tuple[dt.date, Decimal]]:
    """The UTC days [begin, end] touches with the seconds spent in each (a zero-length span
    is its begin day with 0 seconds)."""
    day = _utc_day(begin)
    days = []
    while True:
        day_start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        day_end = day_start + DAY
        seconds = (min(end, day_end) - max(begin, day_start)).total_seconds()
        days.append((day, Decimal(str(max(seconds, 0)))))
        if day_end >= end:
            return days
        day += DAY


def pod_day_hours(begin, end, gpu_hours: Decimal) -> list[tuple[dt.date, Decimal]]:
    """A pod's GPU-hours spread over the UTC days of [begin, end] by the time in each; the
    shares add up to ``gpu_hours`` (the last day takes the remainder)."""
    days = span_days(begin, end)
    total = sum((seconds for _, seconds in days), Decimal("0"))
    if not total:
        return [(days[0][0], gpu_hours)]
    shares, given = [], Decimal("0")
    for day, seconds in days[:-1]:
        share = gpu_hours * seconds / total
        shares.append((day, share))
        given += share
    shares.append((days[-1][0], gpu_hours - given))
    return shares


def nearest_rank_p95(values: list[float]) -> float | None:
    """The ⌈0.95·n⌉-th smallest value (nearest-rank percentile)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _aware_bounds(days) -> tuple[dt.datetime, dt.datetime]:
    lo = dt.datetime.combine(min(days), dt.time(), tzinfo=dt.UTC)
    hi = dt.datetime.combine(max(days) + DAY, dt.time(), tzinfo=dt.UTC)
    return lo, hi


def rollup_days(keys) -> int:
    """Recompute the UsageDaily rows of ``keys`` (("allocation", id, day) or ("device", id,
    day)) from every stored sample and Slurm job of that key and day; rows left without data
    are deleted. A fixed number of queries however many keys. Returns the rows written."""
    keys = set(keys)
    if not keys:
        return 0
    allocation_ids = {i for kind, i, _ in keys if kind == ALLOCATION}
    device_ids = {i for kind, i, _ in keys if kind == DEVICE}
    lo, hi = _aware_bounds({day for _, _, day in keys})
    horizon = hi + dt.timedelta(seconds=SAMPLE_GAP_CAP)  # to see the next day's first sample

    # Every device whose samples count for a touched key: the touched devices plus those
    # that reported for a touched allocation in the span; their whole streams are loaded so
    # each sample's gap is to the device's next sample, whatever it was matched to.
    stream_devices = set(device_ids)
    if allocation_ids:
        stream_devices |= set(
            UsageSample.objects.filter(
                allocation_id__in=allocation_ids,
                device__isnull=False,
                timestamp__gte=lo,
                timestamp__lt=hi,
            )
            .values_list("device_id", flat=True)
            .distinct()
        )
    fraction = {
        pk: float(mig_fraction(profile))
        for pk, profile in GPUDevice.objects.filter(pk__in=stream_devices).values_list(
            "pk", "mig_profile"
        )
    }
    counts = {
        pk: float(count)
        for pk, count in GPUAllocation.objects.filter(pk__in=allocation_ids).values_list(
            "pk", "gpu_count"
        )
    }

    # Per key: [samples, sum of activity, activity values, max memory, sampled GPU-seconds].
    groups: dict[tuple, list] = {}

    def add_stream(stream, weight):
        previous = None
        for row in stream:
            if previous is not None:
                gap = (row[0] - previous[0]).total_seconds()
                _add(previous, (gap if gap <= SAMPLE_GAP_CAP else LAST_SAMPLE_SECONDS) * weight)
            previous = row
        if previous is not None:
            _add(previous, LAST_SAMPLE_SECONDS * weight)

    def _add(row, seconds):
        when, allocation_id, subject_device, activity, memory = row
        day = _utc_day(when)
        key = (ALLOCATION, allocation_id, day) if allocation_id else (DEVICE, subject_device, day)
        if key not in keys or when >= hi:
            return
        group = groups.get(key)
        if group is None:
            group = groups[key] = [0, 0.0, [], None, 0.0]
        group[0] += 1
        if activity is not None:
            group[1] += activity
            group[2].append(activity)
        if memory is not None and (group[3] is None or memory > group[3]):
            group[3] = memory
        group[4] += seconds

    if stream_devices:
        rows = (
            UsageSample.objects.filter(
                device_id__in=stream_devices, timestamp__gte=lo, timestamp__lt=horizon
            )
            .order_by("device_id", "timestamp")
            .values_list("device_id", "timestamp", "allocation_id", "activity", "memory_used_mib")
        )
        current, stream = None, []
        for device_id, when, allocation_id, activity, memory in rows.iterator(chunk_size=20000):
            if device_id != current:
                add_stream(stream, fraction.get(current, 1.0))
                current, stream = device_id, []
            stream.append((when, allocation_id, device_id, activity, memory))
        add_stream(stream, fraction.get(current, 1.0))
    if allocation_ids:
        rows = (
            UsageSample.objects.filter(
                device__isnull=True,
                allocation_id__in=allocation_ids,
                timestamp__gte=lo,
                timestamp__lt=horizon,
            )
            .order_by("allocation_id", "timestamp")
            .values_list("allocation_id", "timestamp", "activity", "memory_used_mib")
        )
        current, stream = None, []
        for allocation_id, when, activity, memory in rows.iterator(chunk_size=20000):
            if allocation_id != current:
                add_stream(stream, counts.get(current, 1.0))
                current, stream = allocation_id, []
            stream.append((when, allocation_id, None, activity, memory))
        add_stream(stream, counts.get(current, 1.0))

    # GPU-hours recorded per job or pod (Slurm, Kubernetes), by key.
    recorded_hours: dict[tuple, Decimal] = defaultdict(Decimal)
    if allocation_ids:
        jobs = SlurmJobRecord.objects.filter(
            allocation_id__in=allocation_ids, start__isnull=False, start__lt=hi
        ).values_list("allocation_id", "start", "elapsed_seconds", "gpus")
        for allocation_id, start, elapsed, gpus in jobs:
            begin, end = _job_span(start, elapsed)
            if end < lo and elapsed:
                continue
            day = _utc_day(begin)
            while True:
                day_start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
                day_end = day_start + DAY
                seconds = (min(end, day_end) - max(begin, day_start)).total_seconds()
                key = (ALLOCATION, allocation_id, day)
                if key in keys and seconds > 0:
                    recorded_hours[key] += Decimal(gpus) * Decimal(str(seconds)) / 3600
                if day_end >= end:
                    break
                day += DAY

    if allocation_ids:
        pods = PodRecord.objects.filter(
            allocation_id__in=allocation_ids, start__lt=hi, counted_until__gte=lo
        ).values_list("allocation_id", "start", "counted_until", "gpu_hours")
        for allocation_id, begin, end, gpu_hours in pods:
            for day, share in pod_day_hours(begin, end, gpu_hours):
                key = (ALLOCATION, allocation_id, day)
                if key in keys:
                    recorded_hours[key] += share

    # Write: update rows that exist, create the new ones, delete the emptied.
    stored: dict[tuple, UsageDaily] = {}
    if allocation_ids:
        for row in UsageDaily.objects.filter(
            allocation_id__in=allocation_ids, day__gte=lo.date(), day__lt=hi.date()
        ):
            stored[(ALLOCATION, row.allocation_id, row.day)] = row
    if device_ids:
        for row in UsageDaily.objects.filter(
            allocation__isnull=True,
            device_id__in=device_ids,
            day__gte=lo.date(),
            day__lt=hi.date(),
        ):
            stored[(DEVICE, row.device_id, row.day)] = row
    create, update, delete = [], [], []
    for key in keys:
        group = groups.get(key)
        hours = recorded_hours.get(key, Decimal("0"))
        row = stored.get(key)
        if group is None and not hours:
            if row is not None:
                delete.append(row.pk)
            continue
        samples, total, values, memory, seconds = group or (0, 0.0, [], None, 0.0)
        gpu_hours = (Decimal(str(seconds)) / 3600 + hours).quantize(
            GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN
        )
        sampled = (Decimal(str(seconds)) / 3600).quantize(
            GPU_HOURS_QUANTUM, rounding=ROUND_HALF_EVEN
        )
        fields = {
            "sampled_gpu_hours": min(sampled, gpu_hours),
            "samples": samples,
            "avg_activity": total / len(values) if values else None,
            "p95_activity": nearest_rank_p95(values),
            "max_memory_used_mib": memory,
            "gpu_hours": gpu_hours,
        }
        if row is None:
            kind, subject, day = key
            row = UsageDaily(
                day=day,
                allocation_id=subject if kind == ALLOCATION else None,
                device_id=subject if kind == DEVICE else None,
                **fields,
            )
            create.append(row)
        else:
            for name, value in fields.items():
                setattr(row, name, value)
            update.append(row)
    if delete:
        UsageDaily.objects.filter(pk__in=delete).delete()
    if update:
        UsageDaily.objects.bulk_update(
            update,
            [
                "samples",
                "avg_activity",
                "p95_activity",
                "max_memory_used_mib",
                "gpu_hours",
                "sampled_gpu_hours",
            ],
            batch_size=500,
        )
    UsageDaily.objects.bulk_create(create, batch_size=BULK_BATCH_SIZE)
    return len(create) + len(update)
