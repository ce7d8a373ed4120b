"""Chargeback and findings pages, exports and API: scoping, actions, constant query counts."""

import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from core.models import AuditEvent
from inventory.finops.choices import ChargebackStatus, FindingKind, FindingStatus, IdleSharePolicy
from inventory.finops.models import ChargebackMonth, Finding
from inventory.finops.services.chargeback import chargeback_close, chargeback_compute
from inventory.finops.services.findings import findings_scan
from portfolio.initiatives.choices import Stage
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
)
from tests.inventory.finops.test_chargeback import MARCH, cost

pytestmark = pytest.mark.django_db

FEW, MANY = 2, 6


def url(name, *args):
    return reverse(f"inventory:{name}", args=args)


@pytest.fixture
def two_units(unit_a, unit_b):
    """A month with direct cost in both units and idle cost to share."""
    pool = GPUPoolFactory(name="shared", hourly_rate=Decimal("2.00"))
    a = GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        initiative=InitiativeFactory(business_unit=unit_a, stage=Stage.PILOT, title="Alpha"),
        starts_on=datetime.date(2025, 1, 1),
    )
    b = GPUAllocationFactory(
        pool=pool,
        business_unit=unit_b,
        initiative=InitiativeFactory(business_unit=unit_b, stage=Stage.PILOT, title="Beta"),
        starts_on=datetime.date(2025, 1, 1),
    )
    cost("300.00", allocation=a)
    cost("700.00", allocation=b)
    cost("100.00", category="idle_commitment", pool=pool)
    chargeback_compute(month=MARCH, policy=IdleSharePolicy.PROPORTIONAL)
    return {"a": a, "b": b, "pool": pool}


def test_chargeback_page_for_platform_engineer(client, platform_engineer, two_units):
    client.force_login(platform_engineer)
    response = client.get(url("chargeback"), {"month": "2025-03"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Retail Banking" in body and "Insurance" in body
    assert 'id="grand-total">1,100.00<' in body
    assert "Close month" in body and "Recompute" in body


def test_get_never_computes(client, platform_engineer):
    client.force_login(platform_engineer)
    response = client.get(url("chargeback"), {"month": "2025-02"})
    assert response.status_code == 200
    assert "has not been computed" in response.content.decode()
    assert not ChargebackMonth.objects.exists()


def test_bu_user_sees_only_own_unit(client, member_a, unit_b, two_units):
    client.force_login(member_a)
    body = client.get(url("chargeback"), {"month": "2025-03"}).content.decode()
    assert "Retail Banking" in body
    assert "Insurance" not in body
    assert "grand-total" not in body
    assert "Recompute" not in body
    assert client.get(url("chargeback_bu", "2025-03", unit_b.pk)).status_code == 404
    assert client.get(url("chargeback_bu", "2025-03", 999999)).status_code == 404
    csv_text = b"".join(client.get(url("chargeback_csv", "2025-03")).streaming_content).decode()
    assert "RETAIL" in csv_text and "INSURE" not in csv_text
    # Writes are refused.
    assert client.post(url("chargeback_compute", "2025-03"), {"policy": "even"}).status_code == 403
    assert client.post(url("chargeback_close", "2025-03")).status_code == 403


def test_drilldown_page(client, member_a, unit_a, two_units):
    client.force_login(member_a)
    response = client.get(url("chargeback_bu", "2025-03", unit_a.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alpha" in body
    assert 'id="bu-total">330.00<' in body  # 300 direct + 30 idle share (300 : 700)


def test_exports_content(client, platform_engineer, two_units):
    client.force_login(platform_engineer)
    response = client.get(url("chargeback_csv", "2025-03"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("Month,Business unit,Kind,Source")
    assert len(lines) == 1 + 4  # 2 direct + 2 idle shares
    assert any(line.startswith("2025-03,RETAIL,Direct cost") and "300.0" in line for line in lines)

    response = client.get(url("chargeback_xlsx", "2025-03"))
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Month"
    amounts = sorted(row[8] for row in rows[1:])
    assert amounts == [30.0, 70.0, 300.0, 700.0]
    assert client.get(url("chargeback_csv", "2024-01")).status_code == 404


def test_the_running_month_offers_no_close_and_refuses_one(client, platform_engineer):
    client.force_login(platform_engineer)
    running = timezone.localdate().replace(day=1)
    month = f"{running:%Y-%m}"
    client.post(url("chargeback_compute", month), {"policy": "separate"})
    body = client.get(url("chargeback"), {"month": month}).content.decode()
    assert "Recompute" in body and "Close month" not in body
    assert "can be closed once it has ended" in body
    response = client.post(url("chargeback_close", month), follow=True)
    assert "can be closed once the month has ended" in response.content.decode()
    assert ChargebackMonth.objects.get(month=running).status == ChargebackStatus.OPEN
    api = client.post(f"/api/v1/chargeback/{month}/close/")
    assert api.status_code == 409 and "once the month has ended" in api.json()["detail"]


def test_compute_close_reopen_through_the_page(client, platform_engineer, two_units):
    client.force_login(platform_engineer)
    response = client.post(url("chargeback_compute", "2025-03"), {"policy": "separate"})
    assert response.status_code == 302
    assert ChargebackMonth.objects.get().policy == "separate"
    client.post(url("chargeback_close", "2025-03"))
    assert ChargebackMonth.objects.get().status == ChargebackStatus.CLOSED
    body = client.get(url("chargeback"), {"month": "2025-03"}).content.decode()
    assert "Reopen" in body and "Close month" not in body

    response = client.post(url("chargeback_compute", "2025-03"), {"policy": "even"}, follow=True)
    assert "is closed" in response.content.decode()
    assert ChargebackMonth.objects.get().policy == "separate"

    client.post(url("chargeback_reopen", "2025-03"), {"reason": ""})
    assert ChargebackMonth.objects.get().status == ChargebackStatus.CLOSED
    client.post(url("chargeback_reopen", "2025-03"), {"reason": "Credit note arrived"})
    assert ChargebackMonth.objects.get().status == ChargebackStatus.OPEN
    assert AuditEvent.objects.filter(
        action="chargeback.reopened", reason="Credit note arrived"
    ).exists()


# --- Findings pages -------------------------------------------------------------------------


@pytest.fixture
def orphan_finding(unit_a):
    GPUAllocationFactory(business_unit=unit_a, initiative=None, requested_by=UserFactory())
    findings_scan()
    return Finding.objects.get(kind=FindingKind.ORPHANED)


def test_finding_list_and_actions(client, member_a, member_b, orphan_finding):
    client.force_login(member_a)
    assert client.get(url("finding_list")).status_code == 302
    body = client.get(url("finding_list"), {"status": "active"}).content.decode()
    assert orphan_finding.summary in body

    address = url("finding_acknowledge", orphan_finding.pk)
    response = client.post(address, {"reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    orphan_finding.refresh_from_db()
    assert orphan_finding.status == FindingStatus.OPEN

    response = client.post(address, {"reason": "Moving to a new initiative"})
    assert response.status_code == 302
    orphan_finding.refresh_from_db()
    assert orphan_finding.status == FindingStatus.ACKNOWLEDGED

    response = client.post(address, {"reason": "again"}, follow=True)
    assert "already acknowledged" in response.content.decode()

    client.force_login(member_b)
    assert client.get(url("finding_detail", orphan_finding.pk)).status_code == 404
    assert (
        client.post(url("finding_resolve", orphan_finding.pk), {"reason": "x"}).status_code == 404
    )
    assert (
        orphan_finding.summary
        not in client.get(url("finding_list"), {"status": "active"}).content.decode()
    )


def test_scan_on_demand_only_for_platform(client, member_a, platform_engineer, unit_a):
    GPUAllocationFactory(business_unit=unit_a, initiative=None)
    client.force_login(member_a)
    assert client.post(url("findings_scan")).status_code == 403
    client.force_login(platform_engineer)
    assert client.post(url("findings_scan")).status_code == 302
    assert Finding.objects.filter(kind=FindingKind.ORPHANED).count() == 1


# --- API ------------------------------------------------------------------------------------


def test_api_findings_actions(client, member_a, member_b, orphan_finding):
    client.force_login(member_a)
    listing = client.get("/api/v1/gpu-findings/", {"kind": "orphaned"}).json()
    assert [row["id"] for row in listing["results"]] == [orphan_finding.pk]
    address = f"/api/v1/gpu-findings/{orphan_finding.pk}/resolve/"
    response = client.post(address, {"reason": ""}, content_type="application/json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(address, {"reason": "Ended it"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    response = client.post(address, {"reason": "Again"}, content_type="application/json")
    assert response.status_code == 409
    client.force_login(member_b)
    assert client.get(f"/api/v1/gpu-findings/{orphan_finding.pk}/").status_code == 404


def test_api_chargeback(client, platform_engineer, member_a, two_units):
    client.force_login(member_a)
    body = client.get("/api/v1/chargeback/2025-03/").json()
    assert [row["business_unit_code"] for row in body["business_units"]] == ["RETAIL"]
    assert "grand_total" not in body
    assert client.post("/api/v1/chargeback/2025-03/close/").status_code == 403

    client.force_login(platform_engineer)
    body = client.get("/api/v1/chargeback/2025-03/").json()
    assert Decimal(body["grand_total"]) == Decimal("1100")
    assert Decimal(body["reconciliation"]["expected_total"]) == Decimal("1100")
    body = client.post(
        "/api/v1/chargeback/2025-03/compute/", {"policy": "even"}, content_type="application/json"
    ).json()
    assert body["policy"] == "even"
    assert client.post("/api/v1/chargeback/2025-03/close/").json()["status"] == "closed"
    assert client.post("/api/v1/chargeback/2025-03/compute/").status_code == 409
    response = client.post(
        "/api/v1/chargeback/2025-03/reopen/", {"reason": "Late"}, content_type="application/json"
    )
    assert response.json()["status"] == "open"
    assert client.get("/api/v1/chargeback/").json()["results"][0]["month"] == "2025-03"


# --- Constant query counts -----------------------------------------------------------------


def make_costed_allocations(count, *, start=0, business_unit=None):
    """Allocations each with its own unit (unless given), initiative, pool and GPU type; half
    with imported cost, half rate-based; plus an orphaned one's cost."""
    for n in range(start, start + count):
        unit = business_unit or BusinessUnitFactory(name=f"Counted unit {n}", code=f"CU{n}")
        pool = GPUPoolFactory(
            name=f"counted-pool-{n}", gpu_type=GPUTypeFactory(name=f"Counted GPU {n}")
        )
        allocation = GPUAllocationFactory(
            pool=pool,
            business_unit=unit,
            initiative=InitiativeFactory(business_unit=unit, stage=Stage.PILOT),
            starts_on=datetime.date(2025, 1, 1),
        )
        if n % 2:
            cost("10.00", allocation=allocation)
        orphan = GPUAllocationFactory(
            pool=pool, business_unit=unit, starts_on=datetime.date(2025, 1, 1)
        )
        cost("5.00", allocation=orphan)
        cost("1.00", category="idle_commitment", pool=pool)


def _measure(client, address, params, django_assert_max_num_queries, grow):
    client.get(address, params)
    with django_assert_max_num_queries(1000) as few:
        response = client.get(address, params)
    assert response.status_code == 200
    grow()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(address, params)
    assert response.status_code == 200
    return response


def test_chargeback_page_query_count_constant(
    client, platform_engineer, django_assert_max_num_queries
):
    client.force_login(platform_engineer)
    make_costed_allocations(FEW)
    chargeback_compute(month=MARCH)

    def grow():
        make_costed_allocations(MANY - FEW, start=FEW)
        chargeback_compute(month=MARCH)

    response = _measure(
        client, url("chargeback"), {"month": "2025-03"}, django_assert_max_num_queries, grow
    )
    assert response.content.decode().count('class="bu-row"') == MANY


def test_drilldown_query_count_constant(client, member_a, unit_a, django_assert_max_num_queries):
    client.force_login(member_a)
    make_costed_allocations(FEW, business_unit=unit_a)
    chargeback_compute(month=MARCH)

    def grow():
        make_costed_allocations(MANY - FEW, start=FEW, business_unit=unit_a)
        chargeback_compute(month=MARCH)

    response = _measure(
        client, url("chargeback_bu", "2025-03", unit_a.pk), {}, django_assert_max_num_queries, grow
    )
    assert response.content.decode().count('class="card initiative-group"') == MANY + 1


def test_findings_list_query_count_constant(
    client, platform_engineer, django_assert_max_num_queries
):
    client.force_login(platform_engineer)
    make_costed_allocations(FEW)
    findings_scan()

    def grow():
        make_costed_allocations(MANY - FEW, start=FEW)
        findings_scan()

    response = _measure(
        client, url("finding_list"), {"status": "active"}, django_assert_max_num_queries, grow
    )
    assert response.content.decode().count('class="finding-row"') == MANY


@pytest.mark.parametrize("address", ["/api/v1/gpu-findings/", "/api/v1/chargeback/2025-03/"])
def test_api_query_counts_constant(
    client, platform_engineer, django_assert_max_num_queries, address
):
    client.force_login(platform_engineer)
    make_costed_allocations(FEW)
    findings_scan()
    chargeback_compute(month=MARCH)

    def grow():
        make_costed_allocations(MANY - FEW, start=FEW)
        findings_scan()
        chargeback_compute(month=MARCH)

    _measure(client, address, {}, django_assert_max_num_queries, grow)


def test_closed_month_page_shows_frozen_figures(client, platform_engineer, two_units):
    chargeback_close(actor=platform_engineer, month=MARCH)
    cost("999.00", allocation=two_units["a"])
    client.force_login(platform_engineer)
    body = client.get(url("chargeback"), {"month": "2025-03"}).content.decode()
    assert 'id="grand-total">1,100.00<' in body
