"""Accessibility in a real browser: axe-core finds no serious or critical violation on the
main pages (login, each persona's home, dashboard, initiatives list and detail, the
registration wizard, the approvals queue, the governance library).

axe-core is the copy bundled by the ``axe-playwright-python`` package (a kept, versioned
file; nothing is fetched from a CDN and the app never serves it)."""

from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import expect

from core import services as core_services
from core.choices import Role
from governance.risk import library, services
from portfolio.initiatives.choices import Stage
from tests.browser.test_approval_journey import sign_in
from tests.factories import BusinessUnitFactory, InitiativeFactory, member
from tests.governance.helpers import assessed, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


@pytest.fixture
def page(browser):
    # Keel's strict CSP forbids inline scripts, and axe is injected as one: this context
    # bypasses the CSP for the audit only (the other browser tests keep it and fail on any
    # CSP violation of the app itself).
    context = browser.new_context(
        locale="en-GB", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def blocking_violations(page) -> list[str]:
    """The serious and critical axe violations of ``page``, one line per rule and node."""
    page.wait_for_load_state("networkidle")
    page.add_script_tag(content=AXE_SOURCE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> {node['target']}"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def audit(page, url, shows: str = ""):
    response = page.goto(url)
    assert response.ok, f"{url} answered {response.status}"
    if shows:
        expect(page.locator("main")).to_contain_text(shows)
    found = blocking_violations(page)
    assert found == [], f"{url}:\n" + "\n".join(found)


@pytest.fixture
def portfolio(db):
    """A business unit with a member, a reviewer and an executive, a draft, an assessed
    initiative and two requests waiting in the approvals queue."""
    services.library_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    rita = member(Role.BU_MEMBER, unit, username="rita", first_name="Rita", last_name="Ames")
    member(Role.COE_REVIEWER, unit, username="carol", first_name="Carol", last_name="Reyes")
    member(Role.EXECUTIVE, unit, username="evelyn", first_name="Evelyn", last_name="Carter")
    for stage in (Stage.PROPOSED, Stage.PILOT, Stage.PRODUCTION):
        InitiativeFactory(business_unit=unit, stage=stage)
    draft = InitiativeFactory(
        business_unit=unit, accountable_owner=rita, stage=Stage.DRAFT, title="Card fraud alerts"
    )
    initiative = assessed(unit, rita, title="Claims routing assistant")
    submitted(unit, rita, title="Mortgage document triage")
    submitted(unit, rita, title="Branch staffing forecast")
    return {"draft": draft, "initiative": initiative}


def test_login_page(live_server, page):
    audit(page, f"{live_server.url}/accounts/login/")


@pytest.mark.parametrize("username", ["rita", "carol", "evelyn"])
def test_persona_home(live_server, page, portfolio, username):
    sign_in(page, live_server.url, username)
    audit(page, f"{live_server.url}/")


def test_dashboard(live_server, page, portfolio):
    sign_in(page, live_server.url, "evelyn")
    audit(page, f"{live_server.url}/dashboard/")


def test_initiative_list_and_detail(live_server, page, portfolio):
    sign_in(page, live_server.url, "rita")
    audit(page, f"{live_server.url}/initiatives/", shows="Claims routing assistant")
    # Sorted by a column: its header carries aria-sort.
    audit(page, f"{live_server.url}/initiatives/?ordering=title", shows="Card fraud alerts")
    expect(page.locator('th[aria-sort="ascending"]')).to_have_text("Title ▲")
    initiative = portfolio["initiative"]
    audit(page, f"{live_server.url}{initiative.get_absolute_url()}", shows=initiative.title)


def test_wizard(live_server, page, portfolio):
    sign_in(page, live_server.url, "rita")
    audit(page, f"{live_server.url}/initiatives/register/")
    draft = portfolio["draft"].pk
    for step in range(1, 6):
        audit(page, f"{live_server.url}/initiatives/register/{draft}/?step={step}", shows="Card")


def test_approvals_queue(live_server, page, portfolio):
    sign_in(page, live_server.url, "carol")
    audit(page, f"{live_server.url}/governance/approvals/", shows="Mortgage document triage")


def test_webhook_pages(live_server, page, portfolio):
    unit = portfolio["initiative"].business_unit
    dana = member(Role.COE_ADMIN, unit, username="dana", first_name="Dana", last_name="Iles")
    webhook = core_services.webhook_create(
        actor=dana, data={"name": "Ops chat", "url": "https://hooks.example.com/keel"}
    )
    sign_in(page, live_server.url, "dana")
    audit(page, f"{live_server.url}/webhooks/", shows="Ops chat")
    audit(page, f"{live_server.url}/webhooks/new/", shows="New webhook")
    audit(page, f"{live_server.url}/webhooks/{webhook.pk}/", shows="Recent deliveries")


def test_governance_library_pages(live_server, page, portfolio):
    unit = portfolio["initiative"].business_unit
    dana = member(Role.COE_ADMIN, unit, username="dana", first_name="Dana", last_name="Iles")
    draft = library.questionnaire_draft(actor=dana)
    sign_in(page, live_server.url, "dana")
    audit(page, f"{live_server.url}/governance/library/controls/", shows="GOV-01")
    audit(page, f"{live_server.url}/governance/library/controls/new/", shows="Required at each")
    audit(page, f"{live_server.url}/governance/library/questionnaires/", shows="Draft")
    audit(page, f"{live_server.url}/governance/library/questionnaires/{draft.pk}/", shows="Tier")
