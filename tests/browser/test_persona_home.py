"""Each persona's home page and the global search in a real browser (strict CSP: any inline
script or style would show up as a console error)."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.choices import Role
from governance.approvals.models import ApprovalRequest
from portfolio.initiatives.choices import Stage
from tests.browser.menu import menu_link
from tests.browser.test_approval_journey import sign_in
from tests.factories import BusinessUnitFactory, InitiativeFactory, member
from tests.governance.helpers import submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def retail(db):
    return BusinessUnitFactory(name="Retail Banking", code="RETAIL")


def test_executive_home_shows_the_dashboard_headline(live_server, page, console_errors, retail):
    member(Role.EXECUTIVE, retail, username="evelyn")
    for stage in (Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION):
        InitiativeFactory(business_unit=retail, stage=stage)
    sign_in(page, live_server.url, "evelyn")
    page.goto(f"{live_server.url}/")
    headline = page.locator("section.home-headline")
    expect(headline.get_by_role("heading", name="Portfolio headline")).to_be_visible()
    expect(headline.locator("#figure-initiatives")).to_contain_text("3")
    headline.locator("#figure-initiatives").click()
    expect(page).to_have_url(re.compile(r"/initiatives/"))
    expect(menu_link(page, "Reports", "Dashboard")).to_be_visible()
    assert console_errors == []


def test_coe_reviewer_home_shows_the_queue_and_overdue_sla(
    live_server, page, console_errors, retail
):
    member(Role.COE_REVIEWER, retail, username="carol")
    rita = member(Role.BU_MEMBER, retail, username="rita")
    late = submitted(retail, rita, title="Mortgage document triage")
    ApprovalRequest.objects.filter(pk=late.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=5)
    )
    submitted(retail, rita, title="Branch staffing forecast")
    sign_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/")
    queue = page.locator("section.home-queue")
    expect(queue.get_by_role("heading", name="Awaiting your decision")).to_be_visible()
    expect(queue.locator("#queue-total")).to_contain_text("2")
    expect(queue.locator("#queue-overdue")).to_contain_text("1")
    row = queue.locator("tr.overdue")
    expect(row).to_contain_text("Mortgage document triage")
    expect(row).to_contain_text("overdue")
    row.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/governance/requests/{late.pk}/")
    assert console_errors == []


def test_bu_member_home_shows_drafts_and_requests_in_review(
    live_server, page, console_errors, retail
):
    rita = member(Role.BU_MEMBER, retail, username="rita")
    draft = InitiativeFactory(
        business_unit=retail, accountable_owner=rita, stage=Stage.DRAFT, title="Card fraud alerts"
    )
    submitted(retail, rita, title="Branch staffing forecast")
    sign_in(page, live_server.url, "rita")
    page.goto(f"{live_server.url}/")
    waiting = page.locator("section.home-member")
    expect(waiting.get_by_role("heading", name="Waiting on you")).to_be_visible()
    expect(waiting).to_contain_text("With the reviewers")
    expect(waiting).to_contain_text("Branch staffing forecast")
    expect(page.locator("section.home-headline")).to_have_count(0)
    waiting.get_by_role("link", name=re.compile("Card fraud alerts")).click()
    expect(page).to_have_url(f"{live_server.url}/initiatives/register/{draft.pk}/")
    # The menu offers a BU member their units' dashboard (issue 19), not the headline at home.
    page.get_by_role("navigation", name="Main").locator("summary", has_text="Reports").click()
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.get_by_role("heading", name="Business unit dashboard", level=1)).to_be_visible()
    assert console_errors == []


def test_global_search_with_the_slash_shortcut(live_server, page, console_errors, retail):
    rita = member(Role.BU_MEMBER, retail, username="rita")
    target = InitiativeFactory(
        business_unit=retail, accountable_owner=rita, title="Lighthouse claims triage"
    )
    InitiativeFactory(business_unit=retail, title="Lighthouse branch footfall")
    sign_in(page, live_server.url, "rita")
    page.goto(f"{live_server.url}/")
    box = page.locator("#global-search")
    expect(box).not_to_be_focused()
    page.locator("body").press("/")
    expect(box).to_be_focused()
    page.keyboard.type("lighthouse")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=lighthouse"))
    initiatives = page.locator("#results-initiatives")
    expect(initiatives.get_by_role("link")).to_have_count(2)
    expect(page.locator("#results-models")).to_contain_text("No matches.")
    # "/" inside a text field types a slash, not a jump
    page.locator("#search-page-q").fill("a/b")
    expect(page.locator("#search-page-q")).to_have_value("a/b")
    # An exact reference opens the initiative itself (the header's box, its text replaced).
    page.get_by_role("heading", level=1).click()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type(target.reference)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/initiatives/{target.pk}/")
    assert console_errors == []
