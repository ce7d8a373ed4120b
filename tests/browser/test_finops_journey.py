"""Journey 4 in a real browser: a platform engineer uploads a FOCUS cost file, sees the
month's chargeback by business unit, drills into one initiative, and acknowledges an idle
finding."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.choices import Role
from inventory.finops.choices import FindingKind, FindingStatus
from inventory.finops.models import Finding
from inventory.finops.services.findings import findings_scan
from inventory.usage.models import UsageDaily
from tests.browser.test_approval_journey import sign_in
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    member,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUS_SAMPLE = (
    Path(__file__).parent.parent / "inventory" / "fixtures" / "ingest" / "focus-1.2-gpu.csv"
)


def test_platform_engineer_uploads_costs_reads_chargeback_and_acknowledges_idle(
    live_server, page, console_errors
):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    support = BusinessUnitFactory(name="Customer Support", code="SUPPORT")
    member(Role.PLATFORM_ENGINEER, retail, username="pete", first_name="Pete", last_name="Ops")
    h100 = GPUTypeFactory(name="H100 80GB")
    p5 = GPUPoolFactory(
        name="aws-p5-fraud",
        gpu_type=h100,
        account="200000000011",
        commitment_id="cr-0123456789abcdef0",
        hourly_rate=Decimal("12.29"),
    )
    fraud = InitiativeFactory(reference="AI-0042", title="Card fraud scoring", business_unit=retail)
    InitiativeFactory(reference="AI-0007", title="Support triage", business_unit=support)
    GPUAllocationFactory(
        pool=p5,
        business_unit=retail,
        initiative=fraud,
        gpu_count=Decimal("8"),
        starts_on=dt.date(2025, 5, 1),
        ends_on=dt.date(2025, 6, 30),
    )
    # An allocation that has sat idle for the whole window: the scan finds it.
    today = timezone.localdate()
    idle = GPUAllocationFactory(
        pool=GPUPoolFactory(name="onprem-l4", hourly_rate=Decimal("1.10")),
        business_unit=retail,
        initiative=fraud,
        gpu_count=Decimal("2"),
        starts_on=today - dt.timedelta(days=30),
    )
    for back in range(1, 8):
        UsageDaily.objects.create(
            allocation=idle,
            day=today - dt.timedelta(days=back),
            samples=96,
            avg_activity=0.01,
            p95_activity=0.03,
            gpu_hours=Decimal("48"),
        )
    findings_scan(today=today)
    finding = Finding.objects.get(kind=FindingKind.IDLE, allocation=idle)

    # Upload the month's FOCUS export.
    sign_in(page, live_server.url, "pete")
    page.goto(f"{live_server.url}/inventory/ingest/upload/")
    page.get_by_label("File kind").select_option("focus")
    page.locator("input[type=file][name=file]").set_input_files(str(FOCUS_SAMPLE))
    page.get_by_role("button", name="Import").click()
    expect(page).to_have_url(re.compile(r"/inventory/ingest/\d+/$"))
    expect(page.locator("main")).to_contain_text("focus-1.2-gpu.csv")

    # The month's chargeback by BU: the tagged H100 hour is Retail's; everything reconciles.
    page.goto(f"{live_server.url}/inventory/chargeback/?month=2025-06")
    expect(page.get_by_role("heading", name="GPU chargeback · June 2025")).to_be_visible()
    table = page.locator("#chargeback-table")
    expect(table.locator("tr.bu-row", has_text="Retail Banking")).to_contain_text("98.32")
    expect(page.locator("#grand-total")).to_have_text("199.69")

    # Drill into Retail, then into the initiative.
    table.get_by_role("link", name="Retail Banking").click()
    expect(page.get_by_role("heading", name="Retail Banking · June 2025")).to_be_visible()
    expect(page.locator("main")).to_contain_text("aws-p5-fraud")
    page.get_by_role("link", name="AI-0042").first.click()
    expect(page).to_have_url(re.compile(rf"/initiatives/{fraud.pk}/$"))
    expect(page.locator("#gpu-panel")).to_contain_text("onprem-l4")
    expect(page.locator("#gpu-panel")).to_contain_text("Request GPUs")

    # Acknowledge the idle finding, with a reason.
    page.goto(f"{live_server.url}/inventory/findings/")
    page.get_by_role("link", name=finding.summary).click()
    page.get_by_label("Reason").fill("Model retraining paused until the new data lands in January.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messages")).to_be_visible()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACKNOWLEDGED
    assert finding.reason.startswith("Model retraining paused")
    assert console_errors == []
