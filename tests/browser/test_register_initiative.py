"""A BU member registers an initiative in a real browser and finds it with the htmx search."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from tests.browser.menu import menu_link
from tests.factories import PASSWORD, BusinessUnitFactory, InitiativeFactory, UserFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Claims triage assistant"


def test_member_registers_initiative_and_finds_it(live_server, page, console_errors):
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    other_unit = BusinessUnitFactory(name="Insurance", code="INSURE")
    alice = member(Role.BU_MEMBER, unit, username="alice", first_name="Alice", last_name="Ng")
    owner = member(Role.BU_MEMBER, unit, username="omar", first_name="Omar", last_name="Haddad")
    UserFactory(username="zed", first_name="Zed", last_name="Inactive", is_active=False)
    InitiativeFactory(title="Fraud scoring", business_unit=unit, accountable_owner=alice)
    InitiativeFactory(title="Hidden elsewhere", business_unit=other_unit, accountable_owner=owner)

    # Sign in through the login form.
    page.goto(f"{live_server.url}/initiatives/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/initiatives/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/initiatives/")
    results = page.locator("#results")
    expect(results).to_contain_text("Fraud scoring")
    expect(results).not_to_contain_text("Hidden elsewhere")  # another unit's initiative

    # Register the initiative.
    page.get_by_role("link", name="Register initiative").click()
    expect(page.get_by_role("heading", name="Register an AI initiative")).to_be_visible()
    page.get_by_label("Title").fill(TITLE)
    unit_select = page.get_by_label("Owning business unit")
    expect(unit_select.locator("option")).to_have_text(["---------", "Retail Banking"])
    unit_select.select_option(label="Retail Banking")
    page.get_by_label("Accountable owner").select_option(label="Omar Haddad (omar)")
    page.get_by_role("button", name="Register").click()

    # The detail page of AI-0001.
    expect(page).to_have_url(re.compile(r"/initiatives/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"AI-0001 · {TITLE}")
    expect(page.get_by_role("status")).to_contain_text("AI-0001 registered.")
    expect(page.locator("dl.facts").first).to_contain_text("Omar Haddad")

    # Back to the list, and search with htmx: the results swap in place, no page load.
    menu_link(page, "Portfolio", "Initiatives").click()
    expect(page).to_have_url(f"{live_server.url}/initiatives/")
    expect(results).to_contain_text("Fraud scoring")
    expect(results).to_contain_text(TITLE)
    page.evaluate("window.keelSamePage = true")

    def is_search(response):
        request = response.request
        return "/initiatives/?" in response.url and request.headers.get("hx-request") == "true"

    with page.expect_response(is_search) as searched:
        page.get_by_label("Search").fill("triage")
    response = searched.value
    assert response.ok
    assert "q=triage" in response.url
    assert "<html" not in response.text()  # only the results partial came back

    expect(page).to_have_url(re.compile(r"/initiatives/\?(.*&)?q=triage(&|$)"))
    expect(results).not_to_contain_text("Fraud scoring")
    row = results.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("AI-0001")
    expect(row).to_contain_text("Draft")
    assert page.evaluate("window.keelSamePage") is True  # no full reload happened

    assert console_errors == []
