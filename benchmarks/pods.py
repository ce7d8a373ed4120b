"""Benchmark the Kubernetes pod ingest (10,000 pods) and the bulk allocation import (8,000 rows)
on PostgreSQL (part of ``make bench``; targets: each ≤ 10 s).

The run creates a throwaway database (``keel_bench_pods``, never the shared ``test``
databases) and migrates it. *Pods*: 50 initiatives with one allocation each in a Kubernetes
H100 pool, matched by namespace (``k8s_namespace`` keys) for 40 of them and by a
``team=…`` label (``k8s_label`` keys) for 10; a pod CSV in the openb trace's columns plus
``namespace`` and ``labels`` (times in seconds from a trace start, 7 days; gpu_milli 100–1000,
some multi-GPU, some MIG), 3 % never scheduled and 5 % in namespaces nobody claims; timed
``inventory.usage.services.batches.ingest_file`` (parse, match, write, roll-up, audit, one
transaction) and checked that the batch's GPU-hours equal the direct computation
(num_gpu × gpu_milli / 1000 × (deletion − scheduled) / 3600) to 0.001. *Allocations*: a CSV of
8,000 allocations for 20 units in 40 pools (half naming an initiative), timed
``inventory.gpu.allocation_import.allocation_import`` as a dry run and as a real import (one
transaction, one audit event per allocation), then the same 8,000 rows in a single pool (the
capacity check's worst case). The section "## Kubernetes pods and bulk allocations" of
``docs/benchmarks.md`` is replaced (the rest of the file is kept) and the database dropped.
Exits non-zero when anything fails or a target is missed.

Environment: ``DATABASE_URL`` must point at PostgreSQL (its database name is not used);
``KEEL_BENCH_PODS_DATABASE`` overrides the database name.
"""

import csv
import datetime
import io
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")

import django  # noqa: E402

BENCH_DATABASE = os.environ.get("KEEL_BENCH_PODS_DATABASE", "keel_bench_pods")
PODS = 10_000
ALLOCATION_ROWS = 8_000
INITIATIVES = 50
LABELLED = 10  # of the initiatives, matched by a label instead of the namespace
UNITS = 20
POOLS = 40
TARGET_SECONDS = 10.0
TRACE_START = datetime.datetime(2025, 6, 2, tzinfo=datetime.UTC)
START = "<!-- pods-benchmark:start -->"
END = "<!-- pods-benchmark:end -->"
POD_COLUMNS = [
    "name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec", "qos", "pod_phase",
    "creation_time", "deletion_time", "scheduled_time", "namespace", "labels", "mig_profile",
]  # fmt: skip


def main() -> int:
    django.setup()
    from benchmarks._common import on_throwaway_database

    def run() -> int:
        actor = setup()
        pods = measure_pods(actor)
        allocations = measure_allocations(actor)
        write_report(pods, allocations)
        print_result(pods, allocations)
        missed = [
            name
            for name, seconds in (
                ("pod ingest", pods["seconds"]),
                ("allocation import", allocations["import"]),
            )
            if seconds > TARGET_SECONDS
        ]
        if missed or not pods["exact"]:
            print(f"Missed: {', '.join(missed) or 'GPU-hours exactness'}", file=sys.stderr)
            return 1
        return 0

    return on_throwaway_database(BENCH_DATABASE, "benchmarks/pods.py", run)


def setup():
    """A platform engineer, the units, pools, initiatives, allocations and keys."""
    from django.contrib.auth import get_user_model

    from core.choices import Role
    from core.models import BusinessUnit, Membership
    from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, SharingMode
    from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
    from inventory.usage.choices import ExternalKeyKind
    from inventory.usage.models import ExternalKey
    from portfolio.initiatives.models import Initiative

    units = BusinessUnit.objects.bulk_create(
        BusinessUnit(name=f"Bench unit {n}", code=f"BENCH{n:02d}") for n in range(UNITS)
    )
    actor = get_user_model().objects.create_user(username="bench-platform")
    Membership.objects.create(user=actor, business_unit=units[0], role=Role.PLATFORM_ENGINEER)
    owner = get_user_model().objects.create_user(username="bench-owner")
    h100 = GPUType.objects.get(name="H100 80GB")
    pools = GPUPool.objects.bulk_create(
        GPUPool(
            name=f"bench-pool-{n:02d}",
            kind=PoolKind.KUBERNETES,
            provider="aws",
            cluster="bench-cluster",
            gpu_type=h100,
            gpu_count=100_000,
            sharing_mode=SharingMode.TIME_SLICED,
            pricing_model=PricingModel.ON_DEMAND,
        )
        for n in range(POOLS)
    )
    initiatives = Initiative.objects.bulk_create(
        Initiative(
            reference=f"AI-{8000 + n:04d}",
            title=f"Bench initiative {n}",
            purpose="Benchmark",
            business_unit=units[n % UNITS],
            accountable_owner=owner,
        )
        for n in range(INITIATIVES)
    )
    allocations = GPUAllocation.objects.bulk_create(
        GPUAllocation(
            pool=pools[0],
            gpu_count=Decimal("16"),
            initiative=initiative,
            business_unit=initiative.business_unit,
            purpose=AllocationPurpose.TRAINING,
            starts_on=datetime.date(2025, 5, 1),
        )
        for initiative in initiatives
    )
    ExternalKey.objects.bulk_create(
        ExternalKey(
            kind=ExternalKeyKind.K8S_LABEL if n < LABELLED else ExternalKeyKind.K8S_NAMESPACE,
            value=f"team=team-{n}" if n < LABELLED else f"ns-{n}",
            allocation=allocation,
        )
        for n, allocation in enumerate(allocations)
    )
    return actor


def pod_csv() -> tuple[bytes, Decimal, int]:
    """The pod file, the direct GPU-hours of its counted pods, and how many are counted."""
    randomiser = random.Random(17)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(POD_COLUMNS)
    direct, counted = Decimal("0"), 0
    week = 7 * 24 * 3600
    for n in range(PODS):
        created = randomiser.randrange(0, week - 7200)
        scheduled = created + randomiser.randrange(0, 600)
        deleted = scheduled + randomiser.randrange(60, 36 * 3600)
        team = randomiser.randrange(INITIATIVES)
        namespace = f"ns-{team}" if team >= LABELLED else "shared"
        labels = f"app=pod-{n % 97};team=team-{team}"
        if randomiser.random() < 0.05:
            namespace, labels = f"unclaimed-{n % 13}", "app=stray"
        kind = randomiser.random()
        mig, milli, gpus = "", randomiser.choice([100, 125, 250, 333, 500, 750, 1000]), 1
        if kind < 0.1:
            gpus, milli = randomiser.choice([2, 4, 8]), 1000
        elif kind < 0.2:
            mig, milli, gpus = "nvidia.com/mig-1g.10gb", "", 1
        pending = randomiser.random() < 0.03
        phase = "Pending" if pending else randomiser.choice(["Running", "Succeeded", "Failed"])
        writer.writerow(
            [
                f"bench-pod-{n:05d}", 4000, 16384, gpus, milli, "H100", "LS", phase, created,
                "" if pending else deleted, "" if pending else scheduled, namespace, labels, mig,
            ]
        )  # fmt: skip
        if not pending:
            counted += 1
            share = Decimal(1) / 7 if mig else Decimal(gpus) * Decimal(milli) / 1000
            direct += share * Decimal(deleted - scheduled) / 3600
    return buffer.getvalue().encode(), direct, counted


def measure_pods(actor) -> dict:
    from inventory.usage.choices import IngestKind
    from inventory.usage.models import PodRecord, UsageDaily
    from inventory.usage.services.batches import ingest_file

    content, direct, counted = pod_csv()
    began = time.perf_counter()
    batch = ingest_file(
        actor=actor,
        kind=IngestKind.K8S_PODS,
        filename="bench-pods.csv",
        content=content,
        options={"time_origin": TRACE_START.isoformat()},
    )
    seconds = time.perf_counter() - began
    summary = batch.summary
    stored = Decimal(summary["gpu_hours"])
    return {
        "seconds": seconds,
        "bytes": len(content),
        "summary": {key: value for key, value in summary.items() if key != "not_counted"},
        "counted": counted,
        "stored_pods": PodRecord.objects.count(),
        "daily_rows": UsageDaily.objects.count(),
        "direct": direct,
        "stored_hours": stored,
        "exact": abs(stored - direct) < Decimal("0.001") and summary["pods_counted"] == counted,
    }


def allocation_csv(*, pools: int) -> bytes:
    randomiser = random.Random(11)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["pool", "gpu_count", "business_unit", "initiative", "purpose", "starts_on",
                     "ends_on", "notes"])  # fmt: skip
    for n in range(ALLOCATION_ROWS):
        start = datetime.date(2025, 7, 1) + datetime.timedelta(days=randomiser.randrange(365))
        end = (
            ""
            if randomiser.random() < 0.3
            else (start + datetime.timedelta(days=randomiser.randrange(30, 400))).isoformat()
        )
        unit = n % UNITS
        initiative = f"AI-{8000 + unit:04d}" if n % 2 else ""
        writer.writerow(
            [
                f"bench-pool-{n % pools:02d}",
                randomiser.choice(["0.125", "0.25", "0.5", "1", "2", "4"]),
                f"BENCH{unit:02d}",
                initiative,
                randomiser.choice(["training", "inference", "Fine-tuning"]),
                start.isoformat(),
                end,
                f"row {n}",
            ]
        )
    return buffer.getvalue().encode()


def measure_allocations(actor) -> dict:
    from django.db import connection

    from core.models import AuditEvent
    from inventory.gpu.allocation_import import allocation_import
    from inventory.gpu.models import GPUAllocation

    def timed(content, dry_run):
        began = time.perf_counter()
        result = allocation_import(actor=actor, content=content, dry_run=dry_run)
        elapsed = time.perf_counter() - began
        if result.errors:
            raise RuntimeError(f"unexpected row errors: {result.errors[:5]}")
        return elapsed, result

    spread = allocation_csv(pools=POOLS)
    before = GPUAllocation.objects.count()
    events_before = AuditEvent.objects.count()
    dry, _ = timed(spread, True)
    real, result = timed(spread, False)
    created = GPUAllocation.objects.count() - before
    events = AuditEvent.objects.count() - events_before
    one_pool, _ = timed(allocation_csv(pools=1), False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_gpuallocation")
        total = cursor.fetchone()[0]
    return {
        "bytes": len(spread),
        "dry_run": dry,
        "import": real,
        "one_pool": one_pool,
        "created": created,
        "events": events,
        "gpus": result.gpu_total,
        "total": total,
    }


def write_report(pods: dict, allocations: dict) -> None:
    from benchmarks._common import write_section
    from benchmarks.run import machine

    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Kubernetes pods and bulk allocations ({PODS:,} pods, {ALLOCATION_ROWS:,} rows)",
        "",
        "Measured by `benchmarks/pods.py` (run by `make bench`); regenerate, do not edit.",
        "",
        f"- **Date:** {now}",
        *(f"- **{name}:** {value}" for name, value in machine().items()),
        f"- **Pod file:** openb trace columns plus `namespace`, `labels`, `mig_profile`; "
        f"{PODS:,} pods over 7 days, {pods['bytes'] / 1e6:.1f} MB; {INITIATIVES} allocations "
        f"matched by namespace ({INITIATIVES - LABELLED}) or `team` label ({LABELLED}); 3 % "
        "never scheduled, 5 % in unclaimed namespaces.",
        f"- **Pod result:** {pods['stored_pods']:,} `PodRecord` rows, "
        f"{pods['daily_rows']:,} `UsageDaily` rows; summary `{pods['summary']}`.",
        f"- **Exactness:** stored GPU-hours {pods['stored_hours']} vs direct computation "
        f"{pods['direct']:.6f} (difference "
        f"{abs(pods['stored_hours'] - pods['direct']):.6f}; required < 0.001): "
        f"{'✓' if pods['exact'] else '✗'}.",
        f"- **Allocation file:** {ALLOCATION_ROWS:,} rows for {UNITS} units in {POOLS} pools, "
        f"half naming an initiative, {allocations['bytes'] / 1e6:.1f} MB; "
        f"{allocations['created']:,} allocations and {allocations['events']:,} audit events "
        "written by the import.",
        "",
        "| Step | Seconds | Target | Rows/s |",
        "|---|---:|---:|---:|",
        f"| Pod ingest: `ingest_file` (parse, match, write, roll-up, audit; one transaction) "
        f"| {pods['seconds']:.2f} | ≤ {TARGET_SECONDS:g} | {PODS / pods['seconds']:,.0f} |",
        f"| Allocation import, dry run (every check, no writes) | {allocations['dry_run']:.2f} "
        f"| | {ALLOCATION_ROWS / allocations['dry_run']:,.0f} |",
        f"| Allocation import (checks, pool locks, bulk insert, audit; one transaction) "
        f"| {allocations['import']:.2f} | ≤ {TARGET_SECONDS:g} | "
        f"{ALLOCATION_ROWS / allocations['import']:,.0f} |",
        f"| Allocation import, all {ALLOCATION_ROWS:,} rows in one pool (capacity worst case) "
        f"| {allocations['one_pool']:.2f} | | "
        f"{ALLOCATION_ROWS / allocations['one_pool']:,.0f} |",
        "",
        "Each allocation row is checked as a single allocation is (unit permission, the model's "
        "validation, the pool's free capacity over the period counting the stored allocations "
        "and the file's earlier rows); capacity is summed in memory by `CapacityLedger`, so "
        "one pool holding every row costs about what 40 pools do.",
    ]
    write_section(START, END, lines)


def print_result(pods: dict, allocations: dict) -> None:
    print(f"pod ingest: {pods['seconds']:.2f} s ({PODS:,} pods); exact: {pods['exact']}")
    print(f"  GPU-hours stored {pods['stored_hours']} direct {pods['direct']:.6f}")
    print(
        f"allocation import: dry run {allocations['dry_run']:.2f} s, "
        f"import {allocations['import']:.2f} s, one pool {allocations['one_pool']:.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
