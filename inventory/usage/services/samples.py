"""Matching and writing of GPU usage files (issue 7, item 4): dcgm-exporter text, Prometheus
``query_range`` JSON, Slurm ``sacct -P`` and the plain usage CSV. Called by
``inventory.usage.services.batches.ingest_file`` inside its transaction, after the pure parsers of
``inventory.usage.parsers`` have validated the file; nothing here checks permissions.

Definitions (shared with findings, chargeback and the utilisation pages):

* **Activity** is a 0–1 share: ``DCGM_FI_PROF_GR_ENGINE_ACTIVE``, else
  ``DCGM_FI_DEV_GPU_UTIL`` / 100, or the usage CSV's utilisation / 100.
* **Devices** are keyed by (hostname, GPU UUID else index, MIG instance). ``GPUDevice`` rows
  are created in bulk; ``allocation``/``pool``/``last_memory_used_mib`` follow the device's
  latest sample.
* **Matching a sample** (first hit wins): an ``ExternalKey`` of kind ``device`` whose value is
  ``host:gpu`` or ``host:gpu:mig`` (``gpu`` being the index or the UUID) or the bare UUID;
  then the pod's namespace (``k8s_namespace``). A key pointing at an allocation is used as is;
  one pointing at an initiative or business unit resolves to *its* allocation active on the
  sample's UTC day, preferring a pool whose GPU type is the device's, then the
  earliest-starting allocation, then the lowest id (so ties always resolve the same way).
  Usage CSV rows name an allocation id (it must exist, else a line error) or a device id
  (``host:gpu[:mig]``, ``host/gpu`` or a UUID), matched like a DCGM device.
* **Unattributed**: samples matched to no allocation are stored with ``allocation`` null and
  rolled up per device. The summary's ``unattributed_devices`` counts the devices among them
  that hold memory (``memory_used_mib`` > 0) or show activity > 0.
* **Overlap**: a file imports once (SHA-256, in the engine). A *different* file overlapping an
  earlier one skips every sample whose (device, timestamp) — or, for allocation-only CSV rows,
  (allocation, timestamp) — is already stored (or repeated within the file), so nothing is
  counted twice. Existing pairs are looked up once per file, only inside the file's time span.
* **Sampled GPU-hours**: a sample covers the time to the same device's next stored sample
  when that comes within 5 minutes (``SAMPLE_GAP_CAP``); otherwise (the device's last
  sample, or one followed by a gap in the data) it covers 60 s (``LAST_SAMPLE_SECONDS``).
  The rule only looks 5 minutes ahead, so a day's figures never depend on data far away and
  import order does not matter (the day before a file's first sample is recomputed too).
  The covered time counts × ``mig_fraction(mig_profile)`` for a MIG
  device (``3g.40gb`` → 3/7 of a GPU) and × the allocation's ``gpu_count`` for an
  allocation-only CSV row (it speaks for the whole allocation). A sample's hours belong to
  the UTC day of its timestamp.
* **Slurm**: a job is upserted on (cluster, job_id) (a running job re-imported later is
  updated). Mapping: WCKey (``slurm_wckey``) then Account (``slurm_account``); an initiative or
  BU resolves to its allocation active on the job's start day, preferring a Slurm pool whose
  cluster is the job's cluster or partition, then any Slurm pool, then the ties rule above.
  Its GPU-hours (GPUs × ElapsedRaw / 3600) are spread over the UTC days of
  [Start, Start + ElapsedRaw] (for a running job, what sacct had measured when exported), so
  the days add up to the record's ``gpu_hours``. Unmapped jobs are kept with allocation null.
* **UsageDaily** (``rollup_days``): per touched (allocation, day) and (unattributed device,
  day), recomputed from *all* stored samples and Slurm jobs of that key and day, so re-imports
  and overlapping files give the same rows: ``samples``, ``avg_activity`` (mean of samples
  with an activity), ``p95_activity`` (nearest rank: the ⌈0.95·n⌉-th smallest),
  ``max_memory_used_mib`` and ``gpu_hours`` (sampled + Slurm).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q

from inventory.gpu.catalogue import gpu_type_for_monitoring_name
from inventory.gpu.choices import PoolKind
from inventory.gpu.models import GPUAllocation, GPUType
from inventory.usage.choices import ExternalKeyKind, IngestKind
from inventory.usage.models import ExternalKey, GPUDevice, UsageSample
from inventory.usage.parsers.errors import ParseError
from inventory.usage.services.rollup import (
    ALLOCATION,
    BULK_BATCH_SIZE,
    DAY,
    DEVICE,
    _utc_day,
    rollup_days,
)

SAMPLE_COLUMNS = ("batch_id", "timestamp", "device_id", "allocation_id", "activity",
                  "memory_used_mib")  # fmt: skip


@dataclass
class _Allocation:
    pk: int
    initiative_id: int | None
    business_unit_id: int
    pool_id: int
    gpu_type_id: int
    pool_kind: str
    pool_cluster: str
    pool_name: str
    gpu_count: Decimal
    starts_on: dt.date
    ends_on: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class Matcher:
    """External keys and the allocations they can lead to, loaded once per file (a fixed
    number of queries); every resolution after that is a dictionary look-up."""

    def __init__(self, kinds, *, allocation_ids=(), initiative_ids=()):
        self.keys: dict[tuple[str, str], tuple[str, int]] = {}
        for kind, value, allocation_id, initiative_id, unit_id in ExternalKey.objects.filter(
            kind__in=kinds
        ).values_list("kind", "value", "allocation_id", "initiative_id", "business_unit_id"):
            if allocation_id:
                target = (ALLOCATION, allocation_id)
            elif initiative_id:
                target = ("initiative", initiative_id)
            else:
                target = ("business_unit", unit_id)
            self.keys[(kind, value)] = target
        wanted = Q(
            pk__in={*allocation_ids, *(t[1] for t in self.keys.values() if t[0] == ALLOCATION)}
        )
        initiatives = {t[1] for t in self.keys.values() if t[0] == "initiative"}
        initiatives |= set(initiative_ids)
        units = {t[1] for t in self.keys.values() if t[0] == "business_unit"}
        if initiatives:
            wanted |= Q(initiative_id__in=initiatives)
        if units:
            wanted |= Q(business_unit_id__in=units)
        self.allocations: dict[int, _Allocation] = {}
        self.by_owner: dict[tuple[str, int], list[_Allocation]] = defaultdict(list)
        rows = GPUAllocation.objects.filter(wanted).values_list(
            "pk", "initiative_id", "business_unit_id", "pool_id", "pool__gpu_type_id",
            "pool__kind", "pool__cluster", "pool__name", "gpu_count", "starts_on", "ends_on",
        )  # fmt: skip
        for row in rows:
            allocation = _Allocation(*row)
            self.allocations[allocation.pk] = allocation
            if allocation.initiative_id:
                self.by_owner[("initiative", allocation.initiative_id)].append(allocation)
            self.by_owner[("business_unit", allocation.business_unit_id)].append(allocation)
        for candidates in self.by_owner.values():
            candidates.sort(key=lambda a: (a.starts_on, a.pk))
        self._cache: dict[tuple, int | None] = {}

    def resolve(self, target, day: dt.date, rank) -> int | None:
        """The allocation a key's target means on ``day``; ``rank(allocation)`` orders the
        candidates of an initiative or BU (lower first), the start date and id break ties."""
        if target is None:
            return None
        if target[0] == ALLOCATION:
            return target[1] if target[1] in self.allocations else None
        best, best_rank = None, None
        for allocation in self.by_owner.get(target, ()):
            if not allocation.active_on(day):
                continue
            score = rank(allocation)
            if best is None or score < best_rank:
                best, best_rank = allocation, score
        return best.pk if best else None

    def for_device(self, device_values, namespace: str, day: dt.date, gpu_type_id) -> int | None:
        key = (device_values, namespace, day, gpu_type_id)
        try:
            return self._cache[key]
        except KeyError:
            pass
        target = None
        for value in device_values:
            target = self.keys.get((ExternalKeyKind.DEVICE, value))
            if target:
                break
        if target is None and namespace:
            target = self.keys.get((ExternalKeyKind.K8S_NAMESPACE, namespace))
        result = self.resolve(target, day, lambda a: 0 if a.gpu_type_id == gpu_type_id else 1)
        self._cache[key] = result
        return result

    def for_slurm_job(self, job) -> int | None:
        target = None
        if job.wckey:
            target = self.keys.get((ExternalKeyKind.SLURM_WCKEY, job.wckey))
        if target is None and job.account:
            target = self.keys.get((ExternalKeyKind.SLURM_ACCOUNT, job.account))
        if target is None:
            return None
        if job.start is None:  # never started: only a key naming an allocation maps it
            return (
                self.resolve(target, dt.date.min, lambda a: 0) if target[0] == ALLOCATION else None
            )
        names = {job.cluster, job.partition} - {""}

        def rank(allocation):
            if allocation.pool_kind != PoolKind.SLURM:
                return 2
            return 0 if names & {allocation.pool_cluster, allocation.pool_name} - {""} else 1

        return self.resolve(target, _utc_day(job.start), rank)


def device_key_values(hostname: str, gpu_index, uuid: str, mig_instance: str) -> tuple:
    """The ``device`` external-key values that name this device, most specific first."""
    values = []
    names = [str(gpu_index)] if gpu_index is not None and gpu_index != "" else []
    if uuid:
        names.append(uuid)
    for name in names:
        base = f"{hostname}:{name}"
        if mig_instance:
            values.append(f"{base}:{mig_instance}")
        values.append(base)
    if uuid:
        values.append(uuid)
    return tuple(values)


@dataclass
class _DeviceSeen:
    model_name: str = ""
    mig_profile: str = ""
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    last_memory: int | None = None
    last_allocation: int | None = None
    key_values: tuple = ()
    is_new: bool = False


def _devices_for(keys: dict[tuple[str, str, str], _DeviceSeen], gpu_types, placeholder) -> dict:
    """Get or create the devices of ``keys`` (hostname, gpu, mig instance) in bulk; returns
    key → GPUDevice. Existing devices are loaded with one query per 500 hostnames. New ones
    get ``placeholder`` as first/last seen until ``_update_devices`` sets the real times."""
    hostnames = sorted({key[0] for key in keys})
    found: dict[tuple, GPUDevice] = {}
    for start in range(0, len(hostnames), 500):
        for device in GPUDevice.objects.filter(hostname__in=hostnames[start : start + 500]):
            found[(device.hostname, device.gpu, device.mig_instance)] = device
    missing = []
    for key, seen in keys.items():
        if key in found:
            continue
        gpu_type = gpu_type_for_monitoring_name(seen.model_name, gpu_types)
        missing.append(
            GPUDevice(
                hostname=key[0],
                gpu=key[1],
                mig_instance=key[2],
                mig_profile=seen.mig_profile,
                model_name=seen.model_name,
                gpu_type=gpu_type,
                first_seen_at=placeholder,
                last_seen_at=placeholder,
            )
        )
    for device in missing:
        keys[(device.hostname, device.gpu, device.mig_instance)].is_new = True
    if missing:
        GPUDevice.objects.bulk_create(missing, batch_size=BULK_BATCH_SIZE)
        if any(device.pk is None for device in missing):
            new_hosts = sorted({device.hostname for device in missing})
            for device in GPUDevice.objects.filter(hostname__in=new_hosts):
                found.setdefault((device.hostname, device.gpu, device.mig_instance), device)
        else:
            for device in missing:
                found[(device.hostname, device.gpu, device.mig_instance)] = device
    return found


def _update_devices(devices: dict, seen_by_key: dict, matcher: Matcher, gpu_types) -> None:
    changed = []
    for key, seen in seen_by_key.items():
        device = devices[key]
        if seen.model_name and not device.model_name:
            device.model_name = seen.model_name
        if seen.mig_profile and not device.mig_profile:
            device.mig_profile = seen.mig_profile
        if device.gpu_type_id is None and device.model_name:
            gpu_type = gpu_type_for_monitoring_name(device.model_name, gpu_types)
            device.gpu_type_id = gpu_type.pk if gpu_type else None
        if seen.first is None:  # every sample of the device was already stored
            continue
        if seen.is_new or seen.first < device.first_seen_at:
            device.first_seen_at = seen.first
        if seen.is_new or seen.last >= device.last_seen_at:
            device.last_seen_at = seen.last
            device.last_memory_used_mib = seen.last_memory
            device.allocation_id = seen.last_allocation
            allocation = matcher.allocations.get(seen.last_allocation)
            device.pool_id = allocation.pool_id if allocation else device.pool_id
        changed.append(device)
    if changed:
        GPUDevice.objects.bulk_update(
            changed,
            ["model_name", "mig_profile", "gpu_type", "first_seen_at", "last_seen_at",
             "last_memory_used_mib", "allocation", "pool"],
            batch_size=500,
        )  # fmt: skip


def _copy_samples(rows: list[tuple]) -> None:
    """PostgreSQL: one ``COPY … FROM STDIN`` (psycopg 3) for all rows."""
    columns = ", ".join(SAMPLE_COLUMNS)
    table = UsageSample._meta.db_table
    buffer = io.StringIO()
    write = buffer.write
    null = "\\N"
    for batch_id, when, device_id, allocation_id, activity, memory in rows:
        write(
            f"{batch_id}\t{when.isoformat()}\t"
            f"{null if device_id is None else device_id}\t"
            f"{null if allocation_id is None else allocation_id}\t"
            f"{null if activity is None else repr(activity)}\t"
            f"{null if memory is None else memory}\n"
        )
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
            copy.write(buffer.getvalue())


def write_samples(rows: list[tuple]) -> None:
    """Insert sample tuples in ``SAMPLE_COLUMNS`` order: COPY on PostgreSQL, bulk_create
    elsewhere."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_samples(rows)
        return
    UsageSample.objects.bulk_create(
        (
            UsageSample(
                batch_id=r[0],
                timestamp=r[1],
                device_id=r[2],
                allocation_id=r[3],
                activity=r[4],
                memory_used_mib=r[5],
            )
            for r in rows
        ),
        batch_size=BULK_BATCH_SIZE,
    )


def _existing_pairs(device_ids, allocation_ids, lo, hi) -> set[tuple]:
    """Stored (("d", device) or ("a", allocation), timestamp) pairs inside [lo, hi]."""
    pairs: set[tuple] = set()
    if device_ids:
        for device_id, when in UsageSample.objects.filter(
            device_id__in=device_ids, timestamp__gte=lo, timestamp__lte=hi
        ).values_list("device_id", "timestamp"):
            pairs.add((device_id, when))
    if allocation_ids:
        for allocation_id, when in UsageSample.objects.filter(
            device__isnull=True,
            allocation_id__in=allocation_ids,
            timestamp__gte=lo,
            timestamp__lte=hi,
        ).values_list("allocation_id", "timestamp"):
            pairs.add((-allocation_id, when))  # negative: an allocation, never a device id
    return pairs


_DEVICE_ID = re.compile(r"^(?P<host>[^:/]+)[:/](?P<gpu>[^:/]+)(?:[:/](?P<mig>[^:/]+))?$")


def _csv_device_keys(device_ids) -> dict[str, tuple[str, str, str]]:
    """CSV device ids → device keys: ``host:gpu[:mig]`` (or with ``/``) directly; a bare id
    (a UUID) names the device already seen with that GPU on some host, else a host-less
    device. One query for all bare ids."""
    keys, bare = {}, set()
    for device_id in device_ids:
        match = _DEVICE_ID.match(device_id)
        if match:
            keys[device_id] = (match["host"], match["gpu"], match["mig"] or "")
        else:
            bare.add(device_id)
    if bare:
        known = {}
        for host, gpu, mig in (
            GPUDevice.objects.filter(gpu__in=bare)
            .exclude(hostname="")
            .order_by("hostname", "mig_instance")
            .values_list("hostname", "gpu", "mig_instance")
        ):
            known.setdefault(gpu, (host, gpu, mig))
        for device_id in bare:
            keys[device_id] = known.get(device_id, ("", device_id, ""))
    return keys


def import_samples(*, batch, kind: str, records: list) -> dict:
    """Write GpuSample (DCGM text/JSON) or UsageRow (usage CSV) records of ``batch`` and roll
    up the touched days. Raises ParseError (nothing written: the caller's transaction rolls
    back) for a usage CSV row naming an allocation that does not exist."""
    is_csv = kind == IngestKind.USAGE_CSV
    gpu_types = list(GPUType.objects.all())

    # 1. Validate allocation ids named by the CSV, collect the devices.
    named: set[int] = set()
    errors = []
    seen_by_key: dict[tuple, _DeviceSeen] = {}
    if is_csv:
        raw_ids = {r.allocation_id for r in records if r.allocation_id}
        ids = {}
        for raw in raw_ids:
            digits = raw.removeprefix("#").strip()
            ids[raw] = int(digits) if digits.isdigit() else None
        existing = set(
            GPUAllocation.objects.filter(pk__in={v for v in ids.values() if v}).values_list(
                "pk", flat=True
            )
        )
        for row in records:
            if row.allocation_id and ids[row.allocation_id] not in existing:
                errors.append((row.line, f"allocation {row.allocation_id!r} does not exist"))
        if errors:
            raise ParseError(errors, source="usage CSV")
        named = existing
    else:
        for sample in records:
            key = sample.device_key
            seen = seen_by_key.get(key)
            if seen is None:
                seen = seen_by_key[key] = _DeviceSeen(
                    key_values=device_key_values(
                        sample.hostname, sample.gpu, sample.uuid, sample.mig_instance
                    )
                )
            if sample.model_name and not seen.model_name:
                seen.model_name = sample.model_name
            if sample.mig_profile and not seen.mig_profile:
                seen.mig_profile = sample.mig_profile

    matcher = Matcher([ExternalKeyKind.DEVICE, ExternalKeyKind.K8S_NAMESPACE], allocation_ids=named)
    csv_alias: dict[str, tuple] = {}  # a CSV device id → its device key
    if is_csv:
        csv_alias = _csv_device_keys({r.device_id for r in records if r.device_id})
        for key in set(csv_alias.values()):
            host, gpu, mig = key
            seen_by_key[key] = _DeviceSeen(
                key_values=device_key_values(host, gpu, "", mig) if host else (gpu,)
            )
    placeholder = min(r.timestamp for r in records) if records else None
    devices = _devices_for(seen_by_key, gpu_types, placeholder) if seen_by_key else {}

    # 2. Resolve every sample to (device id, allocation id).
    batch_id = batch.pk
    rows: list[tuple] = []
    if not records:
        return _summary_for_samples(0, 0, 0, {}, set(), 0, "")
    lo = min(r.timestamp for r in records)
    hi = max(r.timestamp for r in records)
    device_ids = {d.pk for k, d in devices.items() if k in seen_by_key}
    existing = _existing_pairs(device_ids, named, lo, hi)
    check = bool(existing) or is_csv  # a CSV may repeat a pair; the DCGM parsers merge them
    seen_pairs = existing
    skipped = 0
    metrics = set()
    unattributed_busy: set[int] = set()
    matched = 0
    touched: set[tuple] = set()
    day_cache: dict[dt.datetime, dt.date] = {}
    if is_csv:
        for row in records:
            when = row.timestamp
            day = day_cache.get(when)
            if day is None:
                day = day_cache[when] = _utc_day(when)
            device = devices[csv_alias[row.device_id]] if row.device_id else None
            if row.allocation_id:
                allocation_id = int(row.allocation_id.removeprefix("#").strip())
            else:
                seen = seen_by_key[csv_alias[row.device_id]]
                allocation_id = matcher.for_device(seen.key_values, "", day, device.gpu_type_id)
            pair = (device.pk if device else -allocation_id, when)
            if pair in seen_pairs:
                skipped += 1
                continue
            seen_pairs.add(pair)
            rows.append(
                (batch_id, when, device.pk if device else None, allocation_id, row.activity,
                 row.memory_used_mib)
            )  # fmt: skip
            if device is not None:
                _note_device(seen_by_key[csv_alias[row.device_id]], when, row.memory_used_mib,
                             allocation_id)  # fmt: skip
            if allocation_id:
                matched += 1
                touched.add((ALLOCATION, allocation_id, day))
            else:
                touched.add((DEVICE, device.pk, day))
                if (row.memory_used_mib or 0) > 0 or row.activity > 0:
                    unattributed_busy.add(device.pk)
        metrics.add("usage CSV utilisation / 100")
    else:
        for sample in records:
            when = sample.timestamp
            day = day_cache.get(when)
            if day is None:
                day = day_cache[when] = _utc_day(when)
            key = sample.device_key
            device = devices[key]
            seen = seen_by_key[key]
            allocation_id = matcher.for_device(
                seen.key_values, sample.namespace, day, device.gpu_type_id
            )
            if check:
                pair = (device.pk, when)
                if pair in seen_pairs:
                    skipped += 1
                    continue
                seen_pairs.add(pair)
            rows.append(
                (batch_id, when, device.pk, allocation_id, sample.activity,
                 sample.memory_used_mib)
            )  # fmt: skip
            _note_device(seen, when, sample.memory_used_mib, allocation_id)
            if sample.activity_metric:
                metrics.add(sample.activity_metric)
            if allocation_id:
                matched += 1
                touched.add((ALLOCATION, allocation_id, day))
            else:
                touched.add((DEVICE, device.pk, day))
                if (sample.memory_used_mib or 0) > 0 or (sample.activity or 0) > 0:
                    unattributed_busy.add(device.pk)

    # 3. Write, update the devices, roll up.
    write_samples(rows)
    if seen_by_key:
        _update_devices(devices, seen_by_key, matcher, gpu_types)
    # A day's last sample covers up to 5 minutes: samples at the start of the next day
    # change it, so the day before each device's first new sample is recomputed too.
    touched |= {(k, i, d - DAY) for (k, i, d) in touched}
    days = rollup_days(touched)
    return _summary_for_samples(
        len(records), len(rows), skipped, devices, unattributed_busy, matched,
        ", ".join(sorted(metrics)), days=days,
    )  # fmt: skip


def _note_device(seen: _DeviceSeen, when, memory, allocation_id) -> None:
    if seen.first is None or when < seen.first:
        seen.first = when
    if seen.last is None or when >= seen.last:
        seen.last = when
        seen.last_memory = memory
        seen.last_allocation = allocation_id


def _summary_for_samples(read, written, skipped, devices, unattributed, matched, metric, days=0):
    return {
        "samples": read,
        "samples_written": written,
        "duplicate_samples_skipped": skipped,
        "devices": len(devices),
        "unattributed_devices": len(unattributed),
        "allocations_matched": matched,  # samples matched to an allocation
        "days_rolled_up": days,
        "activity_metric": metric,
    }
