"""The governance API: risk assessments (start, answer, complete, override), the control
library, control results, the risk register and gate blockers."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from governance.risk import services
from governance.risk.choices import AssessmentStatus, ResultStatus
from governance.risk.models import Control, ControlResult, RiskAssessment
from tests.factories import InitiativeFactory, member
from tests.governance.helpers import CREDIT_SCORING

pytestmark = pytest.mark.django_db

ASSESSMENTS = "/api/v1/risk-assessments/"
LOW_RISK = {
    **CREDIT_SCORING,
    "data_sensitivity": "internal",
    "affected_people": ["internal_staff"],
    "rights_impacting": "no",
    "annex_iii_domain": ["none"],
    "generative_ai": "no",
    "genai_exposure": ["none"],
    "third_party_model": "no",
    "scale": 10,
}


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


@pytest.fixture
def initiative(unit_a, member_a):
    return InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="proposed")


@pytest.fixture
def hidden(unit_b):
    """An initiative of another unit, out of member_a's scope."""
    return InitiativeFactory(business_unit=unit_b, stage="proposed")


def as_fresh_user(api, user):
    """Authenticate with a new user object, so no per-object cache hides a query."""
    api.force_authenticate(type(user).objects.get(pk=user.pk))


def assess(initiative, actor, answers=LOW_RISK):
    draft = services.assessment_start(actor=actor, initiative=initiative)
    services.assessment_answer(actor=actor, assessment=draft, answers=answers)
    return services.assessment_complete(actor=actor, assessment=draft)


def test_anonymous_gets_401(api, initiative):
    for path in (
        ASSESSMENTS,
        "/api/v1/controls/",
        "/api/v1/control-results/",
        "/api/v1/risk-register/",
        f"/api/v1/governance/initiatives/{initiative.pk}/blockers/",
    ):
        assert api.get(path).status_code == 401, path
    response = api.post(f"{ASSESSMENTS}start/", {"initiative": initiative.pk}, format="json")
    assert response.status_code == 401
    assert not RiskAssessment.objects.exists()


def test_start_answer_complete_flow(api, initiative, member_a):
    api.force_authenticate(member_a)
    started = api.post(f"{ASSESSMENTS}start/", {"initiative": initiative.pk}, format="json")
    assert started.status_code == 200, started.content
    draft = started.json()
    assert draft["status"] == "draft" and draft["initiative"] == initiative.pk
    assert draft["questionnaire_version"] == 1 and draft["answers"] == {}
    again = api.post(f"{ASSESSMENTS}start/", {"initiative": initiative.pk}, format="json")
    assert again.json()["id"] == draft["id"]  # one draft per initiative

    partial = api.post(
        f"{ASSESSMENTS}{draft['id']}/answer/",
        {"answers": {"data_sensitivity": "personal"}},
        format="json",
    )
    assert partial.status_code == 200
    body = partial.json()
    assert (body["tier"], body["label"], body["complete"]) == (2, "Tier 2 · limited", False)
    assert "annex_iii_domain" in body["unanswered"] and "data_sensitivity" not in body["unanswered"]

    early = api.post(f"{ASSESSMENTS}{draft['id']}/complete/")
    assert early.status_code == 400
    assert early.json()["annex_iii_domain"] == ["Answer this question."]

    full = api.post(
        f"{ASSESSMENTS}{draft['id']}/answer/", {"answers": CREDIT_SCORING}, format="json"
    ).json()
    assert full["tier"] == 3 and full["unanswered"] == [] and full["complete"] is True
    assert full["score"] > 0
    assert any("Annex III" in line for line in full["rationale"])

    completed = api.post(f"{ASSESSMENTS}{draft['id']}/complete/")
    assert completed.status_code == 200
    body = completed.json()
    assert body["status"] == "completed" and body["is_current"] is True
    assert (body["computed_tier"], body["effective_tier"]) == (3, 3)
    assert body["assessed_by_username"] == "alice"
    assert AuditEvent.objects.filter(action="risk_assessment.completed").count() == 1

    closed = api.post(
        f"{ASSESSMENTS}{draft['id']}/answer/", {"answers": {"scale": 1}}, format="json"
    )
    assert closed.status_code == 400 and "non_field_errors" in closed.json()


def test_invalid_answers_are_400_field_errors_and_not_saved(api, initiative, member_a):
    draft = services.assessment_start(actor=member_a, initiative=initiative)
    api.force_authenticate(member_a)
    response = api.post(
        f"{ASSESSMENTS}{draft.pk}/answer/",
        {"answers": {"data_sensitivity": "secret", "scale": -1, "nonsense": "x"}},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"data_sensitivity", "scale", "nonsense"}
    draft.refresh_from_db()
    assert draft.answers == {}
    shapeless = api.post(f"{ASSESSMENTS}{draft.pk}/answer/", {"answers": "x"}, format="json")
    assert shapeless.status_code == 400 and "answers" in shapeless.json()
    odd_shapes = {"affected_people": [1], "data_sensitivity": {"a": 1}, "annex_iii_domain": [[]]}
    response = api.post(f"{ASSESSMENTS}{draft.pk}/answer/", {"answers": odd_shapes}, format="json")
    assert response.status_code == 400
    assert set(response.json()["answers"]) == set(odd_shapes)
    draft.refresh_from_db()
    assert draft.answers == {}


def test_scoping_404_and_permissions(api, initiative, hidden, member_a, member_b, executive):
    mine = services.assessment_start(actor=member_a, initiative=initiative)
    theirs = services.assessment_start(actor=member_b, initiative=hidden)
    api.force_authenticate(member_a)
    assert [row["id"] for row in api.get(ASSESSMENTS).json()["results"]] == [mine.pk]
    assert api.get(f"{ASSESSMENTS}{theirs.pk}/").status_code == 404
    for action, payload in (("answer", {"answers": {"scale": 5}}), ("complete", {})):
        response = api.post(f"{ASSESSMENTS}{theirs.pk}/{action}/", payload, format="json")
        assert response.status_code == 404, action
    start = api.post(f"{ASSESSMENTS}start/", {"initiative": hidden.pk}, format="json")
    assert start.status_code == 404
    assert api.post(f"{ASSESSMENTS}start/", {}, format="json").json() == {
        "initiative": ["This field is required."]
    }
    theirs.refresh_from_db()
    assert theirs.answers == {}

    # An executive reads every unit but may not assess.
    api.force_authenticate(executive)
    assert {row["id"] for row in api.get(ASSESSMENTS).json()["results"]} == {mine.pk, theirs.pk}
    denied = api.post(f"{ASSESSMENTS}{mine.pk}/answer/", {"answers": {"scale": 5}}, format="json")
    assert denied.status_code == 403
    mine.refresh_from_db()
    assert mine.answers == {}


def test_filter_assessments_by_initiative(api, initiative, member_a, coe_reviewer, unit_a):
    other = InitiativeFactory(business_unit=unit_a)
    first = assess(initiative, member_a)
    services.assessment_start(actor=member_a, initiative=other)
    api.force_authenticate(coe_reviewer)
    rows = api.get(ASSESSMENTS, {"initiative": initiative.pk}).json()["results"]
    assert [row["id"] for row in rows] == [first.pk]
    rows = api.get(ASSESSMENTS, {"status": "draft"}).json()["results"]
    assert [row["initiative"] for row in rows] == [other.pk]


def test_override(api, initiative, member_a, risk_officer):
    current = assess(initiative, member_a)
    path = f"{ASSESSMENTS}{current.pk}/override/"

    api.force_authenticate(member_a)
    denied = api.post(path, {"tier": 4, "justification": "x" * 40}, format="json")
    assert denied.status_code == 403

    api.force_authenticate(risk_officer)
    missing = api.post(path, {"tier": 3}, format="json")
    assert missing.status_code == 400 and "justification" in missing.json()
    short = api.post(path, {"tier": 3, "justification": "Because."}, format="json")
    assert short.status_code == 400
    assert "at least 20 characters" in short.json()["justification"][0]
    bad_tier = api.post(path, {"tier": 7, "justification": "x" * 40}, format="json")
    assert bad_tier.status_code == 400 and "tier" in bad_tier.json()
    current.refresh_from_db()
    assert current.override_tier is None
    assert not AuditEvent.objects.filter(action="risk_assessment.overridden").exists()

    ok = api.post(
        path,
        {"tier": 3, "justification": "Credit decisions need the Tier 3 controls."},
        format="json",
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (body["computed_tier"], body["override_tier"], body["effective_tier"]) == (1, 3, 3)
    assert body["overridden_by_username"] == "rita"
    assert AuditEvent.objects.filter(action="risk_assessment.overridden").count() == 1

    cleared = api.post(
        path, {"tier": None, "justification": "The committee withdrew its concern."}, format="json"
    )
    assert cleared.status_code == 200 and cleared.json()["effective_tier"] == 1


def test_control_library(api, member_a):
    api.force_authenticate(member_a)
    rows = api.get("/api/v1/controls/", {"page_size": 100}).json()["results"]
    by_code = {row["code"]: row for row in rows}
    assert {"GOV-01", "FAIR-01", "TIER-01"} <= set(by_code)
    fair = api.get("/api/v1/controls/FAIR-01/").json()
    assert fair["kind"] == "manual" and fair["eu_ai_act_article"] == "Art. 10(2)(f)"
    assert {"gate": "pilot", "minimum_tier": 3} in fair["requirements"]
    manual = api.get("/api/v1/controls/", {"kind": "manual", "page_size": 100}).json()["results"]
    assert manual and all(row["kind"] == "manual" for row in manual)
    assert api.post("/api/v1/controls/", {"code": "X"}, format="json").status_code == 405


def test_control_results_are_scoped_and_filtered(api, initiative, hidden, member_a, member_b):
    services.controls_evaluate(initiative=initiative)
    services.controls_evaluate(initiative=hidden)
    api.force_authenticate(member_a)
    rows = api.get("/api/v1/control-results/", {"page_size": 100}).json()["results"]
    assert rows and {row["initiative"] for row in rows} == {initiative.pk}
    failing = api.get(
        "/api/v1/control-results/", {"initiative": initiative.pk, "status": "failing"}
    ).json()["results"]
    assert [row["control"] for row in failing] == ["RISK-01"]
    hidden_result = ControlResult.objects.filter(initiative=hidden).first()
    assert api.get(f"/api/v1/control-results/{hidden_result.pk}/").status_code == 404
    assert api.get("/api/v1/control-results/", {"initiative": hidden.pk}).json()["count"] == 0


def test_gate_blockers(api, initiative, hidden, member_a):
    assess(initiative, member_a, CREDIT_SCORING)
    api.force_authenticate(member_a)
    path = f"/api/v1/governance/initiatives/{initiative.pk}/blockers/"
    response = api.get(path, {"gate": "pilot"})
    assert response.status_code == 200
    blockers = {row["code"]: row for row in response.json()}
    assert {"FAIR-01", "HUM-01", "PRIV-01", "SEC-01", "VEN-01"} <= set(blockers)
    assert blockers["FAIR-01"] == {
        "code": "FAIR-01",
        "title": "Bias and fairness evaluation",
        "status": "pending",
        "reason": "Evidence missing or awaiting review.",
    }
    # Without a gate, the initiative's next one (pilot, from proposed) is checked.
    assert api.get(path).json() == response.json()
    assert "gate" in api.get(path, {"gate": "moon"}).json()
    assert api.get(f"/api/v1/governance/initiatives/{hidden.pk}/blockers/").status_code == 404

    for code in blockers:
        ControlResult.objects.filter(initiative=initiative, control__code=code).update(
            status=ResultStatus.WAIVED,
            waiver_expires_on=timezone.localdate() + datetime.timedelta(days=30),
        )
    assert api.get(path, {"gate": "pilot"}).json() == []


def test_risk_register_api_filters(api, initiative, hidden, member_a, risk_officer, unit_a):
    current = assess(initiative, member_a, CREDIT_SCORING)
    services.assessment_override(
        actor=risk_officer,
        assessment=current,
        tier=4,
        justification="Escalated by the model-risk committee.",
    )
    unassessed = InitiativeFactory(business_unit=unit_a)
    api.force_authenticate(member_a)
    rows = api.get("/api/v1/risk-register/").json()["results"]
    assert {row["id"] for row in rows} == {initiative.pk, unassessed.pk}
    row = next(row for row in rows if row["id"] == initiative.pk)
    assert (row["computed_tier"], row["override_tier"], row["effective_tier"]) == (3, 4, 4)
    assert (
        row["controls_total"]
        == ControlResult.objects.filter(initiative=initiative, is_required=True).count()
    )
    assert 0 < row["controls_total"] < Control.objects.filter(is_active=True).count()
    only = api.get("/api/v1/risk-register/", {"tier": "unassessed"}).json()["results"]
    assert [row["id"] for row in only] == [unassessed.pk]
    overridden = api.get("/api/v1/risk-register/", {"has_override": "true"}).json()["results"]
    assert [row["id"] for row in overridden] == [initiative.pk]


# --- Query counts -------------------------------------------------------------------------


def assessed_batch(count, unit, status=AssessmentStatus.COMPLETED):
    questionnaire = services.active_questionnaire()
    initiatives = InitiativeFactory.create_batch(count, business_unit=unit)
    completed = status == AssessmentStatus.COMPLETED
    RiskAssessment.objects.bulk_create(
        RiskAssessment(
            initiative=initiative,
            questionnaire=questionnaire,
            status=status,
            is_current=completed,
            computed_tier=2,
            completed_at=timezone.now() if completed else None,
            assessed_by=initiative.accountable_owner,
        )
        for initiative in initiatives
    )
    gov = Control.objects.get(code="GOV-01")
    ControlResult.objects.bulk_create(
        ControlResult(initiative=initiative, control=gov, status="passing", reviewer=None)
        for initiative in initiatives
    )


@pytest.mark.parametrize(
    "path", [ASSESSMENTS, "/api/v1/risk-register/", "/api/v1/control-results/"]
)
@pytest.mark.parametrize("persona", ["member", "executive"])
def test_list_query_counts_are_constant(
    api, path, persona, member_a, executive, unit_a, django_assert_num_queries
):
    user = member_a if persona == "member" else executive
    assessed_batch(5, unit_a)
    as_fresh_user(api, user)
    with CaptureQueriesContext(connection) as five:
        assert api.get(path).json()["count"] == 5
    assessed_batch(45, unit_a)
    as_fresh_user(api, user)
    with django_assert_num_queries(len(five.captured_queries)):
        assert api.get(path).json()["count"] == 50


def test_openapi_documents_the_governance_endpoints(client, member_a):
    client.force_login(member_a)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for endpoint in (
        "/api/v1/risk-assessments/",
        "/api/v1/risk-assessments/start/",
        "/api/v1/risk-assessments/{id}/answer/",
        "/api/v1/risk-assessments/{id}/complete/",
        "/api/v1/risk-assessments/{id}/override/",
        "/api/v1/controls/",
        "/api/v1/control-results/",
        "/api/v1/risk-register/",
        "/api/v1/governance/initiatives/{id}/blockers/",
    ):
        assert endpoint in paths, endpoint
    answer = paths["/api/v1/risk-assessments/{id}/answer/"]["post"]
    schema = answer["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema.endswith("/TierResult")
    blockers = paths["/api/v1/governance/initiatives/{id}/blockers/"]["get"]
    assert any(parameter["name"] == "gate" for parameter in blockers["parameters"])
