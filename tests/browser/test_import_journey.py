"""Journey 5 in a real browser: a CoE admin uploads an inventory spreadsheet, maps the one
column Keel could not guess, reads the dry run's rejected row, confirms, watches the progress
bar (htmx polling) reach 100 % and finds the imported initiatives."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from governance.imports import services as import_services
from governance.imports.choices import ImportStatus
from governance.imports.models import ImportJob
from portfolio.initiatives.models import Initiative
from tests.browser.test_approval_journey import sign_in
from tests.factories import BusinessUnitFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# "Lead person" is a header no preset knows: it must be mapped by hand. Line 4's stage is in
# no synonym table: the dry run rejects it.
CSV = (
    "Use Case Name,Agency,Stage of Development,Lead person,Date Initiated\n"
    "Benefits eligibility chatbot,RETAIL,Operation and Maintenance,dana,10/1/2023\n"
    "Claims fraud triage,Retail Banking,Implementation and Assessment,Zed Unknown,2023-10-01\n"
    "Dream machine,RETAIL,Dreaming,dana,Oct 2023\n"
)


def test_coe_admin_imports_a_spreadsheet(
    live_server, page, console_errors, tmp_path, queued_tasks_wait
):
    retail = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    member(Role.COE_ADMIN, retail, username="dana", first_name="Dana", last_name="Park")
    spreadsheet = tmp_path / "agency-inventory.csv"
    spreadsheet.write_text(CSV, encoding="utf-8")

    sign_in(page, live_server.url, "dana")
    page.goto(f"{live_server.url}/governance/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inventory imports")
    page.get_by_role("link", name="Import a spreadsheet").click()

    # 1. Upload.
    page.get_by_label("Inventory file").set_input_files(spreadsheet)
    page.get_by_label("Format").select_option("us-federal-2024")
    page.get_by_role("button", name="Upload and map the columns").click()
    expect(page).to_have_url(re.compile(r"/governance/imports/\d+/mapping/$"))
    job = ImportJob.objects.get()

    # 2. The mapping: suggested from the headers, "Lead person" left unmapped; map it by hand.
    expect(page.get_by_label("Keel field for Use Case Name")).to_have_value("title")
    expect(page.get_by_label("Keel field for Stage of Development")).to_have_value("stage")
    lead = page.get_by_label("Keel field for Lead person")
    expect(lead).to_have_value("")
    expect(page.get_by_role("row", name=re.compile("Lead person"))).to_contain_text("Zed Unknown")
    lead.select_option("accountable_owner")
    page.get_by_role("button", name="Run the dry run").click()

    # 3. The dry run: two rows to create, line 4 rejected with its reason, nothing written.
    expect(page).to_have_url(f"{live_server.url}/governance/imports/{job.pk}/preview/")
    counts = page.locator("#import-counts")
    expect(counts).to_contain_text("To create")
    rejected = page.locator("#import-rejected")
    expect(rejected).to_contain_text("1 rejected row")
    expect(rejected.get_by_role("row", name=re.compile("Line 4"))).to_contain_text(
        "unknown stage 'Dreaming'"
    )
    expect(page.locator("#import-warnings")).to_contain_text("'Zed Unknown' is not a Keel user")
    assert Initiative.objects.count() == 0
    page.get_by_role("button", name="Confirm and import 2 rows").click()

    # 4. Queued: the page polls its progress partial; the worker's run fills the bar.
    expect(page).to_have_url(f"{live_server.url}/governance/imports/{job.pk}/")
    progress = page.locator("#import-progress")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Queued")
    bar = progress.get_by_role("progressbar")
    expect(bar).to_have_attribute("value", "0")
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
    with page.expect_response(lambda response: "/progress/" in response.url):
        pass  # at least one poll happens while queued
    import_services.import_job_run(job.pk)
    expect(bar).to_have_attribute("value", "100")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Imported")
    expect(progress).to_contain_text("3 of 3 rows (100 %)")
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"))
    imported = page.locator("#imported-initiatives")
    expect(imported.get_by_role("link")).to_have_count(2)
    expect(imported).to_contain_text("Benefits eligibility chatbot")
    expect(imported).to_contain_text("Claims fraud triage")

    # 5. The imported initiatives are in the register.
    progress.get_by_role("link", name="All initiatives").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initiatives")
    expect(
        page.get_by_role("link", name=re.compile("Benefits eligibility chatbot"))
    ).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Claims fraud triage"))).to_be_visible()
    expect(page.get_by_text("Dream machine")).to_have_count(0)

    # The history shows the import with its file hash.
    page.goto(f"{live_server.url}/governance/imports/")
    row = page.locator("#results tbody tr").filter(has_text="agency-inventory.csv")
    expect(row).to_contain_text("Imported")
    expect(row).to_contain_text("Dana Park")
    job.refresh_from_db()
    expect(row.locator("code")).to_have_attribute("title", job.sha256)
    assert console_errors == []
