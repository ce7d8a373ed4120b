"""The home page per persona: an executive's headline, a reviewer's queue and SLAs, a BU
member's initiatives, drafts and what waits on them — each with a fixed number of queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from core.choices import Role
from governance.approvals.models import ApprovalPolicy, ApprovalRequest
from portfolio.initiatives.choices import Stage
from tests.factories import InitiativeFactory, UserFactory, member


def _request(initiative, *, status="pending", due_in_hours=24, submitted_by=None):
    policy = ApprovalPolicy.objects.get(tier=2, gate="pilot", is_active=True)
    return ApprovalRequest.objects.create(
        initiative=initiative,
        gate="pilot",
        tier=2,
        policy=policy,
        policy_snapshot=policy.snapshot(),
        status=status,
        acting_roles=",coe_reviewer,",
        step_due_at=timezone.now() + datetime.timedelta(hours=due_in_hours),
        submitted_by=submitted_by or UserFactory(),
        submitted_at=timezone.now(),
    )


def _home(client, user) -> str:
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_executive_sees_the_dashboard_headline(client, unit_a):
    InitiativeFactory.create_batch(3, business_unit=unit_a, stage=Stage.PROPOSED)
    page = _home(client, member(Role.EXECUTIVE, unit_a))
    assert 'id="h-headline"' in page
    assert 'id="figure-initiatives"' in page and 'id="figure-overdue"' in page
    assert 'id="h-queue"' not in page and 'id="h-waiting"' not in page  # nothing escalated


def test_executive_sees_escalations_awaiting_them(client, unit_a):
    request = _request(InitiativeFactory(business_unit=unit_a))
    ApprovalRequest.objects.filter(pk=request.pk).update(acting_roles=",executive,")
    page = _home(client, member(Role.EXECUTIVE, unit_a))
    assert 'id="h-headline"' in page and 'id="h-queue"' in page
    assert request.get_absolute_url() in page


def test_coe_reviewer_sees_their_queue_with_overdue_and_due_soon(client, unit_a):
    reviewer = member(Role.COE_REVIEWER, unit_a)
    overdue = _request(InitiativeFactory(business_unit=unit_a), due_in_hours=-5)
    _request(InitiativeFactory(business_unit=unit_a), due_in_hours=10)
    _request(InitiativeFactory(business_unit=unit_a), due_in_hours=24 * 5)
    # separation of duties: a request the reviewer submitted is not theirs to decide
    _request(InitiativeFactory(business_unit=unit_a), submitted_by=reviewer)
    page = _home(client, reviewer)
    assert 'id="h-queue"' in page and 'id="h-headline"' not in page
    assert (
        'id="queue-total" href="/governance/approvals/?scope=mine"><span class="figure-value">3<'
        in page
    )
    assert (
        'id="queue-overdue"' in page
        and '<span class="figure-value">1</span><span class="figure-label">past their SLA' in page
    )
    assert '<span class="figure-value">1</span><span class="figure-label">due within 2 days' in page
    assert overdue.get_absolute_url() in page


def test_bu_member_sees_drafts_changes_requested_and_requests_in_review(client, unit_a, unit_b):
    alice = member(Role.BU_MEMBER, unit_a)
    draft = InitiativeFactory(business_unit=unit_a, accountable_owner=alice, stage=Stage.DRAFT)
    sent_back = _request(
        InitiativeFactory(business_unit=unit_a, accountable_owner=alice),
        status="changes_requested",
    )
    pending = _request(InitiativeFactory(business_unit=unit_a), submitted_by=alice)
    someone_elses = _request(InitiativeFactory(business_unit=unit_a), status="changes_requested")
    other_unit = InitiativeFactory(business_unit=unit_b, stage=Stage.DRAFT)
    page = _home(client, alice)
    assert 'id="h-waiting"' in page
    assert f"/initiatives/register/{draft.pk}/" in page
    assert sent_back.get_absolute_url() in page and "changes requested" in page
    assert pending.get_absolute_url() in page and "With the reviewers" in page
    assert someone_elses.get_absolute_url() not in page
    assert other_unit.reference not in page
    assert 'id="h-headline"' not in page and 'id="h-queue"' not in page


def test_nothing_waiting_says_so(client, unit_a):
    page = _home(client, member(Role.BU_MEMBER, unit_a))
    assert "Nothing waits on you." in page


def test_bu_member_is_offered_their_units_dashboard(client, unit_a):
    # The member's home stays about their own work (no headline panel), with the way to their
    # business units' dashboard, which they may now open.
    page = _home(client, member(Role.BU_MEMBER, unit_a))
    assert 'id="h-headline"' not in page
    assert "Open your business units' dashboard" in page
    assert f'href="{reverse("dashboard:index")}"' in page


# The executive's home reads the dashboard (its fixed ten queries) for the headline.
@pytest.mark.parametrize(
    ("role", "limit"),
    [(Role.EXECUTIVE, 20), (Role.COE_REVIEWER, 10), (Role.BU_MEMBER, 11)],
)
def test_home_queries_do_not_grow_with_rows(
    client, unit_a, role, limit, django_assert_max_num_queries
):
    user = member(role, unit_a)
    client.force_login(user)

    def add_rows(count):
        for _ in range(count):
            mine = InitiativeFactory(business_unit=unit_a, accountable_owner=user)
            InitiativeFactory(business_unit=unit_a, accountable_owner=user, stage=Stage.DRAFT)
            _request(mine, status="changes_requested")
            _request(InitiativeFactory(business_unit=unit_a), due_in_hours=-1)
            _request(InitiativeFactory(business_unit=unit_a), submitted_by=user)

    add_rows(1)
    with django_assert_max_num_queries(limit) as few:
        client.get("/")
    add_rows(6)
    with django_assert_max_num_queries(limit) as many:
        client.get("/")
    assert len(many.captured_queries) == len(few.captured_queries)
