"""The demo organisation's GPU FinOps data, fed through the real engines.

Quotas and matching keys are written directly; usage and cost arrive as a generated usage
CSV and a generated FOCUS 1.2 export imported with ``inventory.usage.services.batches.ingest_file``
(the same path as the upload page, the API and the commands), then the findings scan and the
open month's chargeback run. Seeded once: when any ingest batch exists, nothing is done.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from core.choices import Role
from inventory.capacity.models import GPUQuota
from inventory.gpu.choices import PricingModel, Provider
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.usage.choices import ExternalKeyKind, IngestKind
from inventory.usage.models import ExternalKey, IngestBatch

SEED = "keel-demo-finops"
USAGE_DAYS = 14
SAMPLES_PER_DAY = 4  # every six hours
FOCUS_COLUMNS = [
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeClass",
    "PricingCategory",
    "ProviderName",
    "ServiceName",
    "SubAccountId",
    "ResourceId",
    "ResourceType",
    "RegionId",
    "SkuId",
    "SkuPriceDetails",
    "ConsumedQuantity",
    "ConsumedUnit",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
    "CommitmentDiscountId",
    "CommitmentDiscountStatus",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "Tags",
]
PROVIDER_NAMES = {Provider.AWS: "AWS", Provider.GCP: "Google Cloud", Provider.AZURE: "Microsoft"}


def _platform_user():
    users = get_user_model().objects.filter(
        memberships__role=Role.PLATFORM_ENGINEER, is_active=True
    )
    return users.order_by("pk").first()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _active(allocation: GPUAllocation, day: date) -> bool:
    return allocation.starts_on <= day and (allocation.ends_on is None or allocation.ends_on >= day)


def _quotas_and_keys(allocations: list[GPUAllocation]) -> dict[str, int]:
    """A quota per business unit in each pool it uses, and a Kubernetes namespace per
    initiative on a Kubernetes pool."""
    quotas = keys = 0
    held: dict[tuple[int, int], Decimal] = {}
    for allocation in allocations:
        key = (allocation.business_unit_id, allocation.pool_id)
        held[key] = held.get(key, Decimal("0")) + allocation.gpu_count
    for (unit_id, pool_id), gpus in sorted(held.items()):
        deserved = max(Decimal("1"), gpus.quantize(Decimal("1")))
        _, created = GPUQuota.objects.get_or_create(
            business_unit_id=unit_id,
            pool_id=pool_id,
            initiative=None,
            defaults={
                "deserved_gpus": deserved,
                "limit_gpus": deserved + 4,
                "monthly_gpu_hour_budget": deserved * 24 * 30,
            },
        )
        quotas += created
    for allocation in allocations:
        if allocation.initiative_id is None or allocation.pool.kind != "kubernetes":
            continue
        cluster = allocation.pool.cluster or allocation.pool.name
        value = f"{cluster}/{allocation.initiative.reference.lower()}"
        _, created = ExternalKey.objects.get_or_create(
            kind=ExternalKeyKind.K8S_NAMESPACE,
            value=value,
            defaults={"initiative_id": allocation.initiative_id},
        )
        keys += created
    return {"gpu_quotas": quotas, "external_keys": keys}


def _usage_csv(allocations: list[GPUAllocation], today: date, rng: random.Random) -> bytes:
    """Samples every six hours for the last USAGE_DAYS days: most allocations busy, a few
    idle (the idle findings), some over-provisioned."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["timestamp", "allocation_id", "utilisation", "memory_used_mib"])
    for allocation in allocations:
        profile = rng.random()
        if profile < 0.12:
            low, high = 0.0, 3.0  # idle
        elif profile < 0.25:
            low, high = 5.0, 25.0  # over-provisioned
        else:
            low, high = 45.0, 95.0
        for offset in range(USAGE_DAYS, 0, -1):
            day = today - timedelta(days=offset)
            if not _active(allocation, day):
                continue
            for slot in range(SAMPLES_PER_DAY):
                moment = datetime.combine(day, time(hour=slot * 6), tzinfo=UTC)
                value = round(rng.uniform(low, high), 1)
                memory = int(rng.uniform(2_000, 70_000)) if value > 1 else 0
                writer.writerow([_iso(moment), allocation.pk, value, memory])
    return out.getvalue().encode()


def _focus_csv(allocations: list[GPUAllocation], today: date, rng: random.Random) -> bytes:
    """Daily cost lines from the first of last month to yesterday for allocations in cloud
    pools billed on demand (tagged with the initiative's reference), an unused capacity
    reservation, untagged GPU spend, and a credit and a tax line each month."""
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FOCUS_COLUMNS)
    writer.writeheader()

    def line(day: date, **values):
        start = datetime.combine(day, time(), tzinfo=UTC)
        billing_start = day.replace(day=1)
        billing_end = (billing_start + timedelta(days=32)).replace(day=1)
        row = {
            "BillingPeriodStart": _iso(datetime.combine(billing_start, time(), UTC)),
            "BillingPeriodEnd": _iso(datetime.combine(billing_end, time(), UTC)),
            "ChargePeriodStart": _iso(start),
            "ChargePeriodEnd": _iso(start + timedelta(days=1)),
            "ChargeCategory": "Usage",
            "PricingCategory": "Standard",
            "ServiceName": "Compute",
            "ConsumedUnit": "Hours",
            "BillingCurrency": "USD",
            **values,
        }
        writer.writerow({column: row.get(column, "") for column in FOCUS_COLUMNS})

    cloud = [
        allocation
        for allocation in allocations
        if allocation.pool.provider in PROVIDER_NAMES
        and allocation.pool.pricing_model in (PricingModel.ON_DEMAND, PricingModel.SPOT)
        and allocation.initiative_id is not None
    ][:40]
    days = [first + timedelta(days=n) for n in range((today - first).days)]
    for allocation in cloud:
        pool = allocation.pool
        gpus = allocation.gpu_count
        for day in days:
            if not _active(allocation, day):
                continue
            cost = (gpus * 24 * pool.hourly_rate * Decimal(str(rng.uniform(0.9, 1.0)))).quantize(
                Decimal("0.01")
            )
            line(
                day,
                ProviderName=PROVIDER_NAMES[pool.provider],
                SubAccountId=pool.account,
                ResourceId=f"{pool.name}/alloc-{allocation.pk}",
                ResourceType="GPU instance",
                RegionId=pool.region,
                SkuId=f"SKU-{pool.gpu_type.name}",
                SkuPriceDetails=json.dumps({"GpuCount": float(gpus)}),
                ConsumedQuantity=24,
                BilledCost=cost,
                EffectiveCost=cost,
                Tags=json.dumps({"keel-initiative": allocation.initiative.reference}),
            )
    reserved = GPUPool.objects.filter(pricing_model=PricingModel.RESERVED).order_by("pk").first()
    for day in days:
        if reserved is not None:
            idle = (Decimal("2") * 24 * reserved.hourly_rate).quantize(Decimal("0.01"))
            line(
                day,
                ProviderName=PROVIDER_NAMES.get(reserved.provider, "AWS"),
                SubAccountId=reserved.account,
                ResourceId=f"cr-demo-{reserved.pk}",
                ResourceType="Capacity Reservation",
                RegionId=reserved.region,
                SkuPriceDetails=json.dumps({"GpuCount": 2}),
                ConsumedQuantity=24,
                BilledCost=idle,
                EffectiveCost=idle,
                CapacityReservationId=f"cr-demo-{reserved.pk}",
                CapacityReservationStatus="Unused",
            )
        line(
            day,
            ProviderName="AWS",
            SubAccountId="999900000001",
            ResourceId=f"i-untagged-{day:%d}",
            ResourceType="EC2 Instance",
            RegionId="us-east-1",
            SkuPriceDetails=json.dumps({"InstanceType": "g6.12xlarge", "GpuCount": 4}),
            ConsumedQuantity=24,
            BilledCost="110.44",
            EffectiveCost="110.44",
        )
    for day in days:
        if day.day != 1:
            continue
        line(
            day,
            ChargeCategory="Credit",
            ProviderName="AWS",
            BilledCost="-250.00",
            EffectiveCost="-250.00",
        )
        line(
            day,
            ChargeCategory="Tax",
            ProviderName="AWS",
            BilledCost="84.10",
            EffectiveCost="84.10",
        )
    return out.getvalue().encode()


def seed_finops(today: date) -> dict[str, int]:
    """Quotas, matching keys, two weeks of usage and last and this month's costs, then the
    findings scan and both months' chargeback. Returns created counts by kind."""
    from inventory.finops.services.chargeback import chargeback_compute
    from inventory.finops.services.findings import findings_scan
    from inventory.usage.services.batches import ingest_file

    actor = _platform_user()
    if actor is None or IngestBatch.objects.exists():
        return {}
    allocations = list(
        GPUAllocation.objects.select_related("pool__gpu_type", "initiative").order_by("pk")
    )
    created = _quotas_and_keys(allocations)
    rng = random.Random(SEED)
    usage = ingest_file(
        actor=actor,
        kind=IngestKind.USAGE_CSV,
        filename="demo-usage.csv",
        content=_usage_csv(allocations, today, rng),
    )
    costs = ingest_file(
        actor=actor,
        kind=IngestKind.FOCUS,
        filename="demo-focus-1.2.csv",
        content=_focus_csv(allocations, today, rng),
    )
    created["usage_samples"] = usage.rows_written
    created["cost_records"] = costs.rows_written
    scan = findings_scan(today=today, actor=actor)
    created["gpu_findings"] = sum(counts["opened"] for counts in scan.values())
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for month in (last_month, today.replace(day=1)):
        chargeback_compute(month=month, actor=actor)
    created["chargeback_months"] = 2
    return created
