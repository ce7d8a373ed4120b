"""Kubernetes pod ingest (issue 17, item 10): pod lists (CSV/JSON, e.g. the openb trace) and
OpenCost allocation exports, written as ``PodRecord`` rows attributed to allocations and
rolled up into ``UsageDaily``. Called by ``inventory.usage.services.batches.ingest_file``
inside its transaction, after the pure parsers validated the file.

* **Attribution** (first hit wins), through the existing ``ExternalKey`` mechanism: a
  ``k8s_label`` key ``key=value`` equal to one of the pod's labels; the pod's
  ``COST_TAG_KEY`` label (``keel-initiative``) naming a ``cost_tag`` key or an initiative's
  reference (``AI-0042``, case-insensitive); the pod's namespace (``k8s_namespace``). A key
  naming an initiative or BU resolves to its allocation active on the pod's start day
  (UTC), preferring a Kubernetes pool whose ``cluster`` is the pod's, then a pool of the
  pod's GPU type, then any Kubernetes pool, then the earliest start and lowest id.
* **Upsert** on (source, cluster, namespace, pod, start): a running pod imported again once
  it ended is updated, never counted twice; its old days are recomputed too.
* **Not counted**: pods never scheduled, pending, failed before scheduling or without a GPU
  are listed in the summary (``not_counted``, at most ``NOT_COUNTED_SHOWN`` with their line
  or name and reason) and not stored. Unattributed pods are stored with allocation null and
  reported (``pods_unattributed``); their hours are in no allocation's roll-up.
* **Roll-up**: each pod's GPU-hours are spread over the UTC days of [start, counted until]
  in proportion to the time in each (``rollup.pod_day_hours``), added to the allocation's
  ``UsageDaily.gpu_hours`` with its samples and Slurm jobs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings

from inventory.gpu.choices import PoolKind
from inventory.gpu.models import GPUType
from inventory.usage.choices import ExternalKeyKind
from inventory.usage.models import PodRecord
from inventory.usage.parsers.records import PodUsage
from inventory.usage.services.rollup import (
    ALLOCATION,
    BULK_BATCH_SIZE,
    _utc_day,
    rollup_days,
    span_days,
)
from inventory.usage.services.samples import Matcher
from portfolio.initiatives.models import Initiative

GPU_COUNT_QUANTUM = Decimal("0.001")
NOT_COUNTED_SHOWN = 100
LOOKUP_CHUNK = 2000  # pod names per look-up query
POD_FIELDS = (
    "node", "labels", "gpu_model", "gpu_type", "num_gpu", "gpu_milli", "mig_profile",
    "gpu_count", "qos", "phase", "created", "end", "counted_until", "gpu_hours",
    "utilisation", "cost", "allocation", "batch",
)  # fmt: skip
MATCH_KINDS = (ExternalKeyKind.K8S_LABEL, ExternalKeyKind.COST_TAG, ExternalKeyKind.K8S_NAMESPACE)


def _tag_label(labels: dict) -> str:
    wanted = settings.KEEL_FINOPS["COST_TAG_KEY"].lower()
    for key, value in labels.items():
        name = key.lower()
        if name == wanted or name.endswith(f"/{wanted}"):
            return str(value).strip()
    return ""


class PodMatcher(Matcher):
    """The usage ``Matcher`` with the pod rules: labels, the initiative label, namespace."""

    def __init__(self, pods: list[PodUsage]):
        references = {_tag_label(pod.labels).upper() for pod in pods} - {""}
        self.by_reference = {
            reference.upper(): pk
            for pk, reference in Initiative.objects.filter(reference__in=references).values_list(
                "pk", "reference"
            )
        }
        super().__init__(MATCH_KINDS, initiative_ids=self.by_reference.values())

    def target(self, pod: PodUsage):
        for key, value in pod.labels.items():
            found = self.keys.get((ExternalKeyKind.K8S_LABEL, f"{key}={value}"))
            if found:
                return found
        tag = _tag_label(pod.labels)
        if tag:
            found = self.keys.get((ExternalKeyKind.COST_TAG, tag))
            if found:
                return found
            if tag.upper() in self.by_reference:
                return ("initiative", self.by_reference[tag.upper()])
        if pod.namespace:
            return self.keys.get((ExternalKeyKind.K8S_NAMESPACE, pod.namespace))
        return None

    def for_pod(self, pod: PodUsage, gpu_type_id) -> int | None:
        def rank(allocation):
            kubernetes = allocation.pool_kind == PoolKind.KUBERNETES
            same_cluster = (
                kubernetes and bool(pod.cluster) and allocation.pool_cluster == (pod.cluster)
            )
            same_type = gpu_type_id is not None and allocation.gpu_type_id == gpu_type_id
            return (not same_cluster, not same_type, not kubernetes)

        return self.resolve(self.target(pod), _utc_day(pod.start), rank)


class GPUTypeNames:
    """The catalogue entry a pod's GPU model names: a name or monitoring name, else the one
    entry whose name starts with that word (``A100`` is ambiguous, ``T4`` is not)."""

    def __init__(self):
        self.exact: dict[str, int] = {}
        first_words: dict[str, set[int]] = {}
        for gpu_type in GPUType.objects.only("pk", "name", "monitoring_names"):
            self.exact[gpu_type.name.lower()] = gpu_type.pk
            for alias in gpu_type.monitoring_names or []:
                self.exact.setdefault(str(alias).lower(), gpu_type.pk)
            first_words.setdefault(gpu_type.name.split()[0].lower(), set()).add(gpu_type.pk)
        self.first_word = {
            word: next(iter(pks)) for word, pks in first_words.items() if len(pks) == 1
        }
        self._cache: dict[str, int | None] = {}

    def __call__(self, model: str) -> int | None:
        wanted = (model or "").strip().lower()
        if not wanted:
            return None
        if wanted not in self._cache:
            self._cache[wanted] = self.exact.get(wanted) or self.first_word.get(wanted)
        return self._cache[wanted]


def _pod_days(start, end) -> set[dt.date]:
    return {day for day, _ in span_days(start, end)}


def import_pods(*, batch, pods: list[PodUsage]) -> dict:
    """Upsert the counted pods as ``PodRecord`` rows and roll up the touched days."""
    counted = [pod for pod in pods if not pod.not_counted]
    skipped = [pod for pod in pods if pod.not_counted]
    matcher = PodMatcher(counted)
    gpu_type_of = GPUTypeNames()
    names = sorted({pod.pod[:253] for pod in counted})
    stored = {}
    for first in range(0, len(names), LOOKUP_CHUNK):
        for r in PodRecord.objects.filter(pod__in=names[first : first + LOOKUP_CHUNK]):
            stored[(r.source, r.cluster, r.namespace, r.pod, r.start)] = r
    touched: set[tuple] = set()
    new, updated = [], []
    running = unattributed = 0
    for pod in counted:
        gpu_type_id = gpu_type_of(pod.gpu_model)
        allocation_id = matcher.for_pod(pod, gpu_type_id)
        values = {
            "node": pod.node[:253],
            "labels": pod.labels,
            "gpu_model": pod.gpu_model[:100],
            "gpu_type_id": gpu_type_id,
            "num_gpu": pod.num_gpu,
            "gpu_milli": pod.gpu_milli,
            "mig_profile": pod.mig_profile[:20],
            "gpu_count": (Decimal(pod.gpus.numerator) / Decimal(pod.gpus.denominator)).quantize(
                GPU_COUNT_QUANTUM, rounding=ROUND_HALF_EVEN
            ),
            "qos": pod.qos[:40],
            "phase": pod.phase[:40],
            "created": pod.created,
            "end": pod.end,
            "counted_until": pod.counted_until,
            "gpu_hours": pod.gpu_hours,
            "utilisation": pod.utilisation,
            "cost": pod.cost,
            "allocation_id": allocation_id,
            "batch_id": batch.pk,
        }
        identity = (pod.source, pod.cluster[:100], pod.namespace[:253], pod.pod[:253], pod.start)
        record = stored.get(identity)
        if record is None:
            record = PodRecord(
                source=identity[0],
                cluster=identity[1],
                namespace=identity[2],
                pod=identity[3],
                start=pod.start,
                **values,
            )
            stored[identity] = record
            new.append(record)
        else:
            if record.allocation_id:  # the days it counted on before
                touched |= {
                    (ALLOCATION, record.allocation_id, day)
                    for day in _pod_days(record.start, record.counted_until)
                }
            for name, value in values.items():
                setattr(record, name, value)
            if record.pk is not None and record not in updated:
                updated.append(record)
        running += pod.is_running
        if allocation_id:
            touched |= {
                (ALLOCATION, allocation_id, day) for day in _pod_days(pod.start, pod.counted_until)
            }
        else:
            unattributed += 1
    PodRecord.objects.bulk_create(new, batch_size=BULK_BATCH_SIZE)
    if updated:
        PodRecord.objects.bulk_update(updated, list(POD_FIELDS), batch_size=500)
    days = rollup_days(touched)
    reasons = Counter(pod.not_counted for pod in skipped)
    return {
        "pods": len(pods),
        "pods_counted": len(counted),
        "pods_new": len(new),
        "pods_updated": len(updated),
        "pods_running": running,
        "pods_unattributed": unattributed,
        "pods_not_counted": len(skipped),
        "not_counted_reasons": dict(sorted(reasons.items())),
        "not_counted": [
            {
                "line": pod.line,
                "pod": pod.pod,
                "namespace": pod.namespace,
                "reason": pod.not_counted,
            }
            for pod in skipped[:NOT_COUNTED_SHOWN]
        ],
        "allocations_matched": len(counted) - unattributed,
        "gpu_hours": str(sum((pod.gpu_hours for pod in counted), Decimal("0"))),
        "days_rolled_up": days,
    }
