"""A BU member assesses the risk of a customer-facing credit-scoring LLM in a real browser:
the live tier follows the answers through htmx, without a page load."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from governance.risk import services
from governance.risk.models import RiskAssessment
from tests.factories import PASSWORD, BusinessUnitFactory, InitiativeFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Customer credit-scoring assistant (LLM)"
ANNEX_III = "EU AI Act Annex III high-risk area: essential private and public services"

# Question text → the label(s) to choose, for a customer-facing credit-scoring LLM.
ANSWERS = [
    ("What is the most sensitive data the system uses?", ["Personal data"]),
    (
        "How much does the system decide on its own?",
        ["Human in the loop: a person approves each output"],
    ),
    ("Who is affected by its outputs?", ["Customers"]),
    ("Could it affect people's rights, access to services or opportunities?", ["Yes"]),
    ("Could a failure cause physical harm or endanger safety?", ["No"]),
    (
        "Is it used in one of the EU AI Act Annex III high-risk areas?",
        ["Essential private and public services, incl. credit scoring"],
    ),
    ("Does it involve any practice prohibited by EU AI Act Article 5?", ["None of these"]),
    ("Does it generate content with generative AI?", ["Yes, shown to customers or the public"]),
    (
        "Which generative-AI exposures apply?",
        [
            "Reads untrusted input (prompt-injection risk)",
            "Outputs could leak confidential data",
        ],
    ),
    ("Does it rely on a third-party model or AI API?", ["Yes"]),
]


def test_member_assesses_credit_scoring_llm(live_server, page, console_errors):
    # A transactional test starts from whatever earlier ones left: make sure the default
    # questionnaire and controls exist (idempotent).
    services.library_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    alice = member(Role.BU_MEMBER, unit, username="alice", first_name="Alice", last_name="Ng")
    initiative = InitiativeFactory(
        title=TITLE, business_unit=unit, accountable_owner=alice, stage="proposed"
    )

    # Sign in and open the initiative.
    page.goto(f"{live_server.url}/initiatives/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#results").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)

    # The risk panel is loaded into the page by htmx.
    panel = page.locator("#risk-panel")
    expect(panel).to_contain_text("Not assessed yet")
    panel.get_by_role("link", name="Risk assessment").click()
    expect(page).to_have_url(re.compile(rf"/governance/initiatives/{initiative.pk}/risk/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Risk assessment")
    page.get_by_role("button", name="Start the risk assessment").click()

    # Answer the questionnaire; the live tier updates in place.
    live = page.locator("#live-tier")
    expect(live).to_contain_text("11 questions still to answer")
    page.evaluate("window.keelSamePage = true")
    first_question, first_labels = ANSWERS[0]
    with page.expect_response(lambda response: "/risk/answer/" in response.url) as answered:
        page.get_by_role("group", name=first_question).get_by_label(
            first_labels[0], exact=True
        ).check()
    assert answered.value.ok
    assert "<html" not in answered.value.text()  # only the tier partial came back
    expect(live).to_contain_text("Tier 2 · limited")
    expect(live).to_contain_text("It processes personal data.")

    for question, labels in ANSWERS[1:]:
        group = page.get_by_role("group", name=question)
        for label in labels:
            group.get_by_label(label, exact=True).check()
    scale = page.get_by_label("How many people does it affect per year (approximately)?")
    scale.fill("250000")
    scale.press("Tab")

    expect(live).to_contain_text("Tier 3 · high")
    expect(live).to_contain_text(ANNEX_III)
    expect(live).to_contain_text("It is rights-impacting.")
    expect(live).to_contain_text("Every question is answered")
    assert page.evaluate("window.keelSamePage") is True  # no page load happened

    # Resume: a reload shows the saved answers.
    page.reload()
    expect(
        page.get_by_role("group", name=ANSWERS[5][0]).get_by_label(ANSWERS[5][1][0], exact=True)
    ).to_be_checked()
    expect(scale).to_have_value("250000")

    # Complete: the page now shows the current tier with its Annex III reason.
    page.get_by_role("button", name="Complete assessment").click()
    expect(page.get_by_role("status")).to_contain_text("Assessment completed: Tier 3 · high.")
    expect(page.locator("#current-tier")).to_contain_text("Computed: Tier 3 · high")
    expect(page.locator("#current-tier .badge")).to_have_text("Tier 3")
    expect(page.locator("ul.rationale")).to_contain_text(ANNEX_III)
    expect(page.get_by_role("button", name="Start a reassessment")).to_be_visible()

    assessment = RiskAssessment.objects.get(initiative=initiative, is_current=True)
    assert assessment.computed_tier == 3 and assessment.assessed_by == alice
    assert console_errors == []
