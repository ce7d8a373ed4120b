"""The approval API: submit, list and retrieve (scoped), decide, withdraw, resubmit and
escalate — refusals as 403 with the reason, repeats as 409, bad input as 400 field errors."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from governance.approvals import delegation
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.models import ApprovalRequest, Decision, Escalation
from tests.factories import MembershipFactory, member
from tests.governance.helpers import (
    PERSONAL_DATA,
    assessed,
    separation_of_duties_cases,
    submitted,
    submitted_by_member_for_reviewer_owner,
    two_approval_pilot_policy,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/approval-requests/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def reviewer2(unit_a):
    return member(Role.COE_REVIEWER, unit_a, username="rev2")


def as_fresh_user(api, user):
    """Authenticate with a new user object, so no per-object cache hides a query."""
    api.force_authenticate(type(user).objects.get(pk=user.pk))


def action(approval, name):
    return f"{URL}{approval.pk}/{name}/"


def nothing_decided(approval):
    approval.refresh_from_db()
    return (
        approval.status == RequestStatus.PENDING
        and not Decision.objects.filter(request=approval).exists()
        and not AuditEvent.objects.filter(action__in=["approval_request.approve"]).exists()
    )


def test_anonymous_gets_401(api, unit_a, member_a):
    approval = submitted(unit_a, member_a)
    assert api.get(URL).status_code == 401
    assert api.get(f"{URL}{approval.pk}/").status_code == 401
    assert api.post(action(approval, "decide"), {"outcome": "approve"}).status_code == 401
    assert nothing_decided(approval)


def test_submit_through_the_api(api, unit_a, member_a, coe_reviewer):
    initiative = assessed(unit_a, member_a)
    api.force_authenticate(coe_reviewer)  # not an owner of the initiative
    denied = api.post(URL, {"initiative": initiative.pk, "gate": "pilot"}, format="json")
    assert denied.status_code == 403
    assert "owners and business unit" in denied.json()["detail"]
    assert not ApprovalRequest.objects.exists()

    api.force_authenticate(member_a)
    created = api.post(
        URL, {"initiative": initiative.pk, "gate": "pilot", "comment": "Ready."}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["gate"], body["tier"], body["comment"]) == (
        "pending",
        "pilot",
        2,
        "Ready.",
    )
    assert body["current_step_name"] == "CoE review" and body["current_step_role"] == "coe_reviewer"
    assert body["policy_version"] == 1 and len(body["steps"]) == 1
    assert body["decisions"] == [] and body["escalations"] == []

    again = api.post(URL, {"initiative": initiative.pk, "gate": "pilot"}, format="json")
    assert again.status_code == 409
    assert again.json() == {"detail": "A request for this gate is already open."}
    assert ApprovalRequest.objects.count() == 1


def test_submit_refusals(api, unit_a, unit_b, member_a):
    blocked = assessed(unit_a, member_a, answers=PERSONAL_DATA)
    api.force_authenticate(member_a)
    response = api.post(URL, {"initiative": blocked.pk, "gate": "pilot"}, format="json")
    assert response.status_code == 400
    gate_errors = response.json()["gate"]
    assert gate_errors and all(error.startswith("Blocked by ") for error in gate_errors)
    assert any("PRIV-01" in error for error in gate_errors)

    hidden = assessed(unit_b, member(Role.BU_MEMBER, unit_b, username="olga"))
    response = api.post(URL, {"initiative": hidden.pk, "gate": "pilot"}, format="json")
    assert response.status_code == 404
    response = api.post(URL, {"initiative": blocked.pk, "gate": "moon"}, format="json")
    assert response.status_code == 400 and "gate" in response.json()
    assert not ApprovalRequest.objects.exists()


def test_list_is_scoped_filtered_and_ordered_by_due(api, unit_a, unit_b, member_a, coe_reviewer):
    pilot = submitted(unit_a, member_a)
    intake = submitted(unit_a, member_a, gate="intake", stage="draft")
    olga = member(Role.BU_MEMBER, unit_b, username="olga")
    hidden = submitted(unit_b, olga)
    engine.request_withdraw(actor=olga, request=hidden)

    def ids(user, query=""):
        api.force_authenticate(user)
        response = api.get(f"{URL}{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids(member_a) == [intake.pk, pilot.pk]  # intake's SLA is shorter
    assert api.get(f"{URL}{hidden.pk}/").status_code == 404
    assert ids(olga) == [hidden.pk]
    assert ids(coe_reviewer) == [intake.pk, pilot.pk, hidden.pk]  # decided (no due) last
    assert ids(coe_reviewer, "?ordering=-due") == [pilot.pk, intake.pk, hidden.pk]
    assert ids(coe_reviewer, "?gate=pilot") == [pilot.pk, hidden.pk]
    assert ids(coe_reviewer, "?status=withdrawn") == [hidden.pk]
    assert ids(coe_reviewer, "?tier=2&status=pending") == [intake.pk, pilot.pk]
    assert ids(coe_reviewer, "?tier=3") == []
    assert ids(coe_reviewer, f"?initiative={pilot.initiative_id}") == [pilot.pk]
    assert ids(member_a, f"?initiative={hidden.initiative_id}") == []


def test_list_query_count_is_constant(api, unit_a, coe_reviewer, django_assert_num_queries):
    owner = member(Role.BU_MEMBER, unit_a, username="owner")
    for _ in range(5):
        submitted(unit_a, owner)
    as_fresh_user(api, coe_reviewer)
    with CaptureQueriesContext(connection) as five:
        assert len(api.get(URL).json()["results"]) == 5
    for _ in range(20):
        submitted(unit_a, owner)
    as_fresh_user(api, coe_reviewer)
    with django_assert_num_queries(len(five.captured_queries)):
        assert api.get(URL).json()["count"] == 25


def test_decide_approve_applies_the_gate(api, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    api.force_authenticate(coe_reviewer)
    response = api.post(action(approval, "decide"), {"outcome": "approve"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved" and body["current_step_name"] is None
    assert body["decisions"][0]["approver_username"] == "carol"
    assert body["decisions"][0]["outcome"] == "approve"
    approval.initiative.refresh_from_db()
    assert approval.initiative.stage == "pilot"


def test_separation_of_duties_and_roles_are_403_with_the_reason(
    api, unit_a, member_a, coe_reviewer, reviewer2, executive
):
    cases = separation_of_duties_cases(unit_a, member_a, coe_reviewer, reviewer2, executive)
    for person, approval, reason in cases:
        api.force_authenticate(person)
        response = api.post(action(approval, "decide"), {"outcome": "approve"}, format="json")
        assert response.status_code == 403, person
        assert response.json() == {"detail": reason}
        assert nothing_decided(approval)


def delegated_reviewer(unit, username):
    """A CoE reviewer (also a risk officer) on leave, covered by a risk officer who holds no
    CoE role, so the cover takes CoE steps only on the reviewer's behalf."""
    reviewer = member(Role.COE_REVIEWER, unit, username=username)
    MembershipFactory(user=reviewer, business_unit=unit, role=Role.RISK_OFFICER)
    cover = member(Role.RISK_OFFICER, unit, username=f"{username}-cover")
    delegation.delegation_create(
        actor=reviewer,
        delegate=cover,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    return reviewer, cover


def test_delegate_acting_for_an_owner_is_403_and_for_a_decided_delegator_409(
    api, unit_a, member_a, coe_admin
):
    owner, owner_cover = delegated_reviewer(unit_a, "owner")
    owned = submitted_by_member_for_reviewer_owner(unit_a, member_a, owner)
    api.force_authenticate(owner_cover)
    response = api.post(action(owned, "decide"), {"outcome": "approve"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This step needs CoE reviewer."}
    assert nothing_decided(owned)

    two_approval_pilot_policy(coe_admin)
    reviewer, cover = delegated_reviewer(unit_a, "onleave")
    approval = submitted(unit_a, member_a)
    engine.request_decide(actor=reviewer, request=approval, outcome="approve")
    api.force_authenticate(cover)
    response = api.post(action(approval, "decide"), {"outcome": "approve"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Already decided: you have decided on this step."}
    approval.refresh_from_db()
    assert approval.status == RequestStatus.PENDING
    assert Decision.objects.filter(request=approval).count() == 1


def test_second_decision_by_the_same_person_is_409(api, unit_a, member_a, coe_reviewer, coe_admin):
    two_approval_pilot_policy(coe_admin)
    approval = submitted(unit_a, member_a)
    api.force_authenticate(coe_reviewer)
    first = api.post(action(approval, "decide"), {"outcome": "approve"}, format="json")
    assert first.status_code == 200 and first.json()["status"] == "pending"
    again = api.post(
        action(approval, "decide"), {"outcome": "reject", "comment": "No."}, format="json"
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "Already decided: you have decided on this step."}
    assert Decision.objects.filter(request=approval).count() == 1


def test_deciding_a_closed_request_is_409(api, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    engine.request_withdraw(actor=member_a, request=approval)
    api.force_authenticate(coe_reviewer)
    response = api.post(action(approval, "decide"), {"outcome": "approve"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "Already decided: this request is withdrawn."}


@pytest.mark.parametrize("outcome", ["reject", "request_changes"])
def test_comment_is_required_to_reject_or_request_changes(
    api, unit_a, member_a, coe_reviewer, outcome
):
    approval = submitted(unit_a, member_a)
    api.force_authenticate(coe_reviewer)
    response = api.post(action(approval, "decide"), {"outcome": outcome}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": ["Explain what is wrong or what must change."]}
    response = api.post(action(approval, "decide"), {"outcome": "maybe"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()
    assert nothing_decided(approval)


def test_withdraw_and_resubmit(api, unit_a, member_a, member_b, coe_reviewer):
    approval = submitted(unit_a, member_a)
    api.force_authenticate(coe_reviewer)
    api.post(
        action(approval, "decide"),
        {"outcome": "request_changes", "comment": "Add the plan."},
        format="json",
    )
    api.force_authenticate(coe_reviewer)  # a reviewer is not an owner
    response = api.post(action(approval, "resubmit"), {"comment": "Done."}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only the initiative's owners and business unit can resubmit."
    )

    api.force_authenticate(member_a)
    response = api.post(action(approval, "resubmit"), {"comment": "Plan added."}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["round"]) == ("pending", 2)
    assert api.post(action(approval, "resubmit"), {}, format="json").status_code == 409

    api.force_authenticate(member_b)
    assert api.post(action(approval, "withdraw"), {}, format="json").status_code == 404
    api.force_authenticate(member_a)
    response = api.post(action(approval, "withdraw"), {"reason": "Not now."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert api.post(action(approval, "withdraw"), {}, format="json").status_code == 409


def test_escalate_a_disagreement(api, unit_a, member_a, coe_reviewer, reviewer2, coe_admin):
    two_approval_pilot_policy(coe_admin)
    approval = submitted(unit_a, member_a)
    engine.request_decide(actor=coe_reviewer, request=approval, outcome="approve")
    engine.request_decide(actor=reviewer2, request=approval, outcome="reject", comment="Weak.")

    api.force_authenticate(reviewer2)
    response = api.post(
        action(approval, "escalate"), {"reason": "I rejected it myself."}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Only a reviewer who approved this step can escalate it."}

    api.force_authenticate(coe_reviewer)
    response = api.post(action(approval, "escalate"), {"reason": "Short"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"reason": ["Explain the disagreement (at least 10 characters)."]}
    assert not Escalation.objects.exists()

    response = api.post(
        action(approval, "escalate"), {"reason": "The evidence is strong enough."}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["escalation_level"]) == ("pending", 1)
    assert body["escalations"][0]["reason"] == "disagreement"
    assert body["escalations"][0]["raised_by_username"] == "carol"


def test_overdue_flag(api, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=1)
    )
    api.force_authenticate(coe_reviewer)
    assert api.get(f"{URL}{approval.pk}/").json()["is_overdue"] is True


def test_schema_documents_the_approval_endpoints(client, member_a):
    client.force_login(member_a)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/approval-requests/",
        "/api/v1/approval-requests/{id}/",
        "/api/v1/approval-requests/{id}/decide/",
        "/api/v1/approval-requests/{id}/withdraw/",
        "/api/v1/approval-requests/{id}/resubmit/",
        "/api/v1/approval-requests/{id}/escalate/",
    ):
        assert path in paths, path
    decide = paths["/api/v1/approval-requests/{id}/decide/"]["post"]
    assert {"200", "403", "409"} <= set(decide["responses"])
    assert "ApprovalRequestStatusEnum" in schema["components"]["schemas"]
