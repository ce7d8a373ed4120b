"""A gate approval in a real browser: a BU member submits a Tier 2 initiative for the pilot
gate, a CoE reviewer finds it in the approvals queue and approves it through htmx, the
initiative reaches the pilot stage and the member is notified."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from governance.approvals import policies
from governance.approvals.models import ApprovalRequest
from governance.risk import controls, services
from tests.browser.menu import menu_link
from tests.factories import PASSWORD, BusinessUnitFactory, member
from tests.governance.helpers import TIER_2, assessed, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Claims routing assistant"


def sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Keel")).to_be_visible()


def test_member_submits_reviewer_approves_member_is_notified(live_server, page, console_errors):
    # A transactional test starts from whatever earlier ones left: make sure the control
    # library and the approval policies exist (both idempotent).
    services.library_install_defaults()
    policies.policies_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    alice = member(Role.BU_MEMBER, unit, username="alice", first_name="Alice", last_name="Ng")
    member(Role.COE_REVIEWER, unit, username="carol", first_name="Carol", last_name="Reyes")
    initiative = assessed(unit, alice, TIER_2, title=TITLE)
    assert controls.gate_blockers(initiative, "pilot") == []

    # The BU member submits for the pilot gate from the initiative's risk panel.
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}{initiative.get_absolute_url()}")
    panel = page.locator("#risk-panel")
    expect(panel).to_contain_text("Tier 2")
    panel.get_by_role("button", name="Submit for the Pilot gate").click()
    expect(page).to_have_url(re.compile(r"/governance/requests/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Submitted for the Pilot gate.")
    decision = page.locator("#decision")
    expect(decision).to_contain_text("Pending")
    expect(decision).to_contain_text("You submitted this request, so you cannot decide on it.")
    expect(decision.get_by_role("button", name="Approve")).to_have_count(0)
    approval = ApprovalRequest.objects.get(initiative=initiative)
    sign_out(page)

    # The CoE reviewer finds it in the queue and approves it in place (htmx).
    sign_in(page, live_server.url, "carol")
    menu_link(page, "Governance", "Approvals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approvals")
    row = page.locator("#results tbody tr").filter(has_text=TITLE)
    expect(row).to_contain_text("CoE review")
    expect(row).to_contain_text("Alice Ng")
    row.get_by_role("link", name=re.compile(TITLE)).click()
    expect(page).to_have_url(f"{live_server.url}/governance/requests/{approval.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.locator("#initiative-stage")).to_have_text("Proposed")

    page.evaluate("window.keelSamePage = true")
    decision = page.locator("#decision")
    with page.expect_response(lambda response: "/decide/" in response.url) as decided:
        decision.get_by_label("Comment").fill("Sound pilot plan.")
        decision.get_by_role("button", name="Approve").click()
    assert decided.value.ok
    assert "<html" not in decided.value.text()  # only the decision partial came back
    expect(decision).to_contain_text("You chose “Approve” on CoE review.")
    expect(decision.locator(".badge.request-approved")).to_have_text("Approved")
    expect(page.locator("#initiative-stage")).to_have_text("Pilot")
    assert page.evaluate("window.keelSamePage") is True  # no page load happened

    # The initiative's own page shows the pilot stage too.
    page.goto(f"{live_server.url}{initiative.get_absolute_url()}")
    expect(page.locator(".badge-pilot").first).to_have_text("Pilot")
    sign_out(page)

    # The BU member is notified.
    sign_in(page, live_server.url, "alice")
    bell = page.locator("a.bell")
    expect(bell.locator(".count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator("main")).to_contain_text(f"Approved: {initiative.reference} · Pilot gate")
    assert console_errors == []


def test_a_refused_decision_is_shown_in_place(live_server, page):
    """A reviewer who lost their role after the page loaded sees why (403) where the
    buttons were, not a silent failure."""
    services.library_install_defaults()
    policies.policies_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    alice = member(Role.BU_MEMBER, unit, username="alice")
    carol = member(Role.COE_REVIEWER, unit, username="carol")
    approval = submitted(unit, alice, answers=TIER_2)

    sign_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}{approval.get_absolute_url()}")
    decision = page.locator("#decision")
    expect(decision.get_by_role("button", name="Approve")).to_be_visible()
    carol.memberships.update(role=Role.BU_MEMBER)
    with page.expect_response(lambda response: "/decide/" in response.url) as refused:
        decision.get_by_role("button", name="Approve").click()
    assert refused.value.status == 403
    expect(decision.get_by_role("alert")).to_contain_text(
        "Not allowed: This step needs CoE reviewer."
    )
    expect(decision.get_by_role("button", name="Approve")).to_have_count(0)
    approval.refresh_from_db()
    assert approval.status == "pending"
