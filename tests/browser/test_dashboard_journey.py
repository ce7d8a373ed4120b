"""Journey 3 in a real browser: an executive opens the dashboard, narrows it to one business
unit, drills into that unit's overdue approvals, asks for the board pack, watches the
progress (htmx polling) finish and downloads the PDF."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.choices import Role
from governance.approvals.models import ApprovalRequest
from governance.reporting import services as reports
from governance.reporting.choices import ReportStatus
from governance.reporting.models import ReportFile
from tests.browser.menu import menu_link
from tests.browser.test_approval_journey import sign_in
from tests.factories import BusinessUnitFactory, InitiativeFactory, member
from tests.governance.helpers import submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def overdue_request(unit, owner, title):
    request = submitted(unit, owner, title=title)
    ApprovalRequest.objects.filter(pk=request.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=5)
    )
    return request


def test_executive_reads_the_dashboard_and_downloads_the_board_pack(
    live_server, page, console_errors, queued_tasks_wait
):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    insurance = BusinessUnitFactory(name="Insurance", code="INS")
    member(Role.EXECUTIVE, retail, username="evelyn", first_name="Evelyn", last_name="Carter")
    rita = member(Role.BU_MEMBER, retail, username="rita")
    ian = member(Role.BU_MEMBER, insurance, username="ian")
    overdue_request(retail, rita, "Mortgage document triage")
    overdue_request(insurance, ian, "Claims photo assessment")
    submitted(retail, rita, title="Branch staffing forecast")  # in flight, not overdue
    for stage in ("proposed", "pilot", "production"):
        InitiativeFactory(business_unit=retail, accountable_owner=rita, stage=stage)
        InitiativeFactory(business_unit=insurance, accountable_owner=ian, stage=stage)

    # 1. The whole organisation: both units' overdue requests.
    sign_in(page, live_server.url, "evelyn")
    menu_link(page, "Reports", "Dashboard").click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("dashboard")
    overdue = page.locator("#figure-overdue")
    expect(overdue).to_contain_text("2")
    for key in ("funnel", "scaling", "risk-mix", "approvals", "gpu-spend", "roadmap"):
        expect(page.locator(f"#panel-{key}")).to_be_visible()
    expect(page.locator("#panel-funnel svg[role=figure] title").first).to_be_attached()

    # 2. Narrowed to Retail Banking (htmx swaps the panels and the address follows).
    filters = page.locator("#dashboard-filters")
    filters.locator("select[name=business_unit]").select_option(label="Retail Banking")
    if filters.get_by_role("button", name=re.compile("Apply|Show|Filter")).count():
        filters.get_by_role("button", name=re.compile("Apply|Show|Filter")).click()
    expect(page).to_have_url(re.compile(rf"business_unit={retail.pk}"))
    expect(overdue).to_contain_text("1")

    # 3. Drill into the overdue approvals: only Retail's overdue request is listed.
    overdue.click()
    expect(page).to_have_url(re.compile(r"/governance/approvals/\?.*overdue=true"))
    expect(page).to_have_url(re.compile(rf"business_unit={retail.pk}"))
    results = page.locator("#results")
    expect(results).to_contain_text("Mortgage document triage")
    expect(results).not_to_contain_text("Claims photo assessment")
    expect(results).not_to_contain_text("Branch staffing forecast")

    # 4. Back on the dashboard, ask for the board pack of Retail Banking.
    page.go_back()
    expect(page).to_have_url(re.compile(rf"/dashboard/\?.*business_unit={retail.pk}"))
    page.locator("#board-pack-form").get_by_role("button").click()
    expect(page).to_have_url(re.compile(r"/dashboard/reports/\d+/$"))
    report = ReportFile.objects.get()
    assert report.business_unit == retail
    assert report.status == ReportStatus.QUEUED
    status = page.locator("#report-status")
    expect(status.get_by_role("heading", level=2)).to_have_text("Queued")
    expect(page.locator("#report-progress")).to_have_attribute("value", "0")
    with page.expect_response(lambda response: f"/dashboard/reports/{report.pk}/" in response.url):
        pass  # the page polls while the report is queued

    # 5. The worker builds it; the polling page shows the download link.
    reports.report_build(report.pk)
    download_link = page.locator("#report-download")
    expect(download_link).to_be_visible(timeout=15_000)
    expect(status.get_by_role("heading", level=2)).to_have_text("Ready")
    expect(page.locator("#report-progress")).to_have_attribute("value", "100")
    expect(status).not_to_have_attribute("hx-trigger", re.compile("every"))
    with page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # 6. The report is listed, with its filters.
    page.goto(f"{live_server.url}/dashboard/reports/")
    expect(page.get_by_role("row", name=re.compile("Retail Banking"))).to_contain_text("Ready")
    assert console_errors == []
