"""The approval engine: submission, decisions, separation of duties, escalation, delegation."""

import datetime
import threading

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from core.choices import Role
from core.models import AuditEvent, Notification
from governance.approvals import delegation, escalation, policies
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.models import ApprovalPolicy, ApprovalRequest, Decision, Escalation
from tests.factories import InitiativeFactory, MembershipFactory, member
from tests.governance.helpers import (
    LOW_RISK,
    PERSONAL_DATA,
    TIER_2,
    TIER_3,
    assessed,
    submitted_by_member_for_reviewer_owner,
    two_approval_pilot_policy,
    waive_controls,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(unit_a):
    return {
        "reviewer": member(Role.COE_REVIEWER, unit_a, username="rev1"),
        "reviewer2": member(Role.COE_REVIEWER, unit_a, username="rev2"),
        "lead": member(Role.COE_ADMIN, unit_a, username="colead"),
        "risk": member(Role.RISK_OFFICER, unit_a, username="riskoff"),
        "exec": member(Role.EXECUTIVE, unit_a, username="boss"),
    }


def test_default_policies_are_installed():
    # Six initiative gates × four tiers, and the questionnaire publication gate's one
    # policy (governance content has no tier; issue 19).
    assert ApprovalPolicy.objects.filter(is_active=True).count() == 25
    content = ApprovalPolicy.objects.get(gate="questionnaire", is_active=True)
    assert content.tier == 1 and [s.required_role for s in content.steps.all()] == ["risk_officer"]
    production_3 = ApprovalPolicy.objects.get(tier=3, gate="production", is_active=True)
    assert [s.required_role for s in production_3.steps.all()] == [
        "coe_reviewer",
        "risk_officer",
        "executive",
    ]
    assert ApprovalPolicy.objects.get(tier=4, gate="pilot").blocks_gate


def test_tier_1_pilot_is_fast_tracked_and_moves_the_stage(unit_a, member_a):
    initiative = assessed(unit_a, member_a, LOW_RISK)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    assert request.status == RequestStatus.APPROVED and request.fast_tracked
    initiative.refresh_from_db()
    assert initiative.stage == "pilot"
    assert AuditEvent.objects.filter(action="approval_request.fast_tracked").count() == 1


def test_submit_is_refused_with_every_blocker(unit_a, member_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    with pytest.raises(ValidationError, match="risk assessment"):
        engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    personal = assessed(unit_a, member_a, PERSONAL_DATA)
    with pytest.raises(ValidationError) as caught:
        engine.request_submit(actor=member_a, initiative=personal, gate="pilot")
    assert any("PRIV-01" in message for message in caught.value.message_dict["gate"])
    assert not ApprovalRequest.objects.exists()


def test_tier_4_cannot_be_submitted(unit_a, member_a):
    initiative = assessed(unit_a, member_a, {**LOW_RISK, "prohibited_practice": ["social_scoring"]})
    with pytest.raises(ValidationError, match="Tier 4"):
        engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")


def test_only_owners_submit_and_twice_is_refused(unit_a, member_a, member_b, people):
    initiative = assessed(unit_a, member_a, TIER_2)
    with pytest.raises(PermissionDenied):
        engine.request_submit(actor=member_b, initiative=initiative, gate="pilot")
    engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    with pytest.raises(engine.AlreadyDecided, match="already open"):
        engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    assert ApprovalRequest.objects.count() == 1


def test_tier_2_pilot_needs_a_coe_reviewer_who_is_notified(
    unit_a, member_a, people, django_capture_on_commit_callbacks, mailoutbox
):
    initiative = assessed(unit_a, member_a, TIER_2)
    with django_capture_on_commit_callbacks(execute=True):
        request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    assert request.status == RequestStatus.PENDING and request.tier == 2
    notified = set(Notification.objects.values_list("recipient__username", flat=True))
    assert notified == {"rev1", "rev2"}
    assert sorted(m.to[0] for m in mailoutbox) == ["rev1@example.com", "rev2@example.com"]

    with django_capture_on_commit_callbacks(execute=True):
        engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    request.refresh_from_db()
    initiative.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and initiative.stage == "pilot"
    assert Notification.objects.filter(recipient=member_a, subject__startswith="Approved").exists()


def test_separation_of_duties(unit_a, member_a, people):
    reviewer_owner = people["reviewer"]
    initiative = assessed(unit_a, reviewer_owner, TIER_2)
    request = engine.request_submit(actor=reviewer_owner, initiative=initiative, gate="pilot")
    with pytest.raises(PermissionDenied, match="submitted"):
        engine.request_decide(actor=reviewer_owner, request=request, outcome="approve")

    led = assessed(unit_a, member_a, TIER_2)
    led.technical_lead = people["reviewer2"]
    led.save()
    request = engine.request_submit(actor=member_a, initiative=led, gate="pilot")
    with pytest.raises(PermissionDenied, match="own or lead"):
        engine.request_decide(actor=people["reviewer2"], request=request, outcome="approve")
    with pytest.raises(PermissionDenied, match="needs CoE reviewer"):
        engine.request_decide(actor=people["exec"], request=request, outcome="approve")
    assert not Decision.objects.exists()


def test_accountable_owner_cannot_decide_a_request_someone_else_submitted(unit_a, member_a, people):
    owner = people["reviewer"]
    request = submitted_by_member_for_reviewer_owner(unit_a, member_a, owner)
    assert request.submitted_by == member_a and request.initiative.accountable_owner == owner
    assert not engine.can_decide(owner, request)
    with pytest.raises(PermissionDenied, match="own or lead"):
        engine.request_decide(actor=owner, request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="approval_request.approve").exists()
    engine.request_decide(actor=people["reviewer2"], request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_one_person_counts_once_per_step(unit_a, member_a, people):
    production_2 = ApprovalPolicy.objects.get(tier=2, gate="production", is_active=True)
    policies.policy_revise(
        actor=people["lead"],
        policy=production_2,
        steps=[
            {"name": "Two CoE reviewers", "role": "coe_reviewer", "approvals": 2, "sla_hours": 24}
        ],
    )
    initiative = assessed(unit_a, member_a, TIER_2, stage="pilot")
    waive_controls(initiative, people["risk"], ("HUM-01", "MON-01", "OPS-01", "DATA-01"))
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="production")
    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    with pytest.raises(engine.AlreadyDecided, match="you have decided"):
        engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    engine.request_decide(actor=people["reviewer2"], request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_reject_and_changes_need_a_comment_and_end_the_request(unit_a, member_a, people):
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    with pytest.raises(ValidationError, match="Explain"):
        engine.request_decide(actor=people["reviewer"], request=request, outcome="reject")
    engine.request_decide(
        actor=people["reviewer"],
        request=request,
        outcome="request_changes",
        comment="Add the monitoring plan.",
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.CHANGES_REQUESTED
    with pytest.raises(engine.AlreadyDecided, match="Already decided"):
        engine.request_decide(actor=people["reviewer2"], request=request, outcome="approve")

    resubmitted = engine.request_resubmit(actor=member_a, request=request, comment="Added.")
    assert (resubmitted.status, resubmitted.round) == (RequestStatus.PENDING, 2)
    engine.request_decide(actor=people["reviewer"], request=resubmitted, outcome="approve")
    resubmitted.refresh_from_db()
    assert resubmitted.status == RequestStatus.APPROVED


def test_withdraw(unit_a, member_a, member_b, people):
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    with pytest.raises(PermissionDenied):
        engine.request_withdraw(actor=member_b, request=request)
    engine.request_withdraw(actor=member_a, request=request, reason="Not ready")
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    with pytest.raises(engine.AlreadyDecided):
        engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")


def test_policy_change_does_not_touch_in_flight_request(unit_a, member_a, people):
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    revised = policies.policy_revise(
        actor=people["lead"],
        policy=policy,
        steps=[
            {"name": "CoE review", "role": "coe_reviewer", "approvals": 1, "sla_hours": 72},
            {"name": "Executive", "role": "executive", "approvals": 1, "sla_hours": 72},
        ],
    )
    assert revised.version == 2 and revised.is_active
    request.refresh_from_db()
    assert len(request.steps) == 1 and request.policy_snapshot["version"] == 1
    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED


def test_only_coe_admins_revise_policies(member_a):
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    with pytest.raises(PermissionDenied):
        policies.policy_revise(actor=member_a, policy=policy, steps=[])


def test_delegation_records_both_names(unit_a, member_a, people):
    holiday_cover = member(Role.COE_REVIEWER, unit_a, username="cover")
    delegation.delegation_create(
        actor=people["reviewer"],
        delegate=holiday_cover,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=7),
        reason="Annual leave",
    )
    # The delegate holds the role anyway; make the step need the delegator specifically by
    # removing the cover's own role.
    holiday_cover.memberships.all().delete()
    member(Role.BU_MEMBER, unit_a, username="cover")
    with pytest.raises(ValidationError):
        delegation.delegation_create(
            actor=people["risk"],
            delegate=holiday_cover,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate(),
        )
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    from django.contrib.auth import get_user_model

    cover = get_user_model().objects.get(username="cover")
    decision = engine.request_decide(actor=cover, request=request, outcome="approve")
    assert (decision.approver, decision.on_behalf_of) == (cover, people["reviewer"])


def covered_reviewer(unit, people, username):
    """A CoE reviewer who is also a risk officer, and the risk officer who covers for them: the
    cover may take CoE steps only on the reviewer's behalf (they hold no CoE role)."""
    reviewer = member(Role.COE_REVIEWER, unit, username=username)
    MembershipFactory(user=reviewer, business_unit=unit, role=Role.RISK_OFFICER)
    delegation.delegation_create(
        actor=reviewer,
        delegate=people["risk"],
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + datetime.timedelta(days=7),
        reason="Annual leave",
    )
    return reviewer, people["risk"]


def test_a_delegate_cannot_add_a_second_decision_for_a_delegator_who_decided(
    unit_a, member_a, people
):
    two_approval_pilot_policy(people["lead"])
    reviewer, cover = covered_reviewer(unit_a, people, "onleave")
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    assert engine.decision_capacity(request, cover) == (reviewer, "")
    engine.request_decide(actor=reviewer, request=request, outcome="approve")
    request.refresh_from_db()
    assert not engine.can_decide(cover, request)
    with pytest.raises(engine.AlreadyDecided, match="Already decided: you have decided"):
        engine.request_decide(actor=cover, request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING  # one of the two approvals, not both
    assert list(Decision.objects.values_list("approver", "on_behalf_of")) == [(reviewer.pk, None)]


def test_a_delegator_cannot_decide_after_their_delegate_acted_for_them(unit_a, member_a, people):
    two_approval_pilot_policy(people["lead"])
    reviewer, cover = covered_reviewer(unit_a, people, "onleave")
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    engine.request_decide(actor=cover, request=request, outcome="approve")
    request.refresh_from_db()
    with pytest.raises(engine.AlreadyDecided, match="Already decided: you have decided"):
        engine.request_decide(actor=reviewer, request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert Decision.objects.count() == 1


def test_a_delegate_cannot_act_for_a_delegator_who_owns_the_initiative(unit_a, member_a, people):
    owner, cover = covered_reviewer(unit_a, people, "owner")
    request = submitted_by_member_for_reviewer_owner(unit_a, member_a, owner)
    with pytest.raises(PermissionDenied, match="own or lead"):
        engine.request_decide(actor=owner, request=request, outcome="approve")
    assert engine.decision_capacity(request, cover)[0] is None
    assert not engine.can_decide(cover, request)
    with pytest.raises(PermissionDenied, match="needs CoE reviewer"):
        engine.request_decide(actor=cover, request=request, outcome="approve")
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING
    assert not Decision.objects.exists()
    assert not AuditEvent.objects.filter(action="approval_request.approve").exists()


def test_tier_3_production_escalates_through_the_ladder_then_is_approved(
    unit_a, member_a, people, django_capture_on_commit_callbacks, mailoutbox
):
    initiative = assessed(unit_a, member_a, TIER_3, stage="pilot")
    waive_controls(
        initiative,
        people["risk"],
        ("FAIR-01", "HUM-01", "MON-01", "OPS-01", "DATA-01", "TRN-01"),
        days=60,
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        request = engine.request_submit(actor=member_a, initiative=initiative, gate="production")
    assert [s["role"] for s in request.steps] == ["coe_reviewer", "risk_officer", "executive"]
    # The first step's approvers, each once.
    assert sorted(m.to[0] for m in mailoutbox) == ["rev1@example.com", "rev2@example.com"]
    mailoutbox.clear()

    def escalate_at(hours):
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                count = escalation.escalate_overdue()
                assert mailoutbox == [], "emails go out only after commit"
            assert callbacks or count == 0
            assert escalation.escalate_overdue() == 0  # each level once, however often it runs
        request.refresh_from_db()
        sent = sorted(m.to[0] for m in mailoutbox)
        mailoutbox.clear()
        return count, sent

    # Nobody takes the CoE step (SLA 72 h): CoE lead, then risk officer, then executive.
    assert escalate_at(73) == (1, ["colead@example.com"])
    assert escalate_at(73 * 2) == (1, ["riskoff@example.com"])
    assert escalate_at(73 * 3) == (1, ["boss@example.com"])
    assert escalate_at(73 * 4) == (0, [])  # the executive is the last level
    from governance.approvals.selectors import request_queue

    assert list(request_queue(user=people["exec"])) == [request]  # escalated into their queue
    assert list(Escalation.objects.values_list("level", "to_role")) == [
        (1, "coe_admin"),
        (2, "risk_officer"),
        (3, "executive"),
    ]
    assert request.escalation_level == 3

    def decide(actor):
        """``actor`` approves the current step; returns who was emailed after commit."""
        with django_capture_on_commit_callbacks(execute=True):
            engine.request_decide(actor=actor, request=request, outcome="approve")
            assert mailoutbox == [], "emails go out only after commit"
        request.refresh_from_db()
        sent = [m.to[0] for m in mailoutbox]
        subjects = {m.subject for m in mailoutbox}
        mailoutbox.clear()
        return sorted(sent), subjects

    needed = f"[Keel] Approval needed: {initiative.reference} · Production gate"
    with time_machine.travel(start + datetime.timedelta(hours=300), tick=False):
        # The executive decides the escalated CoE step, then the risk officer and the
        # executive take their own steps; each next step's approvers are asked once.
        assert decide(people["exec"]) == (["riskoff@example.com"], {needed})
        assert (request.current_step, request.escalation_level) == (1, 0)
        assert decide(people["risk"]) == (["boss@example.com"], {needed})
        assert request.current_step == 2
        sent, subjects = decide(people["exec"])
    assert sent == [member_a.email]  # submitter and owner are one person: emailed once
    assert subjects == {f"[Keel] Approved: {initiative.reference} · Production gate"}
    with pytest.raises(engine.AlreadyDecided):
        engine.request_decide(actor=people["exec"], request=request, outcome="approve")
    request.refresh_from_db()
    initiative.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and initiative.stage == "production"


def test_disagreement_can_be_escalated_by_the_approving_reviewer(unit_a, member_a, people):
    production_2 = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    policies.policy_revise(
        actor=people["lead"],
        policy=production_2,
        steps=[{"name": "Panel", "role": "coe_reviewer", "approvals": 2, "sla_hours": 24}],
    )
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    engine.request_decide(
        actor=people["reviewer2"], request=request, outcome="reject", comment="Weak case."
    )
    with pytest.raises(PermissionDenied):
        escalation.request_escalate_disagreement(
            actor=people["reviewer2"], request=request, reason="I rejected it myself."
        )
    reopened = escalation.request_escalate_disagreement(
        actor=people["reviewer"], request=request, reason="The evidence is strong enough."
    )
    assert reopened.status == RequestStatus.PENDING and reopened.escalation_level == 1
    assert Escalation.objects.get().reason == "disagreement"
    # Only the higher level (CoE leads) decides now, and the request is in their queue.
    from governance.approvals.selectors import request_queue

    second_lead = member(Role.COE_ADMIN, unit_a, username="colead2")
    assert list(request_queue(user=people["lead"])) == [reopened]
    assert list(request_queue(user=people["reviewer"])) == []
    with pytest.raises(PermissionDenied, match="CoE admin"):
        engine.request_decide(actor=people["reviewer2"], request=reopened, outcome="approve")
    engine.request_decide(actor=people["lead"], request=reopened, outcome="approve")
    engine.request_decide(actor=second_lead, request=reopened, outcome="approve")
    reopened.refresh_from_db()
    assert reopened.status == RequestStatus.APPROVED


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and threads need PostgreSQL"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_approvers_apply_the_gate_once(unit_a, member_a):
    from governance.risk.services import library_install_defaults

    library_install_defaults()
    policies.policies_install_defaults()
    reviewers = [member(Role.COE_REVIEWER, unit_a, username=f"par{n}") for n in range(20)]
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    barrier, outcomes = threading.Barrier(20), []

    def decide(reviewer):
        try:
            barrier.wait()
            engine.request_decide(actor=reviewer, request=request, outcome="approve")
            outcomes.append("approved")
        except engine.AlreadyDecided as error:
            outcomes.append(f"already: {error.messages[0]}")
        except Exception as error:  # noqa: BLE001 - any other error fails the test below
            outcomes.append(f"error: {error!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(r,)) for r in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("approved") == 1, outcomes
    assert all(o.startswith("already: Already decided") for o in outcomes if o != "approved")
    assert Decision.objects.count() == 1
    initiative.refresh_from_db()
    assert initiative.stage == "pilot"
    assert initiative.stage_changes.filter(to_stage="pilot").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_escalation_runs_escalate_once(unit_a, member_a):
    from governance.risk.services import library_install_defaults

    library_install_defaults()
    policies.policies_install_defaults()
    member(Role.COE_REVIEWER, unit_a, username="solo")
    requests = []
    for _ in range(6):
        initiative = assessed(unit_a, member_a, TIER_2)
        requests.append(engine.request_submit(actor=member_a, initiative=initiative, gate="pilot"))
    later = timezone.now() + datetime.timedelta(hours=80)
    barrier, counts = threading.Barrier(4), []

    def run():
        try:
            barrier.wait()
            counts.append(escalation.escalate_overdue(now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 6
    assert Escalation.objects.count() == 6
    assert set(Escalation.objects.values_list("level", flat=True)) == {1}


def test_decisions_reach_the_units_webhook_signed(
    unit_a, member_a, people, coe_admin, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from tests.core.test_webhooks import Receiver, ReceiverHandler  # the real HTTP receiver

    settings.DEBUG = True  # allows the local http:// receiver
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    from http.server import ThreadingHTTPServer

    from core.services import webhook_create

    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceiverHandler)
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        webhook = webhook_create(
            actor=coe_admin,
            data={
                "name": "retail-chat",
                "url": server.receiver.url("/retail"),
                "business_unit": unit_a,
                "kinds": ["approval_decided"],
            },
        )
        server.receiver.secrets["/retail"] = webhook.secret
        initiative = assessed(unit_a, member_a, TIER_2)
        with django_capture_on_commit_callbacks(execute=True):
            request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
        assert server.receiver.requests == []  # "requested" is not a kind this hook wants
        with django_capture_on_commit_callbacks(execute=True):
            engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    finally:
        server.shutdown()
        server.server_close()
    [received] = server.receiver.requests
    assert received.signature_valid
    body = received.json
    assert body["event"] == "approval_decided"
    assert body["data"]["event"] == "approved" and body["data"]["request"] == request.pk
    assert body["business_unit"]["code"] == unit_a.code
