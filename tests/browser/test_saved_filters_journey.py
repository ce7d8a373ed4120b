"""Saved filters and checkbox filters in a real browser (issue 19): a BU member ticks a stage
with the keyboard, the htmx filter bar narrows the list, she saves the filters under a name,
comes back to the unfiltered list, applies the saved filter and deletes it — no console
error or CSP violation on the way."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from core.models import AuditEvent, SavedFilter
from portfolio.initiatives.choices import Stage
from tests.browser.test_approval_journey import sign_in
from tests.factories import BusinessUnitFactory, InitiativeFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_member_saves_applies_and_deletes_a_filter(live_server, page, console_errors):
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    rita = member(Role.BU_MEMBER, unit, username="rita")
    InitiativeFactory(business_unit=unit, stage=Stage.PILOT, title="Claims routing pilot")
    InitiativeFactory(business_unit=unit, stage=Stage.PRODUCTION, title="Fraud scoring live")
    sign_in(page, live_server.url, "rita")
    page.goto(f"{live_server.url}/initiatives/")
    results = page.locator("#results")
    expect(results).to_contain_text("Fraud scoring live")

    # The stage filter is a group of checkboxes: reach one with the keyboard and tick it.
    stage = page.get_by_role("group", name="Stage")
    pilot = stage.get_by_role("checkbox", name="Pilot")
    pilot.focus()
    page.keyboard.press("Space")
    expect(pilot).to_be_checked()
    expect(page).to_have_url(re.compile(r"stage=pilot"))
    expect(results).not_to_contain_text("Fraud scoring live")
    expect(results).to_contain_text("Claims routing pilot")

    # Save the filters now shown (the form's query followed the htmx filter bar).
    page.get_by_label("Save these filters as").fill("My pilots")
    page.get_by_label("Save these filters as").press("Enter")
    saved_list = page.locator("#saved-filter-list")
    expect(saved_list.get_by_role("link", name="My pilots")).to_be_visible()
    saved = SavedFilter.objects.get(user=rita)
    assert (saved.path, saved.query) == ("/initiatives/", "stage=pilot")

    # Back on the whole list, the saved filter shows beside the filters; apply it.
    page.goto(f"{live_server.url}/initiatives/")
    expect(results).to_contain_text("Fraud scoring live")
    page.locator("#saved-filter-list").get_by_role("link", name="My pilots").click()
    expect(page).to_have_url(re.compile(r"/initiatives/\?stage=pilot$"))
    applied = page.get_by_role("group", name="Stage").get_by_role("checkbox", name="Pilot")
    expect(applied).to_be_checked()
    expect(results).not_to_contain_text("Fraud scoring live")

    # Delete it.
    page.get_by_role("button", name="Delete the saved filter My pilots").click()
    expect(page.locator("#saved-filter-list").get_by_role("link", name="My pilots")).to_have_count(
        0
    )
    assert not SavedFilter.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__startswith="saved_filter.")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["saved_filter.created", "saved_filter.deleted"]
    assert console_errors == []
