"""GPU utilisation (issue 7, item 8): known answers for the BU × pool rows and the capacity
series, the target band's boundaries, scoping, the page, its exports and the read-only API,
with query counts that do not grow with rows or days."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from core.choices import Role
from inventory.usage.choices import CostCategory, CostMatch
from inventory.usage.models import CostRecord, GPUDevice, IngestBatch, UsageDaily
from inventory.usage.selectors import (
    STATUS_ABOVE,
    STATUS_BELOW,
    STATUS_IN_BAND,
    STATUS_NO_DATA,
    band_percent,
    band_status,
    capacity_series,
    initiative_gpu_summary,
    utilisation_by_bu_and_pool,
)
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    member,
)

pytestmark = pytest.mark.django_db

D1, D2, D3 = dt.date(2025, 6, 1), dt.date(2025, 6, 2), dt.date(2025, 6, 3)
PAGE = "/inventory/utilisation/"
API_ROWS = "/api/v1/gpu-utilisation/"
API_COSTS = "/api/v1/gpu-costs/"


def daily(
    allocation=None, day=D1, samples=0, avg=None, p95=None, hours="0", device=None, sampled="0"
):
    return UsageDaily.objects.create(
        allocation=allocation,
        device=device,
        day=day,
        samples=samples,
        avg_activity=avg,
        p95_activity=p95,
        gpu_hours=Decimal(hours),
        sampled_gpu_hours=Decimal(sampled),
    )


@pytest.fixture
def estate(unit_a, unit_b):
    """Two pools, three allocations and a device matched to none, over 1–3 June 2025.

    A1 (unit A, P1, 4 GPUs, open): day 1 10 samples at 0.5, day 2 30 at 0.9 → (5 + 27) / 40
    = 0.8, in band; 144 GPU-hours used of 4 × 24 × 3 = 288 allocated.
    A2 (unit A, P2, 2 GPUs, 2–3 June): day 2 5 samples at 0.2; day 3 Slurm-only (20 GPU-hours,
    no activity) → 0.2, below; 30 used of 96.
    A3 (unit B, P1, 8 GPUs, 1–2 June): day 1 100 samples at 0.95 → above; 100 of 384.
    Device D (P1, no allocation): day 3 4 samples at 0 → unattributed, below; 1 GPU-hour.
    """
    p1 = GPUPoolFactory(name="p1", gpu_count=16, gpu_type=GPUTypeFactory(name="U-H100"))
    p2 = GPUPoolFactory(name="p2", gpu_count=8, gpu_type=GPUTypeFactory(name="U-L4"))
    a1 = GPUAllocationFactory(pool=p1, business_unit=unit_a, gpu_count=4, starts_on=D1)
    a2 = GPUAllocationFactory(pool=p2, business_unit=unit_a, gpu_count=2, starts_on=D2, ends_on=D3)
    a3 = GPUAllocationFactory(
        pool=p1, business_unit=unit_b, gpu_count=8, starts_on=dt.date(2025, 5, 1), ends_on=D2
    )
    daily(a1, D1, 10, 0.5, 0.9, "48")
    daily(a1, D2, 30, 0.9, 0.95, "96")
    daily(a2, D2, 5, 0.2, 0.3, "10")
    daily(a2, D3, 0, None, None, "20")
    daily(a3, D1, 100, 0.95, 0.99, "100")
    now = timezone.now()
    device = GPUDevice.objects.create(
        hostname="gpu-07", gpu="1", pool=p1, first_seen_at=now, last_seen_at=now
    )
    daily(device=device, day=D3, samples=4, avg=0.0, p95=0.0, hours="1")
    return {"p1": p1, "p2": p2, "a1": a1, "a2": a2, "a3": a3, "device": device}


def as_table(rows):
    return {
        (row.business_unit.code if row.business_unit else None, row.pool.name): row for row in rows
    }


# --- Known answers -------------------------------------------------------------------------


def test_rows_per_unit_and_pool(estate, platform_engineer):
    rows = utilisation_by_bu_and_pool(actor=platform_engineer, start=D1, end=D3)
    table = as_table(rows)
    assert list(table) == [("INSURE", "p1"), ("RETAIL", "p1"), ("RETAIL", "p2"), (None, "p1")]

    a1 = table[("RETAIL", "p1")]
    assert a1.samples == 40
    assert a1.avg_activity == pytest.approx(0.8)
    assert a1.p95_activity == pytest.approx(0.95)  # the highest daily p95
    assert (a1.gpu_hours_used, a1.allocated_gpu_hours) == (Decimal("144"), Decimal("288"))
    assert a1.used_share == pytest.approx(0.5)
    assert a1.status == STATUS_IN_BAND

    a2 = table[("RETAIL", "p2")]
    assert (a2.samples, a2.status) == (5, STATUS_BELOW)
    assert a2.avg_activity == pytest.approx(0.2)
    assert (a2.gpu_hours_used, a2.allocated_gpu_hours) == (Decimal("30"), Decimal("96"))

    a3 = table[("INSURE", "p1")]
    assert (a3.status, a3.allocated_gpu_hours) == (STATUS_ABOVE, Decimal("384"))

    unattributed = table[(None, "p1")]
    assert (unattributed.samples, unattributed.gpu_hours_used) == (4, Decimal("1"))
    assert unattributed.allocated_gpu_hours == 0
    assert unattributed.status == STATUS_BELOW


def test_filters_and_a_unit_with_allocations_but_no_samples(estate, executive, unit_a):
    rows = utilisation_by_bu_and_pool(
        actor=executive, start=D3, end=D3, business_unit=unit_a, pool=estate["p2"]
    )
    (row,) = rows
    # Day 3 of A2 has GPU-hours (Slurm) but no samples: no activity, "no data".
    assert (row.samples, row.avg_activity, row.status) == (0, None, STATUS_NO_DATA)
    assert (row.gpu_hours_used, row.allocated_gpu_hours) == (Decimal("20"), Decimal("48"))


@pytest.mark.parametrize(
    ("activity", "status"),
    [
        (0.6996, STATUS_BELOW),  # 69.96 %: unrounded, below (rounded to 0.1 % it reads 70)
        (0.6999, STATUS_BELOW),
        (0.70, STATUS_IN_BAND),
        (0.85, STATUS_IN_BAND),
        (0.8501, STATUS_ABOVE),
        (0.8504, STATUS_ABOVE),  # 85.04 %: unrounded, above (rounded to 0.1 % it reads 85)
        (None, STATUS_NO_DATA),
    ],
)
def test_band_boundaries(activity, status):
    assert band_status(activity) == status


@pytest.mark.parametrize(
    ("activity", "status", "shown"),
    [
        (0.6996, STATUS_BELOW, "69.96 %"),
        (0.70, STATUS_IN_BAND, "70.0 %"),
        (0.85, STATUS_IN_BAND, "85.0 %"),
        (0.8504, STATUS_ABOVE, "85.04 %"),
        (0.69999, STATUS_BELOW, "<70.00 %"),
        (0.850001, STATUS_ABOVE, ">85.00 %"),
        (0.8, STATUS_IN_BAND, "80.0 %"),
        (None, STATUS_NO_DATA, ""),
    ],
)
def test_the_figure_shown_never_contradicts_the_band_status(activity, status, shown):
    assert band_status(activity) == status
    assert band_percent(activity, status) == shown


def test_boundary_rows_on_the_page_exports_and_dashboard_panel(client, unit_a, platform_engineer):
    """69.96 % and 85.04 % are outside the band on the page, in the export and on the
    dashboard's chart, and read so; 70.0 % and 85.0 % are in it."""
    cases = {0.6996: "69.96 %", 0.70: "70.0 %", 0.85: "85.0 %", 0.8504: "85.04 %"}
    allocations = {}
    for activity in cases:
        allocation = GPUAllocationFactory(business_unit=unit_a, gpu_count=1, starts_on=D1)
        daily(allocation, D1, 10, activity, activity, "24", sampled="24")
        allocations[allocation.pool.name] = activity
    rows = utilisation_by_bu_and_pool(actor=platform_engineer, start=D1, end=D1)
    statuses = {allocations[row.pool.name]: (row.status, row.avg_activity_text) for row in rows}
    assert statuses == {
        0.6996: (STATUS_BELOW, "69.96 %"),
        0.70: (STATUS_IN_BAND, "70.0 %"),
        0.85: (STATUS_IN_BAND, "85.0 %"),
        0.8504: (STATUS_ABOVE, "85.04 %"),
    }
    client.force_login(platform_engineer)
    params = {"start": "2025-06-01", "end": "2025-06-01"}
    page = client.get(PAGE, params).content.decode()
    assert "69.96 %" in page and "85.04 %" in page
    assert "Average activity while sampled" in page and "Sample coverage" in page
    response = client.get(reverse("inventory:utilisation_csv"), params)
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    exported = {line[6]: line[13] for line in lines[1:]}
    assert exported == {
        "69.96": "Below the target band",
        "70.0": "In the target band",
        "85.0": "In the target band",
        "85.04": "Above the target band",
    }


def test_sample_coverage_beside_used_over_allocated(unit_a, platform_engineer):
    """4 GPUs for a day = 96 GPU-hours allocated; 48 used of which 24 sampled (the rest Slurm):
    used / allocated 50 %, sample coverage 25 %. No allocation: no coverage."""
    allocation = GPUAllocationFactory(business_unit=unit_a, gpu_count=4, starts_on=D1, ends_on=D1)
    daily(allocation, D1, 100, 0.8, 0.9, "48", sampled="24")
    (row,) = utilisation_by_bu_and_pool(actor=platform_engineer, start=D1, end=D1)
    assert (row.gpu_hours_used, row.sampled_gpu_hours) == (Decimal("48"), Decimal("24"))
    assert row.allocated_gpu_hours == Decimal("96")
    assert row.used_share == pytest.approx(0.5)
    assert row.sample_coverage == pytest.approx(0.25)
    assert row.sample_coverage_pct == pytest.approx(25.0)
    now = timezone.now()
    device = GPUDevice.objects.create(
        hostname="gpu-09", gpu="1", pool=allocation.pool, first_seen_at=now, last_seen_at=now
    )
    daily(device=device, day=D2, samples=4, avg=0.5, hours="1", sampled="1")
    rows = utilisation_by_bu_and_pool(actor=platform_engineer, start=D2, end=D2)
    unattributed = next(row for row in rows if row.business_unit is None)
    assert unattributed.sample_coverage is None


def test_band_boundaries_of_weighted_averages(unit_a, platform_engineer, settings):
    """0.7 × 3 / 3 is 0.6999999999999998 in floating point: still in the band."""
    low = GPUAllocationFactory(business_unit=unit_a, starts_on=D1)
    high = GPUAllocationFactory(business_unit=unit_a, starts_on=D1)
    daily(low, D1, 1, 0.7)
    daily(low, D2, 2, 0.7)
    daily(high, D1, 3, 0.85)
    rows = utilisation_by_bu_and_pool(actor=platform_engineer, start=D1, end=D2)
    assert [row.status for row in rows] == [STATUS_IN_BAND, STATUS_IN_BAND]
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "TARGET_LOW": 0.75, "TARGET_HIGH": 0.8}
    rows = utilisation_by_bu_and_pool(actor=platform_engineer, start=D1, end=D2)
    assert {row.pool.pk: row.status for row in rows} == {
        low.pool_id: STATUS_BELOW,
        high.pool_id: STATUS_ABOVE,
    }


def test_capacity_series_per_day(estate, platform_engineer):
    points = capacity_series(actor=platform_engineer, start=D1, end=D3)
    assert [(p.start, p.capacity, p.allocated, p.used) for p in points] == [
        (D1, Decimal("24"), Decimal("12"), Decimal("6.17")),  # (48 + 100) / 24
        (D2, Decimal("24"), Decimal("14"), Decimal("4.42")),  # (96 + 10) / 24
        (D3, Decimal("24"), Decimal("6"), Decimal("0.88")),  # (20 + 1) / 24
    ]
    (p1_day3,) = capacity_series(actor=platform_engineer, start=D3, end=D3, pool=estate["p1"])
    assert (p1_day3.capacity, p1_day3.allocated, p1_day3.used) == (
        Decimal("16"),
        Decimal("4"),
        Decimal("0.04"),  # the unattributed device's 1 GPU-hour
    )


def test_capacity_series_turns_weekly_for_long_periods(estate, platform_engineer):
    start, end = dt.date(2025, 3, 3), dt.date(2025, 6, 8)  # 98 days, Monday to Sunday
    points = capacity_series(actor=platform_engineer, start=start, end=end)
    assert len(points) == 14
    last = points[-1]
    assert (last.start, last.end) == (dt.date(2025, 6, 2), dt.date(2025, 6, 8))
    # Week of 2–8 June: allocated 14, 6, then 4 for five days → 40 / 7; used (106 + 21) / 24 / 7.
    assert last.allocated == Decimal("5.71")
    assert last.used == Decimal("0.76")
    assert (points[0].start, points[0].allocated) == (start, Decimal("0"))
    assert (points[9].start, points[9].allocated) == (dt.date(2025, 5, 5), Decimal("8"))  # A3


# --- Scoping -------------------------------------------------------------------------------


def test_business_unit_users_see_only_their_unit(estate, member_a, unit_b):
    rows = utilisation_by_bu_and_pool(actor=member_a, start=D1, end=D3)
    assert list(as_table(rows)) == [("RETAIL", "p1"), ("RETAIL", "p2")]
    # Asking for another unit gives nothing rather than its figures.
    assert utilisation_by_bu_and_pool(actor=member_a, start=D1, end=D3, business_unit=unit_b) == []
    points = capacity_series(actor=member_a, start=D1, end=D3)
    # The pools unit A holds (P1 + P2), its own allocations and usage only.
    assert [(p.capacity, p.allocated, p.used) for p in points] == [
        (Decimal("24"), Decimal("4"), Decimal("2")),
        (Decimal("24"), Decimal("6"), Decimal("4.42")),
        (Decimal("24"), Decimal("6"), Decimal("0.83")),
    ]


def test_user_without_units_sees_nothing(estate):
    outsider = member(Role.BU_MEMBER, BusinessUnitFactory(code="OTHER"))
    assert utilisation_by_bu_and_pool(actor=outsider, start=D1, end=D3) == []
    assert [p.allocated for p in capacity_series(actor=outsider, start=D1, end=D3)] == [0] * 3


# --- Initiative summary ----------------------------------------------------------------------


def test_initiative_gpu_summary(unit_a):
    today = dt.date(2025, 6, 10)
    initiative = InitiativeFactory(business_unit=unit_a)
    pool = GPUPoolFactory(hourly_rate=Decimal("2.50"))
    matched = GPUAllocationFactory(
        pool=pool,
        initiative=initiative,
        business_unit=unit_a,
        gpu_count=2,
        starts_on=dt.date(2025, 5, 1),
    )
    rated = GPUAllocationFactory(
        pool=pool,
        initiative=initiative,
        business_unit=unit_a,
        gpu_count=1,
        starts_on=dt.date(2025, 5, 20),
        ends_on=dt.date(2025, 6, 5),
    )
    GPUAllocationFactory(pool=pool, business_unit=unit_a, starts_on=dt.date(2025, 5, 1))
    daily(matched, dt.date(2025, 6, 9), 10, 0.4)
    daily(rated, dt.date(2025, 6, 9), 30, 0.8)
    batch = IngestBatch.objects.create(
        kind="focus", filename="x", sha256="f" * 64, status="imported"
    )
    for n, (month, amount) in enumerate(
        [(dt.date(2025, 5, 1), "1000"), (dt.date(2025, 6, 1), "50")]
    ):
        CostRecord.objects.create(
            batch=batch,
            line=n + 2,
            fingerprint=f"fp-{n}",
            provider="AWS",
            month=month,
            charge_period_start=timezone.now(),
            charge_period_end=timezone.now(),
            category=CostCategory.USAGE,
            charge_category="Usage",
            billed_cost=Decimal(amount),
            effective_cost=Decimal(amount),
            currency="USD",
            matched_by=CostMatch.RESOURCE_ID,
            allocation=matched,
            initiative=initiative,
            business_unit=unit_a,
        )

    summary = initiative_gpu_summary(initiative, today=today)
    assert [allocation.pk for allocation in summary.allocations] == [rated.pk, matched.pk]
    assert len(summary.activity) == 30 and summary.activity[-1] == (today, None)
    assert summary.activity[-2][1] == pytest.approx((4 + 24) / 40)
    assert summary.has_activity
    months = {row["month"]: row for row in summary.monthly_cost}
    assert list(months) == [dt.date(2025, m, 1) for m in range(1, 7)]
    # May: matched 1000 for one allocation + the other's 12 days × 24 h × 1 GPU × 2.50.
    assert (months[dt.date(2025, 5, 1)]["cost"], months[dt.date(2025, 5, 1)]["source"]) == (
        Decimal("1720.00"),
        "mixed",
    )
    # June up to the 10th: 50 matched + 5 days × 24 × 2.50 = 300 rate-based.
    assert months[dt.date(2025, 6, 1)]["rate_based"] == Decimal("300.00")
    assert months[dt.date(2025, 6, 1)]["cost"] == Decimal("350.00")
    assert months[dt.date(2025, 1, 1)] == {
        "month": dt.date(2025, 1, 1),
        "cost": Decimal("0.00"),
        "matched": Decimal("0.00"),
        "rate_based": Decimal("0.00"),
        "source": "none",
    }


# --- The page and its exports ------------------------------------------------------------------


def test_page_shows_band_metric_rows_and_chart(client, estate, platform_engineer):
    client.force_login(platform_engineer)
    response = client.get(PAGE, {"start": "2025-06-01", "end": "2025-06-03"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Target band 70–85 % (a target, not a measurement)" in page
    assert "DCGM_FI_PROF_GR_ENGINE_ACTIVE, else DCGM_FI_DEV_GPU_UTIL" in page
    assert "80.0 %" in page and "In the target band" in page
    assert "Unattributed" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert "<details>" in page and "6.17" in page
    assert reverse("inventory:utilisation") == PAGE


def test_page_empty_state_and_invalid_period(client, member_a):
    client.force_login(member_a)
    response = client.get(PAGE, {"start": "2025-06-01", "end": "2025-06-03"})
    assert "No data: no GPU usage or allocations you can see" in response.content.decode()
    response = client.get(PAGE, {"start": "2025-06-03", "end": "2025-06-01"})
    assert "The end date cannot be before the start date." in response.content.decode()


def test_page_refuses_another_units_filter(client, estate, member_a, unit_b):
    client.force_login(member_a)
    response = client.get(PAGE, {"start": "2025-06-01", "end": "2025-06-03", "bu": unit_b.pk})
    page = response.content.decode()
    assert "Select a valid choice" in page
    assert "Insurance" not in page


def test_page_requires_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302


def test_exports(client, estate, member_a):
    client.force_login(member_a)
    params = {"start": "2025-06-01", "end": "2025-06-03"}
    response = client.get(reverse("inventory:utilisation_csv"), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Period start", "Period end", "Business unit", "GPU pool"]
    # Column 11 is the sample coverage, 13 the status.
    assert [(row[2], row[3], row[6], row[13]) for row in rows[1:]] == [
        ("Retail Banking", "p1", "80.0", "In the target band"),
        ("Retail Banking", "p2", "20.0", "Below the target band"),
    ]
    response = client.get(reverse("inventory:utilisation_xlsx"), params)
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 3 and values[1][8] == 144


# --- API ---------------------------------------------------------------------------------


def test_api_rows(estate, member_a):
    api = APIClient()
    api.force_authenticate(member_a)
    response = api.get(API_ROWS, {"start": "2025-06-01", "end": "2025-06-03"})
    assert response.status_code == 200
    body = response.json()
    assert (body["target_low"], body["target_high"]) == (0.7, 0.85)
    assert body["metric"].startswith("DCGM_FI_PROF_GR_ENGINE_ACTIVE")
    first = body["results"][0]
    assert first["business_unit"]["code"] == "RETAIL" and first["pool"]["name"] == "p1"
    assert first["status"] == "in_band" and first["avg_activity"] == pytest.approx(0.8)
    assert len(body["results"]) == 2
    bad = api.get(API_ROWS, {"start": "2025-06-03", "end": "2025-06-01"})
    assert bad.status_code == 400 and "end" in bad.json()


def _cost(unit=None, n=0, **fields):
    batch = IngestBatch.objects.first() or IngestBatch.objects.create(
        kind="focus", filename="x", sha256="e" * 64, status="imported"
    )
    values = {
        "batch": batch,
        "line": n + 2,
        "fingerprint": f"cost-{n}",
        "provider": "AWS",
        "month": dt.date(2025, 6, 1),
        "charge_period_start": timezone.now(),
        "charge_period_end": timezone.now(),
        "category": CostCategory.USAGE,
        "charge_category": "Usage",
        "billed_cost": Decimal("1"),
        "effective_cost": Decimal("1"),
        "currency": "USD",
        "matched_by": CostMatch.COST_TAG if unit else CostMatch.NONE,
        "business_unit": unit,
    }
    return CostRecord.objects.create(**{**values, **fields})


def test_api_costs_scoped_and_filtered(unit_a, unit_b, member_a, platform_engineer):
    mine = _cost(unit_a, 0, initiative=InitiativeFactory(business_unit=unit_a))
    _cost(unit_b, 1)
    unattributed = _cost(None, 2, category=CostCategory.IDLE_COMMITMENT)
    api = APIClient()
    api.force_authenticate(member_a)
    body = api.get(API_COSTS).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["business_unit_code"] == "RETAIL"
    assert api.get(f"{API_COSTS}{unattributed.pk}/").status_code == 404
    api.force_authenticate(platform_engineer)
    assert api.get(API_COSTS).json()["count"] == 3
    only_idle = api.get(API_COSTS, {"category": "idle_commitment"}).json()["results"]
    assert [row["id"] for row in only_idle] == [unattributed.pk]
    assert api.get(API_COSTS, {"matched_by": "none"}).json()["count"] == 1
    assert api.get(API_COSTS, {"business_unit": unit_b.pk}).json()["count"] == 1
    assert api.get(API_COSTS, {"initiative": mine.initiative_id}).json()["count"] == 1
    assert api.get(API_COSTS, {"month": "2025-07-01"}).json()["count"] == 0


# --- Query counts ----------------------------------------------------------------------------


def _usage_rows(count: int, days: int, start: int, unit) -> None:
    """``count`` allocations, each in its own pool and GPU type, with ``days`` days of usage."""
    for n in range(start, start + count):
        pool = GPUPoolFactory(name=f"qc-{n}", gpu_type=GPUTypeFactory(name=f"QC type {n}"))
        allocation = GPUAllocationFactory(pool=pool, business_unit=unit, starts_on=D1)
        for offset in range(days):
            daily(allocation, D1 + dt.timedelta(days=offset), 10, 0.5, 0.7, "12")
        now = timezone.now()
        device = GPUDevice.objects.create(
            hostname=f"h{n}", gpu="0", pool=pool, first_seen_at=now, last_seen_at=now
        )
        daily(device=device, day=D1, samples=2, avg=0.1, hours="1")


@pytest.mark.parametrize("who", ["member_a", "platform_engineer"])
def test_page_query_count_constant(client, unit_a, request, django_assert_max_num_queries, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    _usage_rows(2, 3, 0, unit_a)
    client.get(PAGE)  # warm caches
    params = {"start": "2025-06-01", "end": "2025-06-09"}
    with django_assert_max_num_queries(100) as few:
        assert client.get(PAGE, params).status_code == 200
    _usage_rows(6, 9, 100, unit_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(PAGE, params)
    assert response.content.decode().count("Below the target band") >= 8


def test_api_query_counts_constant(unit_a, platform_engineer, django_assert_max_num_queries):
    api = APIClient()
    api.force_authenticate(platform_engineer)
    _usage_rows(2, 3, 0, unit_a)
    for n in range(3):
        _cost(
            unit_a,
            n,
            initiative=InitiativeFactory(business_unit=unit_a),
            pool=GPUPoolFactory(name=f"cost-pool-{n}"),
        )
    params = {"start": "2025-06-01", "end": "2025-06-09"}
    api.get(API_ROWS, params)
    with django_assert_max_num_queries(100) as rows_few:
        assert len(api.get(API_ROWS, params).json()["results"]) == 4
    with django_assert_max_num_queries(100) as costs_few:
        assert api.get(API_COSTS).json()["count"] == 3
    _usage_rows(6, 9, 100, unit_a)
    for n in range(3, 12):
        _cost(
            unit_a,
            n,
            initiative=InitiativeFactory(business_unit=unit_a),
            pool=GPUPoolFactory(name=f"cost-pool-{n}"),
        )
    with django_assert_max_num_queries(len(rows_few.captured_queries)):
        assert len(api.get(API_ROWS, params).json()["results"]) == 16
    with django_assert_max_num_queries(len(costs_few.captured_queries)):
        assert api.get(API_COSTS).json()["count"] == 12


# --- The chart -------------------------------------------------------------------------------


def test_line_chart_is_accessible_escaped_svg():
    from xml.etree import ElementTree

    from inventory.usage.charts import line_chart

    svg = line_chart(
        title='Capacity <script>alert("x")</script>',
        labels=["2025-06-01", "2025-06-02 & more"],
        series={"capacity": [24, 24], "allocated": [12, 14], "used": [Decimal("6.17"), 4]},
    )
    assert "<script" not in svg and "style=" not in svg
    root = ElementTree.fromstring(str(svg))  # noqa: S314 - our own output
    namespace = "{http://www.w3.org/2000/svg}"
    assert root.get("role") == "img"
    assert root[0].tag == f"{namespace}title"
    assert root[0].text.startswith('Capacity <script>alert("x")</script>: 2 points')
    texts = [element.text for element in root.iter(f"{namespace}text")]
    assert "Capacity: 24 GPUs" in texts and "Used: 4 GPUs" in texts
    tooltips = [element.text for element in root.iter(f"{namespace}title")]
    assert "2025-06-01: Capacity 24 GPUs; Allocated 12 GPUs; Used 6.2 GPUs" in tooltips
    assert len(list(root.iter(f"{namespace}polyline"))) == 3


def test_initiative_gpu_summary_scoped_to_the_viewer(unit_a, unit_b, member_b):
    """A unit-B member viewing a unit-A initiative deployed to B sees only B's GPUs."""
    initiative = InitiativeFactory(business_unit=unit_a)
    own = GPUAllocationFactory(initiative=initiative, business_unit=unit_a, starts_on=D1)
    theirs = GPUAllocationFactory(initiative=initiative, business_unit=unit_b, starts_on=D1)
    daily(own, D2, 10, 0.9)
    daily(theirs, D2, 10, 0.1)
    summary = initiative_gpu_summary(initiative, user=member_b, today=D3)
    assert summary.allocations == [theirs]
    assert summary.activity[-2] == (D2, pytest.approx(0.1))
    everything = initiative_gpu_summary(initiative, today=D3)
    assert {allocation.pk for allocation in everything.allocations} == {own.pk, theirs.pk}
    assert everything.activity[-2][1] == pytest.approx(0.5)
