"""Governance content as data in a real browser (issue 19, item 9): a CoE admin adds a control
to the library, drafts a questionnaire version that raises a tier floor, sees in the preview
which current assessment it would re-tier (and not the one it would not), and submits it; a
risk officer approves the publication and the draft becomes the current version, while the
past assessment keeps its version and tier."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from governance.approvals import policies
from governance.approvals.models import ApprovalRequest
from governance.risk import services
from governance.risk.models import Control, Questionnaire
from tests.browser.menu import menu_link
from tests.browser.test_approval_journey import sign_in, sign_out
from tests.factories import BusinessUnitFactory, member
from tests.governance.helpers import LOW_RISK, TIER_2, assessed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_coe_admin_adds_a_control_and_publishes_a_questionnaire_version(
    live_server, page, console_errors
):
    # A transactional test starts from whatever earlier ones left: make sure the library and
    # the approval policies (the questionnaire gate's among them) exist (both idempotent).
    services.library_install_defaults()
    policies.policies_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    alice = member(Role.BU_MEMBER, unit, username="alice")
    member(Role.COE_ADMIN, unit, username="dana", first_name="Dana", last_name="Cho")
    member(Role.RISK_OFFICER, unit, username="rita", first_name="Rita", last_name="Osei")
    # Confidential data: Tier 2 today, Tier 3 under a floor of 3; internal data stays Tier 1.
    changing = assessed(unit, alice, TIER_2, title="Claims triage assistant")
    staying = assessed(unit, alice, LOW_RISK, title="Internal FAQ bot")
    current = Questionnaire.objects.get(is_active=True)
    past = changing.risk_assessments.get(is_current=True)
    assert past.computed_tier == 2 and past.questionnaire == current

    # The CoE admin adds a control from the library page.
    sign_in(page, live_server.url, "dana")
    menu_link(page, "Governance", "Control library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Control library")
    page.get_by_role("link", name="Add a control").click()
    page.get_by_label("Code").fill("doc-09")
    page.get_by_label("Title").fill("Decision log kept")
    page.get_by_label("Description").fill("Material decisions are logged with their reasons.")
    page.get_by_label("EU AI Act article").fill("Art. 12")
    page.get_by_label("NIST AI RMF function").select_option("govern")
    page.get_by_label("ISO/IEC 42001 clause").fill("7.5")
    page.get_by_label("Mitigation weight").fill("2")
    page.get_by_label("Pilot gate").select_option("2")
    page.get_by_role("button", name="Add the control").click()
    expect(page).to_have_url(f"{live_server.url}/governance/library/controls/")
    expect(page.locator(".messages")).to_contain_text("Added DOC-09 to the control library.")
    row = page.locator("#control-DOC-09")
    expect(row).to_contain_text("Decision log kept")
    expect(row).to_contain_text("Pilot ≥ Tier 2")
    expect(row).to_contain_text("EU AI Act Art. 12")
    control = Control.objects.get(code="DOC-09")
    assert control.is_active and control.requirements.get().minimum_tier == 2

    # A new questionnaire version starts as a draft copy; nothing would change yet.
    menu_link(page, "Governance", "Questionnaire versions").click()
    page.get_by_role("button", name="Start a new version").click()
    expect(page).to_have_url(re.compile(r"/governance/library/questionnaires/\d+/$"))
    draft = Questionnaire.objects.get(published_at__isnull=True)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"v{draft.version}")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("No current assessment would change tier.")

    # Raising the floor of confidential data re-tiers the first initiative only.
    page.get_by_label("Tier floor of data_sensitivity · confidential").select_option("3")
    page.get_by_label("Reason of data_sensitivity · confidential").fill(
        "Confidential data is high risk."
    )
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".messages")).to_contain_text(f"Saved draft v{draft.version}.")
    changes = preview.locator("table.tier-changes tbody tr")
    expect(changes).to_have_count(1)
    expect(changes.first).to_contain_text(changing.reference)
    expect(changes.first).to_contain_text("Tier 2")
    expect(changes.first).to_contain_text("Tier 3")
    expect(preview).not_to_contain_text(staying.reference)

    # Submitted for publication: the questionnaire gate's approval, which she cannot decide.
    page.get_by_role("button", name="Submit for publication").click()
    expect(page).to_have_url(re.compile(r"/governance/requests/\d+/$"))
    submitted = f"Submitted v{draft.version} for publication."
    expect(page.locator(".messages")).to_contain_text(submitted)
    expect(page.locator("#decision")).to_contain_text("you cannot decide on it")
    expect(page.locator("#preview")).to_contain_text(changing.reference)
    approval = ApprovalRequest.objects.get(gate="questionnaire")
    assert approval.initiative is None
    sign_out(page)

    # The risk officer finds it in the queue and approves it.
    sign_in(page, live_server.url, "rita")
    menu_link(page, "Governance", "Approvals").click()
    row = page.locator("#results tbody tr").filter(has_text=f"request #{approval.pk}")
    expect(row).to_contain_text("Questionnaire publication")
    expect(row).to_contain_text("Governance content")
    expect(row).to_contain_text("Dana Cho")
    row.get_by_role("link", name=f"Questionnaire publication · request #{approval.pk}").click()
    expect(page).to_have_url(f"{live_server.url}{approval.get_absolute_url()}")
    decision = page.locator("#decision")
    with page.expect_response(lambda response: "/decide/" in response.url) as decided:
        decision.get_by_label("Comment").fill("Floors agreed with the risk committee.")
        decision.get_by_role("button", name="Approve").click()
    assert decided.value.ok
    expect(decision.locator(".badge.request-approved")).to_have_text("Approved")
    sign_out(page)

    # The draft is now the current version; the past assessment keeps its version and tier.
    draft.refresh_from_db()
    current.refresh_from_db()
    assert draft.is_active and draft.is_published and not current.is_active
    past.refresh_from_db()
    assert past.computed_tier == 2 and past.questionnaire == current
    sign_in(page, live_server.url, "dana")
    menu_link(page, "Governance", "Questionnaire versions").click()
    versions = page.locator("#results tbody tr")
    expect(versions.filter(has_text=f"v{draft.version}")).to_contain_text("Current")
    expect(versions.filter(has_text=f"v{current.version}")).to_contain_text("Superseded")
    assert console_errors == []
