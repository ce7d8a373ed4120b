"""The registration wizard: its services, every step with its validation, resuming, the
review (tier, rationale, what the pilot gate needs) and the submission for the pilot gate."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.choices import Role
from core.models import AuditEvent
from governance.approvals.choices import RequestStatus
from governance.approvals.models import ApprovalRequest
from governance.risk import selectors
from governance.risk.models import RiskAssessment
from portfolio.initiatives import services
from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from tests.factories import InitiativeFactory, UserFactory, member
from tests.governance.helpers import LOW_RISK, PERSONAL_DATA, TIER_2

pytestmark = pytest.mark.django_db

START = "/initiatives/register/"

BASICS = {"title": "Claims triage", "category": "pattern_recognition", "ai_type": "nlp"}
PURPOSE = {
    "problem_statement": "Claims wait days for a first look.",
    "purpose": "Route incoming claims to the right team.",
    "outputs": "A team suggestion per claim.",
    "data_sensitivity": "internal",
    "sourcing": "in_house",
}


def resume_url(initiative, step=None):
    url = f"{START}{initiative.pk}/"
    return f"{url}?step={step}" if step else url


def htmx(client, method, url, data=None):
    return getattr(client, method)(url, data or {}, headers={"HX-Request": "true"})


def walk_to(client, user, unit, step, answers=LOW_RISK):
    """Complete the wizard's steps before ``step`` through the views; returns the draft."""
    client.force_login(user)
    client.post(START, {**BASICS, "business_unit": unit.pk})
    initiative = Initiative.objects.latest("pk")
    if step > 2:
        # Step 2 asks the data sensitivity the questionnaire then takes as given.
        data = answers.get("data_sensitivity", PURPOSE["data_sensitivity"])
        client.post(resume_url(initiative, 2), {**PURPOSE, "data_sensitivity": data})
    if step > 3:
        client.post(resume_url(initiative, 3), answers)
    if step > 4:
        client.post(resume_url(initiative, 4), {"accountable_owner": user.pk})
    initiative.refresh_from_db()
    assert initiative.wizard_step == step - 1
    return initiative


# --- Services ------------------------------------------------------------------------------


def test_wizard_save_creates_then_updates_and_progress_only_moves_forward(member_a, unit_a):
    draft = services.initiative_wizard_save(
        actor=member_a,
        initiative=None,
        step=1,
        data={**BASICS, "business_unit": unit_a, "accountable_owner": member_a},
    )
    assert (draft.stage, draft.wizard_step, draft.created_by) == (Stage.DRAFT, 1, member_a)
    services.initiative_wizard_save(actor=member_a, initiative=draft, step=2, data=PURPOSE)
    draft = services.initiative_wizard_advance(actor=member_a, initiative=draft, step=1)
    assert draft.wizard_step == 2  # going back does not lose progress
    assert Initiative.objects.get(pk=draft.pk).purpose == PURPOSE["purpose"]
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["initiative.created", "initiative.updated"]


def test_wizard_services_refuse_outsiders_and_bad_steps(member_a, member_b, unit_a):
    draft = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    with pytest.raises(PermissionDenied):
        services.initiative_wizard_advance(actor=member_b, initiative=draft, step=2)
    with pytest.raises(PermissionDenied):
        services.initiative_wizard_save(
            actor=member_b, initiative=draft, step=2, data={"purpose": "Hijack"}
        )
    with pytest.raises(ValidationError):
        services.initiative_wizard_advance(actor=member_a, initiative=draft, step=6)
    draft.refresh_from_db()
    assert (draft.wizard_step, draft.purpose) != (2, "Hijack")
    assert not AuditEvent.objects.exists()


# --- Start page and step 1 -----------------------------------------------------------------


def test_start_page_offers_own_units_and_lists_own_drafts(client, member_a, unit_a, unit_b):
    mine = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, title="My draft", wizard_step=2
    )
    InitiativeFactory(business_unit=unit_a, title="Colleague's draft")
    InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="pilot")
    client.force_login(member_a)
    response = client.get(START)
    assert response.status_code == 200
    units = list(response.context["form"].fields["business_unit"].queryset)
    assert units == [unit_a]
    assert list(response.context["drafts"]) == [mine]
    content = response.content.decode()
    assert "Your drafts" in content and f'href="{resume_url(mine)}"' in content
    assert 'aria-current="step"' in content and "Step 1 of 5: Basics" in content


def test_step_1_creates_the_draft_owned_by_the_registrant(client, member_a, unit_a):
    client.force_login(member_a)
    response = client.post(START, {**BASICS, "business_unit": unit_a.pk})
    draft = Initiative.objects.get()
    assert response.status_code == 302 and response["Location"] == resume_url(draft, 2)
    assert (draft.title, draft.stage, draft.wizard_step) == ("Claims triage", "draft", 1)
    assert draft.accountable_owner == member_a and draft.business_unit == unit_a


def test_step_1_field_errors_and_other_units_are_refused(client, member_a, unit_a, unit_b):
    client.force_login(member_a)
    response = client.post(START, {**BASICS, "title": "", "business_unit": unit_b.pk})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "business_unit"}
    assert "This step was not saved" in response.content.decode()
    assert not Initiative.objects.exists()


def test_users_without_a_unit_to_register_for_are_refused(client, executive):
    client.force_login(executive)
    assert client.get(START).status_code == 403


# --- Steps 2 to 4 --------------------------------------------------------------------------


def test_step_2_requires_purpose_and_opens_the_questionnaire(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 2)
    response = client.post(resume_url(draft, 2), {**PURPOSE, "purpose": "", "outputs": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"purpose", "outputs"}
    draft.refresh_from_db()
    assert draft.wizard_step == 1 and not RiskAssessment.objects.exists()

    response = client.post(resume_url(draft, 2), PURPOSE)
    assert response["Location"] == resume_url(draft, 3)
    draft.refresh_from_db()
    assert draft.wizard_step == 2 and draft.purpose == PURPOSE["purpose"]
    assert RiskAssessment.objects.get(initiative=draft).status == "draft"


def test_step_3_keeps_partial_answers_and_asks_for_the_rest(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 3)
    response = client.post(resume_url(draft, 3), {"data_sensitivity": "internal"})
    assert response.status_code == 200
    errors = response.context["questionnaire_form"].errors
    assert "decision_autonomy" in errors and "data_sensitivity" not in errors
    assert "The questionnaire is not complete" in response.content.decode()
    assessment = RiskAssessment.objects.get(initiative=draft)
    assert assessment.answers == {"data_sensitivity": "internal"}
    assert assessment.status == "draft"
    draft.refresh_from_db()
    assert draft.wizard_step == 2


def test_step_3_completes_the_assessment(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 3)
    response = client.get(resume_url(draft, 3))
    content = response.content.decode()
    # The governance questionnaire saves as you go: answers go to its endpoint.
    assert f'hx-post="/governance/initiatives/{draft.pk}/risk/answer/"' in content
    assert 'id="live-tier"' in content
    response = client.post(resume_url(draft, 3), LOW_RISK)
    assert response["Location"] == resume_url(draft, 4)
    assert selectors.current_tier(draft) == 1
    draft.refresh_from_db()
    assert draft.wizard_step == 3


def test_step_4_owners_must_be_active_users_and_links_web_addresses(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 4)
    former = UserFactory(username="former", is_active=False)
    response = client.post(
        resume_url(draft, 4),
        {
            "accountable_owner": former.pk,
            "technical_lead": 999999,
            "links": "javascript:alert(1)",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"accountable_owner", "technical_lead"}
    response = client.post(
        resume_url(draft, 4), {"accountable_owner": member_a.pk, "links": "javascript:alert(1)"}
    )
    assert "links" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.wizard_step == 3

    lead = member(Role.BU_MEMBER, unit_a, username="lead")
    response = client.post(
        resume_url(draft, 4),
        {
            "accountable_owner": member_a.pk,
            "technical_lead": lead.pk,
            "links": "https://git.example.com/claims",
        },
    )
    assert response["Location"] == resume_url(draft, 5)
    draft.refresh_from_db()
    assert (draft.technical_lead, draft.wizard_step) == (lead, 4)


def test_back_saves_and_shows_the_earlier_step_with_its_data(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 3)
    response = client.post(resume_url(draft, 2), {**PURPOSE, "outputs": "Edited", "action": "back"})
    assert response["Location"] == resume_url(draft, 1)
    response = client.get(response["Location"])
    assert response.context["form"]["title"].value() == "Claims triage"
    response = client.get(resume_url(draft, 2))
    assert response.context["form"]["outputs"].value() == "Edited"


def test_save_and_finish_later_returns_to_the_drafts(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 2)
    response = client.post(resume_url(draft, 2), {**PURPOSE, "action": "later"}, follow=True)
    assert response.redirect_chain == [(START, 302)]
    assert f"Draft {draft.reference} saved" in response.content.decode()
    assert list(response.context["drafts"]) == [draft]
    draft.refresh_from_db()
    assert draft.wizard_step == 2


# --- Resuming ------------------------------------------------------------------------------


def test_resume_opens_the_first_incomplete_step_and_never_skips_ahead(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 3)
    client.post(resume_url(draft, 3), {"data_sensitivity": "internal", "action": "later"})
    response = client.get(resume_url(draft))
    assert response.context["step"].number == 3
    assert response.context["questionnaire_form"]["data_sensitivity"].value() == "internal"
    assert client.get(resume_url(draft, 5)).context["step"].number == 3
    assert client.get(resume_url(draft, "x")).context["step"].number == 3
    assert client.get(resume_url(draft, 1)).context["step"].number == 1


def test_other_units_get_404_and_registered_initiatives_leave_the_wizard(
    client, member_a, member_b, unit_a
):
    draft = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    client.force_login(member_b)
    assert client.get(resume_url(draft)).status_code == 404
    assert client.post(resume_url(draft, 1), {**BASICS}).status_code == 404
    piloted = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="pilot")
    client.force_login(member_a)
    response = client.get(resume_url(piloted))
    assert response.status_code == 302 and response["Location"] == piloted.get_absolute_url()


def test_htmx_gets_the_step_partial_with_vary_and_the_next_url(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 2)
    response = htmx(client, "get", resume_url(draft, 1))
    content = response.content.decode()
    assert "<html" not in content and 'aria-current="step"' in content
    assert "HX-Request" in response["Vary"]

    response = htmx(client, "post", resume_url(draft, 2), PURPOSE)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == resume_url(draft, 3)
    assert "Step 3 of 5: Risk questionnaire" in response.content.decode()
    assert "<html" not in response.content.decode()

    response = htmx(client, "post", resume_url(draft, 3), {"action": "later"})
    assert response["HX-Redirect"] == START


def test_plain_get_of_a_step_is_a_whole_page_with_vary(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 2)
    response = client.get(resume_url(draft, 2))
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


# --- Review and submission -----------------------------------------------------------------


def test_review_shows_everything_with_the_tier_and_what_the_pilot_gate_needs(
    client, member_a, unit_a
):
    draft = walk_to(client, member_a, unit_a, 5, answers=PERSONAL_DATA)
    response = client.get(resume_url(draft))
    assert response.context["step"].number == 5
    content = response.content.decode()
    for text in (
        "Claims triage",
        PURPOSE["purpose"],
        PURPOSE["outputs"],
        "Tier 2 · limited",
        "It processes personal data.",
        "What the pilot gate requires",
        "CoE review",
        "PRIV-01",
    ):
        assert text in content, text
    assert [blocker.code for blocker in response.context["blockers"]] == ["PRIV-01"]
    assert 'value="submit" disabled' in content


def test_submit_for_pilot_proposes_the_draft_and_creates_the_request(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 5, answers=TIER_2)
    response = client.post(resume_url(draft, 5), {"action": "submit", "comment": "Ready."})
    request = ApprovalRequest.objects.get(initiative=draft)
    assert response["Location"] == request.get_absolute_url()
    assert (request.gate, request.tier, request.status) == ("pilot", 2, RequestStatus.PENDING)
    assert request.comment == "Ready."
    draft.refresh_from_db()
    assert (draft.stage, draft.wizard_step) == (Stage.PROPOSED, 5)
    assert list(draft.stage_changes.values_list("to_stage", flat=True)) == ["draft", "proposed"]
    response = client.get(resume_url(draft))  # the review now links the open request
    assert response.context["open_request"] == request


def test_tier_1_submission_is_fast_tracked_to_pilot(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 5)
    response = htmx(client, "post", resume_url(draft, 5), {"action": "submit"})
    request = ApprovalRequest.objects.get(initiative=draft)
    assert response["HX-Redirect"] == request.get_absolute_url()
    assert request.fast_tracked and request.status == RequestStatus.APPROVED
    draft.refresh_from_db()
    assert draft.stage == Stage.PILOT


def test_refused_submission_leaves_the_draft_unchanged(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 5, answers=PERSONAL_DATA)
    response = client.post(resume_url(draft, 5), {"action": "submit"})
    assert response.status_code == 200
    assert "The pilot gate submission was refused" in response.content.decode()
    assert any("PRIV-01" in message for message in response.context["submit_errors"])
    draft.refresh_from_db()
    assert (draft.stage, draft.wizard_step) == (Stage.DRAFT, 4)
    assert not ApprovalRequest.objects.exists()
    assert not draft.stage_changes.filter(to_stage=Stage.PROPOSED).exists()


def test_changing_the_purpose_after_the_assessment_reopens_the_questionnaire(
    client, member_a, unit_a
):
    draft = walk_to(client, member_a, unit_a, 5)
    client.post(resume_url(draft, 2), {**PURPOSE, "purpose": "Now also decides payouts."})
    draft_assessment = RiskAssessment.objects.get(initiative=draft, status="draft")
    assert draft_assessment.answers["decision_autonomy"] == "advisory"  # prefilled
    response = client.get(resume_url(draft, 5))
    assert [blocker.code for blocker in response.context["blockers"]] == ["RISK-01"]
    client.post(resume_url(draft, 3), {key: value for key, value in LOW_RISK.items()})
    response = client.get(resume_url(draft, 5))
    assert response.context["blockers"] == []


def test_drafts_list_query_count_does_not_grow(client, member_a, unit_a, django_assert_num_queries):
    InitiativeFactory.create_batch(2, business_unit=unit_a, accountable_owner=member_a)
    client.force_login(member_a)
    with CaptureQueriesContext(connection) as two:
        assert len(client.get(START).context["drafts"]) == 2
    InitiativeFactory.create_batch(10, business_unit=unit_a, accountable_owner=member_a)
    with django_assert_num_queries(len(two.captured_queries)):
        assert len(client.get(START).context["drafts"]) == 12


# --- Each fact asked once ------------------------------------------------------------------


def test_data_sensitivity_is_asked_in_step_2_only_and_given_to_the_questionnaire(
    client, member_a, unit_a
):
    draft = walk_to(client, member_a, unit_a, 2)
    step_2 = client.get(resume_url(draft, 2)).content.decode()
    assert step_2.count('name="data_sensitivity"') == 1
    client.post(resume_url(draft, 2), {**PURPOSE, "data_sensitivity": "personal"})
    # Entering the questionnaire, it already holds step 2's answer.
    assessment = RiskAssessment.objects.get(initiative=draft, status="draft")
    assert assessment.answers == {"data_sensitivity": "personal"}

    response = client.get(resume_url(draft, 3))
    content = response.content.decode()
    # Shown once, as what step 2 said, not as a question.
    assert content.count("What is the most sensitive data the system uses?") == 1
    assert 'id="given-data_sensitivity">What is the most sensitive' in content
    assert 'id="q-data_sensitivity"' not in content
    assert '<input type="hidden" name="data_sensitivity" value="personal"' in content
    assert 'type="radio" name="data_sensitivity"' not in content
    assert 'type="radio" name="decision_autonomy"' in content

    # A posted (tampered or stale) answer does not override step 2's.
    client.post(resume_url(draft, 3), {**LOW_RISK, "data_sensitivity": "public"})
    assessment = RiskAssessment.objects.get(initiative=draft, is_current=True)
    assert assessment.answers["data_sensitivity"] == "personal"


def test_changing_the_data_in_step_2_updates_the_reopened_questionnaire(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 5)
    client.post(resume_url(draft, 2), {**PURPOSE, "data_sensitivity": "confidential"})
    reopened = RiskAssessment.objects.get(initiative=draft, status="draft")
    assert reopened.answers["data_sensitivity"] == "confidential"
    assert reopened.answers["decision_autonomy"] == "advisory"


def test_the_autonomy_answer_lands_on_the_initiative(client, member_a, unit_a):
    draft = walk_to(client, member_a, unit_a, 3)
    assert draft.autonomy_level != "human_on_the_loop"
    client.post(resume_url(draft, 3), {**LOW_RISK, "decision_autonomy": "human_on_the_loop"})
    draft.refresh_from_db()
    assert draft.autonomy_level == "human_on_the_loop"
    assessment = RiskAssessment.objects.get(initiative=draft, is_current=True)
    assert assessment.answers["decision_autonomy"] == "human_on_the_loop"
    assert AuditEvent.objects.filter(
        action="initiative.updated", object_id=str(draft.pk), payload__contains="human_on_the"
    ).exists()
    # Saved for later, too (no need to complete the questionnaire first).
    client.post(resume_url(draft, 2), {**PURPOSE, "purpose": "Now also decides payouts."})
    client.post(
        resume_url(draft, 3),
        {"decision_autonomy": "fully_automated", "action": "later"},
    )
    draft.refresh_from_db()
    assert draft.autonomy_level == "fully_automated"
    response = client.get(resume_url(draft, 3))
    assert response.context["questionnaire_form"]["decision_autonomy"].value() == (
        "fully_automated"
    )
