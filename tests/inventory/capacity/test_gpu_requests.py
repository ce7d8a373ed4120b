"""GPU requests through the gpu_request gate: fast path within quota and size, approvers
otherwise, approval creates the allocation, rejection and withdrawal, capacity refused at
submit and at approval, the fractional-count rule, permissions, and (PostgreSQL) many
simultaneous requests for the last GPUs of a pool never over-committing it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from core.audit import verify_audit_chain
from core.choices import Role
from core.models import AuditEvent
from governance.approvals import policies
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.models import ApprovalRequest, Decision
from inventory.capacity import services as gpu_requests
from inventory.capacity.choices import GPURequestStatus
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.gpu.choices import SharingMode
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.gpu.services import allocation_create
from inventory.usage.models import UsageDaily
from portfolio.initiatives.models import Deployment
from tests.concurrency import run_at_once
from tests.factories import GPUAllocationFactory, GPUPoolFactory, InitiativeFactory, member
from tests.governance.helpers import LOW_RISK, TIER_2, assessed
from tests.inventory.helpers import audit_actions

TODAY = timezone.localdate


def ask(actor, initiative, pool, gpus, **extra):
    return gpu_requests.gpu_request_create(
        actor=actor,
        data={
            "initiative": initiative,
            "pool": pool,
            "gpu_count": Decimal(str(gpus)),
            "purpose": "training",
            "starts_on": TODAY(),
            "justification": "Fine-tune the claims classifier.",
            **extra,
        },
    )


def approval_of(gpu_request) -> ApprovalRequest:
    return ApprovalRequest.objects.get(
        gate="gpu_request", subject_type="inventory.gpurequest", subject_id=str(gpu_request.pk)
    )


def nothing_written():
    assert GPURequest.objects.count() == 0
    assert ApprovalRequest.objects.filter(gate="gpu_request").count() == 0
    assert not AuditEvent.objects.filter(action__startswith="gpu_").exists()


# --- Fast path ------------------------------------------------------------------------------


def test_within_quota_and_size_is_fast_pathed_and_allocated(member_a, initiative, pool, quota):
    gpu_request = ask(member_a, initiative, pool, 2)

    assert gpu_request.status == GPURequestStatus.APPROVED
    assert gpu_request.fast_tracked and gpu_request.decided_at
    allocation = gpu_request.allocation
    assert allocation.gpu_count == Decimal("2")
    assert allocation.pool == pool and allocation.initiative == initiative
    assert allocation.business_unit == initiative.business_unit
    assert allocation.requested_by == member_a and allocation.approved_by is None
    assert allocation.purpose == "training" and allocation.starts_on == TODAY()
    approval = approval_of(gpu_request)
    assert approval.status == RequestStatus.APPROVED and approval.fast_tracked
    assert audit_actions()[-5:] == [
        "gpu_request.created",
        "approval_request.submitted",
        "approval_request.fast_tracked",
        "gpu_allocation.created",
        "gpu_request.approved",
    ]
    assert (
        AuditEvent.objects.get(action="approval_request.fast_tracked").reason
        == "Within quota and the fast-path size."
    )


def test_fast_path_size_is_the_setting(settings, member_a, initiative, pool, quota):
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "FAST_PATH_MAX_GPUS": 3}
    assert ask(member_a, initiative, pool, 3).status == GPURequestStatus.APPROVED
    over = ask(member_a, initiative, pool, 4)
    assert over.status == GPURequestStatus.PENDING and over.allocation is None
    assert "4 GPUs is more than the fast-path size of 3." in approval_of(over).comment


# --- To the approvers ---------------------------------------------------------------------


def test_over_size_goes_to_platform_engineers_and_approval_allocates(
    settings, member_a, platform_engineer, initiative, pool, quota
):
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "FAST_PATH_MAX_GPUS": 2}
    gpu_request = ask(member_a, initiative, pool, 3)

    assert gpu_request.status == GPURequestStatus.PENDING and not gpu_request.fast_tracked
    assert not GPUAllocation.objects.exists()
    approval = approval_of(gpu_request)
    assert approval.status == RequestStatus.PENDING
    assert engine.acting_roles(approval) == {Role.PLATFORM_ENGINEER}
    assert approval.comment.startswith("Fine-tune the claims classifier.\nNeeds approval:")

    engine.request_decide(actor=platform_engineer, request=approval, outcome="approve")

    gpu_request.refresh_from_db()
    assert gpu_request.status == GPURequestStatus.APPROVED and not gpu_request.fast_tracked
    assert gpu_request.decided_at is not None
    allocation = gpu_request.allocation
    assert allocation.gpu_count == Decimal("3") and allocation.approved_by == platform_engineer
    assert allocation.requested_by == member_a
    assert "From GPU request" in allocation.notes
    assert audit_actions()[-3:] == [
        "approval_request.approve",
        "gpu_allocation.created",
        "gpu_request.approved",
    ]


def test_over_quota_is_submitted_but_not_fast_pathed(member_a, unit_a, initiative, pool, quota):
    GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("7"))
    gpu_request = ask(member_a, initiative, pool, 2)
    assert gpu_request.status == GPURequestStatus.PENDING
    assert (
        "RETAIL would hold 9 GPUs in k8s-h100 (7 allocated, 0 pending, 2 asked), over its "
        "limit of 8." in approval_of(gpu_request).comment
    )


def test_pending_requests_count_against_the_quota(
    settings, member_a, initiative, pool, quota, unit_a
):
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "FAST_PATH_MAX_GPUS": 4}
    week = TODAY() + datetime.timedelta(days=7)
    big = ask(member_a, initiative, pool, 5, ends_on=week)  # over size: pending
    assert big.status == GPURequestStatus.PENDING
    small = ask(member_a, initiative, pool, 4, ends_on=week)  # 5 pending + 4 > 8
    assert small.status == GPURequestStatus.PENDING
    assert "(0 allocated, 5 pending, 4 asked)" in approval_of(small).comment
    # Pending requests of another period do not count.
    later = TODAY() + datetime.timedelta(days=30)
    big_later = ask(member_a, initiative, pool, 1, starts_on=later, ends_on=later)
    assert big_later.status == GPURequestStatus.APPROVED


def test_no_unit_quota_means_approvers(member_a, initiative, pool):
    gpu_request = ask(member_a, initiative, pool, 1)
    assert gpu_request.status == GPURequestStatus.PENDING
    assert "RETAIL has no quota in k8s-h100." in approval_of(gpu_request).comment


def test_initiative_quota_also_applies(member_a, initiative, pool, quota, unit_a):
    GPUQuota.objects.create(
        business_unit=unit_a,
        initiative=initiative,
        pool=pool,
        deserved_gpus=Decimal("1"),
        limit_gpus=Decimal("1"),
    )
    gpu_request = ask(member_a, initiative, pool, 2)
    assert gpu_request.status == GPURequestStatus.PENDING
    assert f"{initiative.reference} would hold 2 GPUs" in approval_of(gpu_request).comment
    assert ask(member_a, initiative, pool, 1).status == GPURequestStatus.PENDING  # 2 pending
    engine.request_withdraw(actor=member_a, request=approval_of(gpu_request))
    assert GPURequest.objects.filter(status="pending").count() == 1
    GPURequest.objects.filter(status="pending").update(status="withdrawn")
    assert ask(member_a, initiative, pool, 1).status == GPURequestStatus.APPROVED


def test_used_up_budget_means_approvers(member_a, initiative, pool, quota, unit_a):
    quota.monthly_gpu_hour_budget = Decimal("100")
    quota.save()
    used = GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("1"))
    UsageDaily.objects.create(allocation=used, day=TODAY(), gpu_hours=Decimal("100"))
    gpu_request = ask(member_a, initiative, pool, 1)
    assert gpu_request.status == GPURequestStatus.PENDING
    assert "has used 100 of its 100 GPU-hour budget" in approval_of(gpu_request).comment


def test_tier_2_policy_has_no_fast_path(member_a, unit_a, pool, quota):
    initiative = assessed(unit_a, member_a, TIER_2)
    gpu_request = ask(member_a, initiative, pool, 1)
    assert gpu_request.status == GPURequestStatus.PENDING
    assert approval_of(gpu_request).comment == "Fine-tune the claims classifier."


def test_rejection_marks_the_request(member_a, platform_engineer, initiative, pool):
    gpu_request = ask(member_a, initiative, pool, 1)  # no quota: pending
    engine.request_decide(
        actor=platform_engineer,
        request=approval_of(gpu_request),
        outcome="reject",
        comment="Use the shared inference pool instead.",
    )
    gpu_request.refresh_from_db()
    assert gpu_request.status == GPURequestStatus.REJECTED
    assert gpu_request.decided_at is not None and gpu_request.allocation is None
    assert not GPUAllocation.objects.exists()
    assert audit_actions()[-2:] == ["approval_request.reject", "gpu_request.rejected"]


def test_withdrawal_marks_the_request(member_a, initiative, pool):
    gpu_request = ask(member_a, initiative, pool, 1)
    engine.request_withdraw(actor=member_a, request=approval_of(gpu_request), reason="Not needed")
    gpu_request.refresh_from_db()
    assert gpu_request.status == GPURequestStatus.WITHDRAWN


def test_changes_requested_then_resubmitted_stays_pending(
    member_a, platform_engineer, initiative, pool
):
    gpu_request = ask(member_a, initiative, pool, 1)
    approval = approval_of(gpu_request)
    engine.request_decide(
        actor=platform_engineer, request=approval, outcome="request_changes", comment="Dates?"
    )
    engine.request_resubmit(actor=member_a, request=approval, comment="Dates fixed.")
    gpu_request.refresh_from_db()
    assert gpu_request.status == GPURequestStatus.PENDING
    engine.request_decide(actor=platform_engineer, request=approval, outcome="approve")
    gpu_request.refresh_from_db()
    assert gpu_request.status == GPURequestStatus.APPROVED and gpu_request.allocation_id


# --- Capacity -----------------------------------------------------------------------------


def test_capacity_is_refused_at_submit_with_the_message(member_a, unit_b, initiative):
    small = GPUPoolFactory(name="small-pool", gpu_count=4)
    GPUAllocationFactory(pool=small, business_unit=unit_b, gpu_count=Decimal("3"))
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, small, 2)
    assert refused.value.message_dict == {
        "gpu_count": ["Only 1 of 4 GPUs in small-pool are free for that period."]
    }
    nothing_written()
    # Another period is free.
    later = TODAY() + datetime.timedelta(days=10)
    GPUAllocation.objects.update(ends_on=TODAY() + datetime.timedelta(days=5))
    assert ask(member_a, initiative, small, 2, starts_on=later).pk


def test_capacity_is_refused_at_approval_and_nothing_changes(
    settings, member_a, platform_engineer, initiative, unit_a
):
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "FAST_PATH_MAX_GPUS": 1}
    small = GPUPoolFactory(name="small-pool", gpu_count=4)
    gpu_request = ask(member_a, initiative, small, 3)  # over size: pending
    allocation_create(
        actor=platform_engineer,
        data={
            "pool": small,
            "gpu_count": Decimal("2"),
            "business_unit": unit_a,
            "purpose": "inference",
            "starts_on": TODAY(),
        },
    )
    approval = approval_of(gpu_request)
    events = AuditEvent.objects.count()

    with pytest.raises(ValidationError) as refused:
        engine.request_decide(actor=platform_engineer, request=approval, outcome="approve")

    assert refused.value.message_dict == {
        "gpu_count": ["Only 2 of 4 GPUs in small-pool are free for that period."]
    }
    approval.refresh_from_db()
    gpu_request.refresh_from_db()
    assert approval.status == RequestStatus.PENDING
    assert gpu_request.status == GPURequestStatus.PENDING and gpu_request.allocation is None
    assert not Decision.objects.filter(request=approval).exists()
    assert GPUAllocation.objects.count() == 1
    assert AuditEvent.objects.count() == events


# --- Counts and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "count", "ok"),
    [
        (SharingMode.EXCLUSIVE, "2", True),
        (SharingMode.EXCLUSIVE, "0.5", False),
        (SharingMode.TIME_SLICED, "0.25", True),
        (SharingMode.TIME_SLICED, "1.5", True),
        (SharingMode.TIME_SLICED, "0.125", True),  # 125 milli-GPU
        (SharingMode.TIME_SLICED, "0.0005", False),  # finer than a milli-GPU
        (SharingMode.MIG, "0.14", True),  # one slice of seven
        (SharingMode.MIG, "0.143", True),  # one slice of seven, three decimals
        (SharingMode.MIG, "0.429", True),  # 3g, three decimals
        (SharingMode.MIG, "0.144", False),
        (SharingMode.MIG, "0.43", True),  # 3g
        (SharingMode.MIG, "1.29", True),  # one GPU and two slices
        (SharingMode.MIG, "0.5", False),
        (SharingMode.MIG, "0.15", False),
        (SharingMode.MIG, "3", True),
        (SharingMode.TIME_SLICED, "0", False),
        (SharingMode.TIME_SLICED, "-1", False),
    ],
)
def test_fractional_rule(mode, count, ok):
    pool = GPUPool(name="p", sharing_mode=mode, gpu_count=8)
    assert (gpu_requests.gpu_count_problem(pool, Decimal(count)) == "") is ok


def test_fractional_counts_through_the_service(member_a, initiative, quota):
    exclusive = GPUPoolFactory(name="whole", sharing_mode=SharingMode.EXCLUSIVE)
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, exclusive, "0.5")
    assert refused.value.message_dict == {
        "gpu_count": ["whole does not share GPUs: ask for whole GPUs."]
    }
    mig = GPUPoolFactory(name="mig-pool", sharing_mode=SharingMode.MIG)
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, mig, "0.5")
    assert "whole sevenths of a GPU" in refused.value.message_dict["gpu_count"][0]
    assert ask(member_a, initiative, mig, "0.43").gpu_count == Decimal("0.43")
    nothing_of = GPURequest.objects.filter(pool=exclusive)
    assert not nothing_of.exists()


def test_dates_and_initiative_stage_are_checked(member_a, initiative, pool):
    yesterday = TODAY() - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, pool, 1, starts_on=yesterday)
    assert refused.value.message_dict == {"starts_on": ["A request cannot start in the past."]}
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, pool, 1, ends_on=yesterday)
    assert refused.value.message_dict == {
        "ends_on": ["The end date cannot be before the start date."]
    }
    # Retired outside the services (the stage machine is not what this test is about).
    type(initiative).objects.filter(pk=initiative.pk).update(stage="retired")
    initiative.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, pool, 1)
    assert "it cannot get GPUs" in refused.value.message_dict["initiative"][0]
    nothing_written()


def test_an_unassessed_initiative_cannot_ask(member_a, unit_a, pool, quota):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    with pytest.raises(ValidationError) as refused:
        ask(member_a, initiative, pool, 1)
    assert refused.value.message_dict == {
        "gate": ["Complete the risk assessment before submitting."]
    }
    nothing_written()


# --- Permissions ------------------------------------------------------------------------------


def test_other_units_member_is_refused_and_nothing_is_written(member_b, initiative, pool, quota):
    with pytest.raises(PermissionDenied):
        ask(member_b, initiative, pool, 1)
    nothing_written()


def test_executive_cannot_ask(executive, initiative, pool):
    with pytest.raises(PermissionDenied):
        ask(executive, initiative, pool, 1)
    nothing_written()


def test_platform_engineer_may_ask_for_a_unit(platform_engineer, initiative, pool, quota):
    gpu_request = ask(platform_engineer, initiative, pool, 1)
    assert gpu_request.status == GPURequestStatus.APPROVED
    assert gpu_request.requested_by == platform_engineer


def test_a_unit_the_initiative_is_deployed_to_may_ask(member_b, unit_b, initiative, pool):
    with pytest.raises(ValidationError) as refused:
        ask(member_b, initiative, pool, 1, business_unit=unit_b)
    assert "nor deployed to it" in refused.value.message_dict["business_unit"][0]
    Deployment.objects.create(initiative=initiative, business_unit=unit_b, status="pilot")
    GPUQuota.objects.create(
        business_unit=unit_b, pool=pool, deserved_gpus=Decimal("1"), limit_gpus=Decimal("2")
    )
    gpu_request = ask(member_b, initiative, pool, 2, business_unit=unit_b)
    assert gpu_request.status == GPURequestStatus.APPROVED
    assert gpu_request.allocation.business_unit == unit_b


def test_the_requester_cannot_approve_their_own_request(
    settings, platform_engineer, initiative, pool
):
    gpu_request = ask(platform_engineer, initiative, pool, 1)  # no quota: pending
    with pytest.raises(PermissionDenied):
        engine.request_decide(
            actor=platform_engineer, request=approval_of(gpu_request), outcome="approve"
        )


def test_allocation_needs_an_approved_gate_request(member_a, platform_engineer, initiative, pool):
    gpu_request = ask(member_a, initiative, pool, 1)  # pending
    approval = approval_of(gpu_request)
    for via_gate in (None, approval):
        with pytest.raises(PermissionDenied):
            gpu_requests.gpu_request_allocate(
                actor=platform_engineer, gpu_request=gpu_request, via_gate=via_gate
            )
    assert not GPUAllocation.objects.exists()


def test_the_gate_needs_a_gpu_request(member_a, initiative):
    with pytest.raises(ValidationError) as refused:
        engine.request_submit(actor=member_a, initiative=initiative, gate="gpu_request")
    assert refused.value.message_dict == {"gate": ["A GPU request goes through 'gpu_request'."]}


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and real concurrency need PostgreSQL"
)
THREADS = 10


class AskForGPUs:
    """Each thread: its own requester's initiative asks for ``gpus`` of the pool."""

    def __init__(self, user_pks, initiative_pks, pool_pk, gpus):
        self.user_pks, self.initiative_pks = user_pks, initiative_pks
        self.pool_pk, self.gpus = pool_pk, gpus

    def prepare(self, i):
        from portfolio.initiatives.models import Initiative

        user = get_user_model().objects.get(pk=self.user_pks[i])
        return (
            user,
            Initiative.objects.get(pk=self.initiative_pks[i]),
            GPUPool.objects.get(pk=self.pool_pk),
        )

    def __call__(self, prepared):
        user, initiative, pool = prepared
        return ask(user, initiative, pool, self.gpus).status


class AllocateGPUs:
    def __init__(self, user_pk, unit_pk, pool_pk, gpus):
        self.user_pk, self.unit_pk, self.pool_pk, self.gpus = user_pk, unit_pk, pool_pk, gpus

    def prepare(self, i):
        from core.models import BusinessUnit

        return (
            get_user_model().objects.get(pk=self.user_pk),
            BusinessUnit.objects.get(pk=self.unit_pk),
            GPUPool.objects.get(pk=self.pool_pk),
        )

    def __call__(self, prepared):
        user, unit, pool = prepared
        return allocation_create(
            actor=user,
            data={
                "pool": pool,
                "gpu_count": self.gpus,
                "business_unit": unit,
                "purpose": "training",
                "starts_on": TODAY(),
            },
        ).pk


def assert_capacity_refusals(results, *, expected_ok, message):
    successes = [value for status, value in results if status == "ok"]
    failures = [value for status, value in results if status == "error"]
    assert len(successes) == expected_ok, failures
    assert len(failures) == len(results) - expected_ok
    for failure in failures:
        assert isinstance(failure, ValidationError), repr(failure)
        assert failure.message_dict == {"gpu_count": [message]}
    return successes


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_fast_path_requests_never_over_commit_the_pool(unit_a, unit_b):
    policies.policies_install_defaults()
    # 5 GPUs of 8 already taken: 3 free; ten initiatives ask for 1 GPU each at once.
    pool = GPUPoolFactory(name="last-gpus", gpu_count=8)
    GPUAllocationFactory(pool=pool, business_unit=unit_b, gpu_count=Decimal("5"))
    GPUQuota.objects.create(
        business_unit=unit_a, pool=pool, deserved_gpus=Decimal("10"), limit_gpus=Decimal("10")
    )
    users, initiatives = [], []
    for n in range(THREADS):
        user = member(Role.BU_MEMBER, unit_a, username=f"asker{n}")
        users.append(user.pk)
        initiatives.append(assessed(unit_a, user, LOW_RISK).pk)

    results = run_at_once(THREADS, AskForGPUs(users, initiatives, pool.pk, Decimal("1")))

    successes = assert_capacity_refusals(
        results, expected_ok=3, message="Only 0 of 8 GPUs in last-gpus are free for that period."
    )
    assert successes == [GPURequestStatus.APPROVED] * 3
    allocated = sum(GPUAllocation.objects.filter(pool=pool).values_list("gpu_count", flat=True))
    assert allocated == Decimal("8")
    assert GPURequest.objects.count() == 3  # refused asks leave nothing behind
    assert GPURequest.objects.filter(allocation__isnull=False).count() == 3
    assert ApprovalRequest.objects.filter(gate="gpu_request").count() == 3
    report = verify_audit_chain()
    assert report.ok, report.describe()


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_simultaneous_allocations_never_over_commit_the_pool(unit_a):
    engineer = member(Role.PLATFORM_ENGINEER, unit_a, username="pete")
    pool = GPUPoolFactory(name="last-gpus", gpu_count=4)

    results = run_at_once(THREADS, AllocateGPUs(engineer.pk, unit_a.pk, pool.pk, Decimal("1.5")))

    assert_capacity_refusals(
        results,
        expected_ok=2,
        message="Only 1 of 4 GPUs in last-gpus are free for that period.",
    )
    allocated = sum(GPUAllocation.objects.filter(pool=pool).values_list("gpu_count", flat=True))
    assert allocated == Decimal("3")


@pytest.mark.postgres
@postgres_only
@pytest.mark.django_db(transaction=True)
def test_approvals_and_requests_racing_for_the_last_gpus(unit_a, unit_b, settings):
    """Pending requests approved while others ask (fast path) at the same moment: the pool
    is never over-committed and nobody deadlocks."""
    settings.KEEL_FINOPS = {**settings.KEEL_FINOPS, "FAST_PATH_MAX_GPUS": 1}
    policies.policies_install_defaults()
    pool = GPUPoolFactory(name="last-gpus", gpu_count=4)
    GPUQuota.objects.create(
        business_unit=unit_a, pool=pool, deserved_gpus=Decimal("10"), limit_gpus=Decimal("10")
    )
    approvers = [member(Role.PLATFORM_ENGINEER, unit_b, username=f"pe{n}") for n in range(4)]
    owner = member(Role.BU_MEMBER, unit_a, username="owner")
    pending = []
    for _ in range(4):  # four requests of 2 GPUs (over the fast-path size): pending
        gpu_request = ask(owner, assessed(unit_a, owner, LOW_RISK), pool, 2)
        assert gpu_request.status == GPURequestStatus.PENDING
        pending.append(approval_of(gpu_request).pk)
    askers = [member(Role.BU_MEMBER, unit_a, username=f"asker{n}") for n in range(4)]
    asker_initiatives = [assessed(unit_a, user, LOW_RISK).pk for user in askers]

    class Work:
        def prepare(self, i):
            from portfolio.initiatives.models import Initiative

            if i < 4:
                return (
                    "approve",
                    get_user_model().objects.get(pk=approvers[i].pk),
                    (ApprovalRequest.objects.get(pk=pending[i])),
                )
            return (
                "ask",
                get_user_model().objects.get(pk=askers[i - 4].pk),
                (
                    Initiative.objects.get(pk=asker_initiatives[i - 4]),
                    GPUPool.objects.get(pk=pool.pk),
                ),
            )

        def __call__(self, prepared):
            kind, user, target = prepared
            if kind == "approve":
                engine.request_decide(actor=user, request=target, outcome="approve")
                return "approved"
            return ask(user, target[0], target[1], 1).status

    results = run_at_once(8, Work())

    errors = [value for status, value in results if status == "error"]
    assert all(isinstance(error, ValidationError) for error in errors), errors
    allocated = sum(GPUAllocation.objects.filter(pool=pool).values_list("gpu_count", flat=True))
    assert allocated <= Decimal("4")
    # Whatever the interleaving, the pool ends full: 4 GPUs are asked for by at least 4 ways.
    assert allocated == Decimal("4")
    approved = GPURequest.objects.filter(status=GPURequestStatus.APPROVED)
    assert sum(approved.values_list("gpu_count", flat=True)) == allocated
    assert verify_audit_chain().ok
