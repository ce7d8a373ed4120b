"""The GPU panel of an initiative's page: allocations, usage trend, monthly cost, pending
requests, scoped to what the viewer may see, in a constant number of queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from inventory.usage.choices import CostCategory, CostMatch, IngestKind, IngestStatus
from inventory.usage.models import CostRecord, IngestBatch, UsageDaily
from tests.factories import GPUAllocationFactory, GPUPoolFactory, InitiativeFactory, member

pytestmark = pytest.mark.django_db


def _batch():
    number = IngestBatch.objects.count()
    return IngestBatch.objects.create(
        kind=IngestKind.FOCUS,
        filename="f.csv",
        sha256=f"{number:064d}",
        status=IngestStatus.IMPORTED,
    )


def _estate(unit, count=1):
    initiative = InitiativeFactory(business_unit=unit)
    today = timezone.localdate()
    batch = _batch()
    for n in range(count):
        pool = GPUPoolFactory(hourly_rate=Decimal("2.00"))
        allocation = GPUAllocationFactory(
            pool=pool,
            business_unit=unit,
            initiative=initiative,
            gpu_count=Decimal("2"),
            starts_on=today - dt.timedelta(days=40),
        )
        UsageDaily.objects.create(
            allocation=allocation,
            day=today - dt.timedelta(days=1),
            samples=10,
            avg_activity=0.5,
            p95_activity=0.7,
            gpu_hours=Decimal("48"),
        )
        month = today.replace(day=1)
        start = dt.datetime.combine(month, dt.time(), tzinfo=dt.UTC)
        CostRecord.objects.create(
            batch=batch,
            line=n + 2,
            fingerprint=f"{initiative.pk}-{n}",
            provider="AWS",
            month=month,
            charge_period_start=start,
            charge_period_end=start + dt.timedelta(hours=1),
            category=CostCategory.USAGE,
            charge_category="Usage",
            billed_cost=Decimal("10"),
            effective_cost=Decimal("12.345"),
            currency="USD",
            matched_by=CostMatch.COST_TAG,
            allocation=allocation,
            initiative=initiative,
            business_unit=unit,
            pool=pool,
        )
    return initiative


def test_panel_shows_allocations_trend_and_cost(client, unit_a):
    initiative = _estate(unit_a)
    viewer = member(Role.BU_MEMBER, unit_a)
    client.force_login(viewer)
    page = client.get(reverse("inventory:initiative_gpu_panel", args=[initiative.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "2 × " not in text  # the table lists the count and type in columns
    assert "<svg" in text and ">50 %</text>" in text  # the latest day's activity
    assert "12.35" in text and "Imported cost (FOCUS)" in text
    assert "a target, not a measurement" in text
    assert "Request GPUs" in text
    detail = client.get(initiative.get_absolute_url()).content.decode()
    assert reverse("inventory:initiative_gpu_panel", args=[initiative.pk]) in detail


def test_panel_is_404_for_another_business_unit(client, unit_a, unit_b):
    initiative = _estate(unit_a)
    client.force_login(member(Role.BU_MEMBER, unit_b))
    response = client.get(reverse("inventory:initiative_gpu_panel", args=[initiative.pk]))
    assert response.status_code == 404


def test_panel_query_count_does_not_grow_with_allocations(
    client, unit_a, django_assert_max_num_queries
):
    viewer = member(Role.BU_MEMBER, unit_a)
    client.force_login(viewer)
    small = _estate(unit_a, count=1)
    large = _estate(unit_a, count=4)
    url = "inventory:initiative_gpu_panel"
    with django_assert_max_num_queries(12) as small_run:
        client.get(reverse(url, args=[small.pk]))
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        client.get(reverse(url, args=[large.pk]))
