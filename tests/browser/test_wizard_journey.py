"""Journey 1 in a real browser: a BU member registers an initiative in the wizard, leaves at
the risk questionnaire, comes back to the draft, finishes and submits it for the pilot gate.
Steps are swapped in by htmx without page loads; nothing logs a console error."""

import re

import pytest
from playwright.sync_api import expect

from core.choices import Role
from governance.approvals.models import ApprovalRequest
from governance.risk import services
from governance.risk.models import RiskAssessment
from portfolio.initiatives.models import Initiative
from tests.browser.menu import menu_link
from tests.factories import PASSWORD, BusinessUnitFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Claims triage assistant"
# Question → label, for an internal advisory tool: Tier 1 with no gate blockers (the data
# sensitivity is step 2's answer, not asked again).
FIRST_ANSWERS = [
    ("How much does the system decide on its own?", ["Advisory: people decide"]),
    ("Who is affected by its outputs?", ["Internal staff"]),
]
REMAINING_ANSWERS = [
    ("Could it affect people's rights, access to services or opportunities?", ["No"]),
    ("Could a failure cause physical harm or endanger safety?", ["No"]),
    ("Is it used in one of the EU AI Act Annex III high-risk areas?", ["None of these"]),
    ("Does it involve any practice prohibited by EU AI Act Article 5?", ["None of these"]),
    ("Does it generate content with generative AI?", ["No"]),
    ("Which generative-AI exposures apply?", ["None / not generative"]),
    ("Does it rely on a third-party model or AI API?", ["No"]),
]


def answer(page, answers):
    for question, labels in answers:
        group = page.get_by_role("group", name=question)
        for label in labels:
            with page.expect_response(lambda response: "/risk/answer/" in response.url):
                group.get_by_label(label, exact=True).check()


def expect_step(page, number, title):
    expect(
        page.get_by_role("heading", level=2, name=f"Step {number} of 5: {title}")
    ).to_be_visible()
    expect(page.locator('.wizard-progress [aria-current="step"]')).to_contain_text(title)


def test_member_registers_leaves_resumes_and_submits_for_pilot(live_server, page, console_errors):
    # A transactional test starts from whatever earlier ones left: make sure the default
    # questionnaire and controls exist (idempotent).
    services.library_install_defaults()
    unit = BusinessUnitFactory(name="Retail Banking", code="RETAIL")
    member(Role.BU_MEMBER, unit, username="alice", first_name="Alice", last_name="Ng")

    # Sign in and open the wizard from the initiatives list.
    page.goto(f"{live_server.url}/initiatives/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Register (wizard)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register an AI initiative")
    expect_step(page, 1, "Basics")
    expect(page.get_by_text("No drafts")).to_be_visible()

    # Step 1: validation per step, then the draft is created.
    page.evaluate("window.keelSamePage = true")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("This step was not saved")
    expect(page.get_by_label("Title")).to_be_focused()
    page.get_by_label("Title").fill(TITLE)
    expect(page.get_by_label("Owning business unit")).to_have_value(str(unit.pk))
    page.get_by_label("Use-case category").select_option(label="Pattern recognition")
    page.get_by_label("AI type").select_option(label="NLP")
    page.get_by_label("Title").press("Enter")  # Enter continues (the primary button is first)
    expect_step(page, 2, "Purpose, outputs & data")
    initiative = Initiative.objects.get(title=TITLE)
    expect(page).to_have_url(re.compile(rf"/initiatives/register/{initiative.pk}/\?step=2$"))

    # Step 2: purpose, outputs and data.
    expect(page.get_by_label("Problem statement")).to_be_focused()
    page.get_by_label("Problem statement").fill("Claims wait two days for a first look.")
    page.get_by_label("Intended purpose and expected benefits").fill(
        "Suggest the right team for each incoming claim."
    )
    page.get_by_label("AI outputs").fill("A suggested team per claim, shown to a handler.")
    page.get_by_label("Data sensitivity").select_option(label="Internal")
    page.get_by_role("button", name="Save and continue").click()
    expect_step(page, 3, "Risk questionnaire")

    # Step 3: answers are saved as they change and the live tier follows them.
    live = page.locator("#live-tier")
    expect(live).to_contain_text("10 questions still to answer")
    expect(page.locator("#given-data_sensitivity")).to_contain_text("Internal, as given in step 2")
    expect(page.get_by_role("group", name="What is the most sensitive data")).to_have_count(0)
    answer(page, FIRST_ANSWERS)
    expect(live).to_contain_text("8 questions still to answer")
    assert page.evaluate("window.keelSamePage") is True  # every step was an htmx swap

    # Leave at step 3 for another page …
    menu_link(page, "Portfolio", "Initiatives").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initiatives")

    # … and come back to the draft: it opens at step 3 with the answers given.
    page.get_by_role("link", name="Register (wizard)").click()
    drafts = page.get_by_role("region", name="Your drafts")
    expect(drafts).to_contain_text("2 of 5 steps done")
    drafts.get_by_role("link", name=re.compile(TITLE)).click()
    expect_step(page, 3, "Risk questionnaire")
    for question, labels in FIRST_ANSWERS:
        expect(
            page.get_by_role("group", name=question).get_by_label(labels[0], exact=True)
        ).to_be_checked()
    expect(page.get_by_role("link", name=re.compile("Purpose, outputs"))).to_be_visible()

    answer(page, REMAINING_ANSWERS)
    scale = page.get_by_label("How many people does it affect per year (approximately)?")
    with page.expect_response(lambda response: "/risk/answer/" in response.url):
        scale.fill("40")
        scale.press("Tab")
    expect(live).to_contain_text("Tier 1 · minimal")
    expect(live).to_contain_text("Every question is answered")
    # A last-moment change is saved before the questionnaire completes (one request queue).
    scale.fill("45")
    page.get_by_role("button", name="Complete the questionnaire and continue").click()

    # Step 4: owners (real users) and links.
    expect_step(page, 4, "Owners & links")
    expect(page.get_by_label("Accountable owner")).to_have_value(
        str(initiative.accountable_owner_id)
    )
    page.get_by_label("Links", exact=True).fill("https://git.example.com/claims-triage")
    page.get_by_role("button", name="Save and continue").click()

    # Step 5: the review shows the tier, why, and what the pilot gate requires.
    expect_step(page, 5, "Review & submit")
    review_tier = page.locator("#review-tier")
    expect(review_tier).to_contain_text("Tier 1 · minimal")
    gate = page.locator("#review-gate")
    expect(gate).to_contain_text("CoE review")
    expect(gate).to_contain_text("No blockers")
    page.get_by_label("Note for the reviewers").fill("Ready for a pilot in Retail.")
    page.get_by_role("button", name="Submit for the pilot gate").click()

    # Fast-tracked (Tier 1, automated controls pass): the request page confirms it.
    expect(page).to_have_url(re.compile(r"/governance/requests/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("Fast-tracked: the Pilot gate is approved.")
    request = ApprovalRequest.objects.get(initiative=initiative)
    assert request.gate == "pilot" and request.fast_tracked
    assert RiskAssessment.objects.get(initiative=initiative, is_current=True).answers["scale"] == 45
    initiative.refresh_from_db()
    assert (initiative.stage, initiative.wizard_step) == ("pilot", 5)
    assert console_errors == []
