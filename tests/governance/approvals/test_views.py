"""HTML views of approvals: the queue, the request dossier and its decisions (htmx and
plain), submitting for a gate, policies, delegations and the escalation command — with
refused calls shown to change nothing."""

import datetime
import io

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.models import AuditEvent
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.models import (
    ApprovalPolicy,
    ApprovalRequest,
    Decision,
    Delegation,
    Escalation,
)
from governance.risk import controls
from tests.factories import member
from tests.governance.helpers import (
    PERSONAL_DATA,
    assessed,
    separation_of_duties_cases,
    submitted,
    two_approval_pilot_policy,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}

QUEUE = reverse("governance:queue")


@pytest.fixture
def reviewer2(unit_a):
    return member(Role.COE_REVIEWER, unit_a, username="rev2")


def request_url(name, approval):
    return reverse(f"governance:{name}", args=[approval.pk])


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def decision_rows_unchanged(approval):
    return not Decision.objects.filter(request=approval).exists() and not (
        AuditEvent.objects.filter(
            object_type="governance.approvalrequest", action__startswith="approval_request."
        )
        .exclude(action="approval_request.submitted")
        .exists()
    )


# --- Access -----------------------------------------------------------------------------------


def test_anonymous_is_redirected_to_login(client, unit_a, member_a):
    approval = submitted(unit_a, member_a)
    policy = ApprovalPolicy.objects.filter(is_active=True).first()
    for page in (
        QUEUE,
        request_url("request_detail", approval),
        reverse("governance:policy_list"),
        reverse("governance:policy_edit", args=[policy.pk]),
        reverse("governance:delegations"),
        reverse("governance:initiative_requests", args=[approval.initiative_id]),
    ):
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("login"))


def test_other_unit_member_gets_404(client, unit_a, member_a, member_b):
    approval = submitted(unit_a, member_a)
    client.force_login(member_b)
    assert client.get(request_url("request_detail", approval)).status_code == 404
    for action in ("request_decide", "request_withdraw", "request_resubmit", "request_escalate"):
        response = client.post(request_url(action, approval), {"outcome": "approve"})
        assert response.status_code == 404, action
    response = client.post(
        reverse("governance:request_submit", args=[approval.initiative_id]), {"gate": "intake"}
    )
    assert response.status_code == 404
    assert client.get(f"{QUEUE}?scope=all").context["page_obj"].paginator.count == 0
    approval.refresh_from_db()
    assert approval.status == RequestStatus.PENDING
    assert decision_rows_unchanged(approval)


# --- Queue ------------------------------------------------------------------------------------


def test_queue_lists_requests_awaiting_my_role_most_urgent_first(
    client, unit_a, member_a, coe_reviewer, executive
):
    later = submitted(unit_a, member_a, title="Later one")
    overdue = submitted(unit_a, member_a, title="Overdue one")
    ApprovalRequest.objects.filter(pk=overdue.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(hours=5)
    )
    client.force_login(coe_reviewer)
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert [row.pk for row in response.context["page_obj"]] == [overdue.pk, later.pk]
    page = response.content.decode()
    assert page.count('<tr class="overdue">') == 1
    assert '<span class="badge overdue-badge">Overdue</span> by 5' in page
    assert "CoE review" in page and "CoE reviewer" in page  # step name and role
    assert later.initiative.reference in page and "Pilot" in page
    assert member_a.get_full_name() in page  # submitted by
    assert 'aria-current="page">Awaiting me</a>' in page

    # An executive holds no role any pending step needs.
    client.force_login(executive)
    assert client.get(QUEUE).context["page_obj"].paginator.count == 0
    assert client.get(f"{QUEUE}?scope=all").context["page_obj"].paginator.count == 2


def test_mine_leaves_out_what_i_may_not_or_did_decide(
    client, unit_a, member_a, coe_reviewer, coe_admin
):
    two_approval_pilot_policy(coe_admin)
    mine = submitted(unit_a, coe_reviewer, title="Carol's own")  # separation of duties
    decided = submitted(unit_a, member_a, title="Decided by carol")
    waiting = submitted(unit_a, member_a, title="Waiting for carol")
    engine.request_decide(actor=coe_reviewer, request=decided, outcome="approve")
    client.force_login(coe_reviewer)

    def listed(scope):
        response = client.get(f"{QUEUE}?scope={scope}")
        return {row.pk for row in response.context["page_obj"]}

    assert listed("mine") == {waiting.pk}
    assert listed("role") == {mine.pk, decided.pk, waiting.pk}
    assert listed("all") == {mine.pk, decided.pk, waiting.pk}


def test_queue_filters_and_htmx_partial(client, unit_a, unit_b, member_a, coe_reviewer):
    pilot = submitted(unit_a, member_a)
    intake = submitted(unit_a, member_a, gate="intake", stage="draft")
    other_owner = member(Role.BU_MEMBER, unit_b, username="olga")
    other_unit = submitted(unit_b, other_owner)
    engine.request_withdraw(actor=other_owner, request=other_unit)
    client.force_login(coe_reviewer)

    def listed(query, **headers):
        response = client.get(f"{QUEUE}?{query}", **headers)
        assert response.status_code == 200
        return response, [row.pk for row in response.context["page_obj"]]

    assert listed("gate=intake")[1] == [intake.pk]
    assert listed("tier=2")[1] == [intake.pk, pilot.pk]  # intake's SLA is shorter
    assert listed("tier=3")[1] == []
    assert listed(f"business_unit={unit_a.pk}")[1] == [intake.pk, pilot.pk]
    # Status is a filter of the "all" tab only; the other tabs list pending requests.
    assert listed("status=withdrawn")[1] == [intake.pk, pilot.pk]
    assert listed("scope=all&status=withdrawn")[1] == [other_unit.pk]
    assert "status" not in listed("")[0].context["filter"].form.fields
    assert "status" in listed("scope=all")[0].context["filter"].form.fields

    response, rows = listed("scope=all&gate=pilot", **HTMX)
    body = response.content.decode()
    assert "<html" not in body and 'class="filters"' not in body
    assert pilot.initiative.reference in body and "Status" in body
    assert response["HX-Push-Url"] == f"{QUEUE}?scope=all&gate=pilot"
    assert rows == [pilot.pk, other_unit.pk]


def test_queue_business_unit_filter_offers_visible_units_only(client, unit_a, unit_b, member_a):
    client.force_login(member_a)
    field = client.get(f"{QUEUE}?scope=all").context["filter"].form.fields["business_unit"]
    assert [unit.code for unit in field.queryset] == ["RETAIL"]


def test_queue_query_count_does_not_grow_with_requests(
    client, unit_a, coe_reviewer, django_assert_num_queries
):
    owner = member(Role.BU_MEMBER, unit_a, username="owner")

    def make(count):
        for _ in range(count):
            submitted(unit_a, owner)

    make(5)
    client.force_login(coe_reviewer)
    client.get(QUEUE)  # warm per-process caches
    with CaptureQueriesContext(connection) as five:
        response = client.get(f"{QUEUE}?tier=2")
    assert response.context["page_obj"].paginator.count == 5
    make(45)
    with django_assert_num_queries(len(five.captured_queries)):
        response = client.get(f"{QUEUE}?tier=2")
    assert response.context["page_obj"].paginator.count == 50
    assert len(five.captured_queries) <= 9


# --- The request page ----------------------------------------------------------------------


def test_request_page_is_the_dossier(client, unit_a, member_a, coe_reviewer):
    initiative = assessed(unit_a, member_a, purpose="Route claims to the right team.")
    approval = engine.request_submit(
        actor=member_a, initiative=initiative, gate="pilot", comment="Ready for pilot."
    )
    for number in range(25):
        record_event(
            actor=member_a, action="initiative.updated", target=initiative, reason=f"Edit {number}"
        )
    client.force_login(coe_reviewer)
    page = client.get(request_url("request_detail", approval)).content.decode()
    assert "Route claims to the right team." in page
    assert "Retail Banking" in page and member_a.get_full_name() in page
    assert "Tier 2" in page and "Computed: Tier 2 · limited" in page
    assert "No control blocks this gate." in page
    assert "CoE review" in page and "Awaiting decision" in page
    assert "Ready for pilot." in page
    assert "No models linked." in page and "No GPU allocations." in page
    # The initiative's audit history, newest 20 first.
    assert page.count("<code>initiative.updated</code>") == 20
    assert page.index("Edit 24") < page.index("Edit 5") and "Edit 4<" not in page
    assert 'hx-post="' + request_url("request_decide", approval) + '"' in page
    for button in ("Approve", "Request changes", "Reject"):
        assert f'value="{button.lower().replace(" ", "_")}">{button}</button>' in page


def test_submitter_sees_status_and_withdraw_but_no_decision(client, unit_a, member_a):
    approval = submitted(unit_a, member_a)
    client.force_login(member_a)
    page = client.get(request_url("request_detail", approval)).content.decode()
    assert "You submitted this request, so you cannot decide on it." in page
    assert 'name="outcome"' not in page
    assert ">Withdraw</button>" in page and ">Resubmit</button>" not in page

    response = client.post(request_url("request_withdraw", approval), {"reason": "Not yet."})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == RequestStatus.WITHDRAWN
    page = client.get(request_url("request_detail", approval)).content.decode()
    assert "Request withdrawn." in page and ">Withdraw</button>" not in page


def test_request_page_query_count_does_not_grow_with_the_timeline(
    client, unit_a, member_a, coe_reviewer, django_assert_num_queries
):
    approval = submitted(unit_a, member_a)
    approvers = [member(Role.COE_REVIEWER, unit_a, username=f"past{n}") for n in range(6)]
    now = timezone.now()

    def add_history(rounds):
        for round_number in rounds:
            Decision.objects.create(
                request=approval,
                round=round_number,
                step_index=0,
                approver=approvers[round_number % len(approvers)],
                on_behalf_of=approvers[(round_number + 1) % len(approvers)],
                outcome="request_changes",
                comment=f"Round {round_number}: add the monitoring plan.",
                created_at=now,
            )
            Escalation.objects.create(
                request=approval,
                round=round_number,
                step_index=0,
                level=1,
                to_role=Role.COE_ADMIN,
                reason="sla",
                raised_by=approvers[0] if round_number % 2 else None,
                created_at=now,
            )

    add_history(range(100, 101))  # rounds far from the current one: the step stays open
    client.force_login(coe_reviewer)
    url = request_url("request_detail", approval)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        page = client.get(url).content.decode()
    assert page.count('class="decision-request_changes"') == 1
    add_history(range(101, 106))
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('class="decision-request_changes"') == 6
    assert page.count('class="escalation"') == 6


# --- Deciding -------------------------------------------------------------------------------


def test_htmx_approval_returns_only_the_partial_and_moves_the_stage(
    client, unit_a, member_a, coe_reviewer
):
    approval = submitted(unit_a, member_a)
    client.force_login(coe_reviewer)
    response = client.post(
        request_url("request_decide", approval), {"outcome": "approve", "comment": ""}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card decision" id="decision"')
    assert "<html" not in body and "Timeline" not in body
    assert "You chose “Approve” on CoE review." in body
    assert (
        "Approved" in body and '<span class="badge badge-pilot" id="initiative-stage">Pilot' in body
    )
    assert 'name="outcome"' not in body  # nothing left to decide
    approval.refresh_from_db()
    assert approval.status == RequestStatus.APPROVED
    assert AuditEvent.objects.filter(action="approval_request.approve", actor=coe_reviewer).exists()


def test_plain_post_decision_redirects_back_with_a_message(client, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    client.force_login(coe_reviewer)
    response = client.post(
        request_url("request_decide", approval),
        {"outcome": "request_changes", "comment": "Add the monitoring plan."},
    )
    assert response.status_code == 302
    assert response["Location"] == request_url("request_detail", approval)
    assert message_texts(response) == ["You chose “Request changes” on CoE review."]
    approval.refresh_from_db()
    assert approval.status == RequestStatus.CHANGES_REQUESTED


@pytest.mark.parametrize("outcome", ["reject", "request_changes"])
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_reject_and_request_changes_need_a_comment(
    client, unit_a, member_a, coe_reviewer, outcome, headers
):
    approval = submitted(unit_a, member_a)
    client.force_login(coe_reviewer)
    response = client.post(
        request_url("request_decide", approval), {"outcome": outcome, "comment": "  "}, **headers
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="form-row field-error"' in body
    assert "Explain what is wrong or what must change." in body
    assert ("<html" in body) == (not headers)
    approval.refresh_from_db()
    assert approval.status == RequestStatus.PENDING
    assert decision_rows_unchanged(approval)


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_separation_of_duties_refusals_are_403_with_the_reason(
    client, unit_a, member_a, coe_reviewer, reviewer2, executive, headers
):
    cases = separation_of_duties_cases(unit_a, member_a, coe_reviewer, reviewer2, executive)
    for person, approval, reason in cases:
        client.force_login(person)
        response = client.post(
            request_url("request_decide", approval), {"outcome": "approve"}, **headers
        )
        assert response.status_code == 403, person
        body = response.content.decode()
        assert reason in body, person
        assert ("<html" in body) == (not headers)
        approval.refresh_from_db()
        assert approval.status == RequestStatus.PENDING
        assert decision_rows_unchanged(approval)


def test_second_decision_by_the_same_person_is_already_decided(
    client, unit_a, member_a, coe_reviewer, coe_admin
):
    two_approval_pilot_policy(coe_admin)
    approval = submitted(unit_a, member_a)
    client.force_login(coe_reviewer)
    url = request_url("request_decide", approval)
    assert client.post(url, {"outcome": "approve"}, **HTMX).status_code == 200

    page = client.get(request_url("request_detail", approval)).content.decode()
    assert "You have decided on this step; it awaits other approvers." in page
    assert "1 of 2 so far" in page

    # A repeated form (another tab, a double click): said clearly, nothing written.
    response = client.post(url, {"outcome": "approve"}, **HTMX)
    assert response.status_code == 200
    assert "Already decided: you have decided on this step." in response.content.decode()
    response = client.post(url, {"outcome": "reject", "comment": "Changed my mind."})
    assert response.status_code == 302
    assert message_texts(response) == ["Already decided: you have decided on this step."]
    assert Decision.objects.filter(request=approval).count() == 1


def test_deciding_a_closed_request_says_already_decided(client, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    engine.request_withdraw(actor=member_a, request=approval)
    client.force_login(coe_reviewer)
    response = client.post(request_url("request_decide", approval), {"outcome": "approve"}, **HTMX)
    assert "Already decided: this request is withdrawn." in response.content.decode()
    assert not Decision.objects.exists()


def test_changes_requested_then_resubmitted_from_the_page(client, unit_a, member_a, coe_reviewer):
    approval = submitted(unit_a, member_a)
    engine.request_decide(
        actor=coe_reviewer, request=approval, outcome="request_changes", comment="Add a plan."
    )
    client.force_login(member_a)
    page = client.get(request_url("request_detail", approval)).content.decode()
    assert ">Resubmit</button>" in page and "Add a plan." in page
    response = client.post(request_url("request_resubmit", approval), {"comment": "Plan added."})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert (approval.status, approval.round) == (RequestStatus.PENDING, 2)

    # Resubmitting again is refused clearly, not a second round.
    response = client.post(request_url("request_resubmit", approval), {"comment": "Again"})
    assert (
        message_texts(response)[-1] == "Only a request with changes requested can be resubmitted."
    )
    approval.refresh_from_db()
    assert approval.round == 2


def test_reviewer_who_approved_escalates_a_disagreement(
    client, unit_a, member_a, coe_reviewer, reviewer2, coe_admin
):
    two_approval_pilot_policy(coe_admin)
    approval = submitted(unit_a, member_a)
    engine.request_decide(actor=coe_reviewer, request=approval, outcome="approve")
    engine.request_decide(
        actor=reviewer2, request=approval, outcome="reject", comment="The case is weak."
    )
    client.force_login(reviewer2)  # rejected: nothing to escalate
    assert (
        "Escalate disagreement"
        not in client.get(request_url("request_detail", approval)).content.decode()
    )

    client.force_login(coe_reviewer)
    url = request_url("request_detail", approval)
    assert "Escalate disagreement" in client.get(url).content.decode()
    short = client.post(request_url("request_escalate", approval), {"reason": "No."})
    assert short.status_code == 200
    assert "Explain the disagreement (at least 10 characters)." in short.content.decode()
    assert not Escalation.objects.exists()

    response = client.post(
        request_url("request_escalate", approval), {"reason": "The evidence is strong enough."}
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == RequestStatus.PENDING and approval.escalation_level == 1
    assert Escalation.objects.get().raised_by == coe_reviewer


# --- Submitting -----------------------------------------------------------------------------


def test_owner_submits_from_the_controls_page(client, unit_a, member_a, coe_reviewer):
    initiative = assessed(unit_a, member_a)
    client.force_login(member_a)
    controls = client.get(reverse("governance:controls", args=[initiative.pk])).content.decode()
    box = reverse("governance:initiative_requests", args=[initiative.pk])
    assert f'hx-get="{box}"' in controls
    panel = client.get(box).content.decode()
    assert "Submit for the Pilot gate</button>" in panel
    assert "No approval requests yet." in panel

    response = client.post(
        reverse("governance:request_submit", args=[initiative.pk]),
        {"gate": "pilot", "comment": "Please review."},
    )
    approval = ApprovalRequest.objects.get(initiative=initiative)
    assert response.status_code == 302
    assert response["Location"] == request_url("request_detail", approval)
    assert message_texts(response) == ["Submitted for the Pilot gate."]
    assert approval.comment == "Please review."

    panel = client.get(box).content.decode()
    assert "Submit for the" not in panel
    assert "gate request</a> is open" in panel and "Pending" in panel

    # Reviewers see the list, not the button.
    client.force_login(coe_reviewer)
    panel = client.get(box).content.decode()
    assert "Submit for the" not in panel and request_url("request_detail", approval) in panel


def test_risk_panel_loads_the_approval_box(client, unit_a, member_a):
    initiative = assessed(unit_a, member_a)
    client.force_login(member_a)
    panel = client.get(reverse("governance:risk_panel", args=[initiative.pk])).content.decode()
    assert reverse("governance:initiative_requests", args=[initiative.pk]) in panel


def test_refused_submission_lists_every_blocker(client, unit_a, member_a):
    initiative = assessed(unit_a, member_a, answers=PERSONAL_DATA)
    blockers = controls.gate_blockers(initiative, "pilot")
    assert len(blockers) >= 1
    client.force_login(member_a)
    response = client.post(
        reverse("governance:request_submit", args=[initiative.pk]), {"gate": "pilot"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("governance:controls", args=[initiative.pk])
    texts = message_texts(response)
    assert texts[0] == "The Pilot gate submission was refused:"
    assert texts[1:] == [f"Blocked by {blocker}" for blocker in blockers]
    assert not ApprovalRequest.objects.exists()


def test_only_owners_submit_and_twice_is_refused(client, unit_a, member_a, coe_reviewer):
    initiative = assessed(unit_a, member_a)
    url = reverse("governance:request_submit", args=[initiative.pk])
    client.force_login(coe_reviewer)
    assert client.post(url, {"gate": "pilot"}).status_code == 403
    assert not ApprovalRequest.objects.exists()
    client.force_login(member_a)
    client.post(url, {"gate": "pilot"})
    response = client.post(url, {"gate": "pilot"})
    assert message_texts(response)[-1] == "A request for this gate is already open."
    assert ApprovalRequest.objects.count() == 1


# --- Policies ---------------------------------------------------------------------------------


def step_data(steps, initial=0):
    data = {
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(initial),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "6",
    }
    for index, step in enumerate(steps):
        for key, value in step.items():
            if value is not False:
                data[f"steps-{index}-{key}"] = value
    return data


def a_step(name, role="coe_reviewer", order=None, **extra):
    step = {
        "name": name,
        "role": role,
        "approvals": "1",
        "sla_hours": "72",
        "escalation_role": "coe_admin",
        "ORDER": "" if order is None else str(order),
    }
    step.update(extra)
    return step


def test_policy_list_shows_every_tier_and_gate(client, member_a, coe_admin):
    client.force_login(member_a)
    response = client.get(reverse("governance:policy_list"))
    page = response.content.decode()
    # 6 initiative gates × 4 tiers + the questionnaire publication gate's one policy.
    assert sum(len(policies) for policies in response.context["by_gate"].values()) == 25
    assert "Production gate" in page and "Executive sign-off" in page
    assert "Tier 4 (unacceptable risk) cannot pass any gate." in page
    assert "/edit/" not in page  # only CoE admins edit
    client.force_login(coe_admin)
    assert "/edit/" in client.get(reverse("governance:policy_list")).content.decode()


def test_policy_edit_publishes_a_version_and_in_flight_requests_keep_theirs(
    client, unit_a, member_a, coe_admin, coe_reviewer
):
    approval = submitted(unit_a, member_a)
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    url = reverse("governance:policy_edit", args=[policy.pk])
    client.force_login(coe_admin)
    page = client.get(url).content.decode()
    assert 'value="CoE review"' in page and "Version history" in page

    data = step_data(
        [
            a_step("CoE review", order=1),
            a_step("Executive sign-off", role="executive", order=2, sla_hours="120"),
        ],
        initial=1,
    )
    response = client.post(url, data)
    assert response.status_code == 302
    revised = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    assert revised.version == 2 and revised.created_by == coe_admin
    assert [(s.name, s.required_role, s.sla_hours) for s in revised.steps.all()] == [
        ("CoE review", "coe_reviewer", 72),
        ("Executive sign-off", "executive", 120),
    ]
    assert response["Location"] == reverse("governance:policy_edit", args=[revised.pk])
    assert AuditEvent.objects.filter(action="approval_policy.revised", actor=coe_admin).exists()
    history = client.get(response["Location"]).content.decode()
    assert "Published version 2 of Pilot · Tier 2." in history
    assert ">v1</a>" in history and ">v2</a>" in history

    # The in-flight request keeps its one-step snapshot and is approved by that one step.
    client.force_login(coe_reviewer)
    page = client.get(request_url("request_detail", approval)).content.decode()
    assert "policy version 1, as submitted" in page and "Executive sign-off" not in page
    client.post(request_url("request_decide", approval), {"outcome": "approve"})
    approval.refresh_from_db()
    assert approval.status == RequestStatus.APPROVED
    assert approval.policy_snapshot["version"] == 1


def test_policy_edit_reorders_and_deletes_steps(client, coe_admin):
    policy = ApprovalPolicy.objects.get(tier=3, gate="production", is_active=True)
    data = step_data(
        [
            a_step("CoE review", order=2),
            a_step("Risk review", role="risk_officer", order=1),
            a_step("Executive sign-off", role="executive", order=3, DELETE="on"),
        ],
        initial=3,
    )
    client.force_login(coe_admin)
    assert client.post(reverse("governance:policy_edit", args=[policy.pk]), data).status_code == 302
    revised = ApprovalPolicy.objects.get(tier=3, gate="production", is_active=True)
    assert [s.name for s in revised.steps.all()] == ["Risk review", "CoE review"]


def test_policy_edit_errors_are_shown_and_nothing_is_published(client, coe_admin):
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    url = reverse("governance:policy_edit", args=[policy.pk])
    client.force_login(coe_admin)
    response = client.post(url, step_data([a_step("CoE review", DELETE="on")], initial=1))
    assert response.status_code == 200
    assert "A policy needs at least one step." in response.content.decode()
    response = client.post(url, step_data([a_step("", approvals="0")], initial=1))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This field is required." in body
    assert "Ensure this value is greater than or equal to 1." in body
    assert ApprovalPolicy.objects.filter(tier=2, gate="pilot").count() == 1


@pytest.mark.parametrize("persona", ["member", "reviewer", "executive"])
def test_only_coe_admins_edit_policies(client, persona, member_a, coe_reviewer, executive):
    person = {"member": member_a, "reviewer": coe_reviewer, "executive": executive}[persona]
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    url = reverse("governance:policy_edit", args=[policy.pk])
    client.force_login(person)
    assert client.get(url).status_code == 403
    assert client.post(url, step_data([a_step("Sneaky")], initial=1)).status_code == 403
    assert ApprovalPolicy.objects.filter(tier=2, gate="pilot").count() == 1
    assert not AuditEvent.objects.filter(action="approval_policy.revised").exists()


# --- Delegations ----------------------------------------------------------------------------


def test_reviewer_delegates_to_a_colleague_with_the_same_role(
    client, unit_a, member_a, coe_reviewer, reviewer2
):
    url = reverse("governance:delegations")
    client.force_login(coe_reviewer)
    page = client.get(url)
    assert list(page.context["form"].fields["delegate"].queryset) == [reviewer2]
    today = timezone.localdate()
    response = client.post(
        url,
        {
            "delegate": reviewer2.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=200)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "A delegation can last at most 90 days." in response.content.decode()
    assert not Delegation.objects.exists()

    response = client.post(
        url,
        {
            "delegate": reviewer2.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=7)).isoformat(),
            "reason": "Annual leave",
        },
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.delegate) == (coe_reviewer, reviewer2)
    page = client.get(url).content.decode()
    assert "Annual leave" in page and "Active" in page

    client.force_login(reviewer2)
    received = client.get(url).content.decode()
    assert coe_reviewer.get_full_name() in received

    client.force_login(member_a)  # no approver role: nothing to delegate
    page = client.get(url).content.decode()
    assert "You hold no approver role to delegate." in page
    assert client.post(url, {"delegate": reviewer2.pk}).status_code == 200
    assert Delegation.objects.count() == 1


# --- Escalation command -------------------------------------------------------------------


def test_escalate_overdue_command_prints_the_count(unit_a, member_a, coe_admin):
    first, second = submitted(unit_a, member_a), submitted(unit_a, member_a)
    ApprovalRequest.objects.filter(pk__in=[first.pk, second.pk]).update(
        step_due_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    out = io.StringIO()
    call_command("escalate_overdue", stdout=out)
    assert out.getvalue() == "Escalated 2 overdue approval steps.\n"
    assert Escalation.objects.count() == 2
    out = io.StringIO()
    call_command("escalate_overdue", stdout=out)
    assert out.getvalue() == "Escalated 0 overdue approval steps.\n"


def test_escalate_overdue_task_and_beat_schedule(settings, unit_a, member_a):
    from governance.approvals.tasks import escalate_overdue_task

    approval = submitted(unit_a, member_a)
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        step_due_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert escalate_overdue_task.delay().get() == 1
    entry = settings.CELERY_BEAT_SCHEDULE["escalate-overdue-approvals"]
    assert entry["task"] == "governance.tasks.escalate_overdue_task"
    assert entry["schedule"].minute == set(range(0, 60, 15))
