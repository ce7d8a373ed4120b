"""GPU quotas and external keys: services (permissions, validation, audit), usage against
quota computed by hand, scoping, and constant query counts."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.choices import Role
from core.models import AuditEvent
from inventory.capacity import selectors as quota_selectors
from inventory.capacity import services as gpu_requests
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.usage.models import ExternalKey, UsageDaily
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    member,
)

pytestmark = pytest.mark.django_db


def quota_data(unit, pool, **extra):
    return {
        "business_unit": unit,
        "pool": pool,
        "deserved_gpus": Decimal("4"),
        "limit_gpus": Decimal("8"),
        **extra,
    }


def pending_request(unit, pool, gpus, initiative=None, status="pending"):
    initiative = initiative or InitiativeFactory(business_unit=unit)
    return GPURequest.objects.create(
        initiative=initiative,
        business_unit=unit,
        pool=pool,
        gpu_count=Decimal(gpus),
        purpose="training",
        pricing_model="on_demand",
        starts_on=timezone.localdate(),
        requested_by=initiative.accountable_owner,
        status=status,
    )


# --- Quota services -----------------------------------------------------------------------------


def test_platform_engineer_creates_updates_and_deletes_a_quota(platform_engineer, unit_a, pool):
    quota = gpu_requests.quota_create(actor=platform_engineer, data=quota_data(unit_a, pool))
    assert quota.limit_gpus == Decimal("8") and quota.initiative is None
    created = AuditEvent.objects.get(action="gpu_quota.created")
    assert created.object_id == str(quota.pk)

    gpu_requests.quota_update(
        actor=platform_engineer,
        quota=quota,
        data={"limit_gpus": Decimal("10"), "monthly_gpu_hour_budget": Decimal("500")},
    )
    quota.refresh_from_db()
    assert quota.limit_gpus == Decimal("10") and quota.monthly_gpu_hour_budget == Decimal("500")
    updated = AuditEvent.objects.get(action="gpu_quota.updated")
    assert '"limit_gpus":"10"' in updated.payload or '"limit_gpus":"10.00"' in updated.payload

    gpu_requests.quota_delete(actor=platform_engineer, quota=quota, reason="Pool retired")
    assert not GPUQuota.objects.exists()
    assert AuditEvent.objects.get(action="gpu_quota.deleted").reason == "Pool retired"


def test_coe_admin_may_manage_quotas(coe_admin, unit_a, pool):
    assert gpu_requests.quota_create(actor=coe_admin, data=quota_data(unit_a, pool)).pk


@pytest.mark.parametrize("role", [Role.BU_MEMBER, Role.BU_LEAD, Role.EXECUTIVE, Role.COE_REVIEWER])
def test_others_cannot_manage_quotas(role, unit_a, pool):
    person = member(role, unit_a)
    with pytest.raises(PermissionDenied):
        gpu_requests.quota_create(actor=person, data=quota_data(unit_a, pool))
    assert not GPUQuota.objects.exists()
    quota = GPUQuota.objects.create(**quota_data(unit_a, pool))
    with pytest.raises(PermissionDenied):
        gpu_requests.quota_update(actor=person, quota=quota, data={"limit_gpus": Decimal("99")})
    with pytest.raises(PermissionDenied):
        gpu_requests.quota_delete(actor=person, quota=quota)
    quota.refresh_from_db()
    assert quota.limit_gpus == Decimal("8")
    assert not AuditEvent.objects.filter(action__startswith="gpu_quota").exists()


def test_quota_validation(platform_engineer, unit_a, unit_b, pool):
    with pytest.raises(ValidationError) as refused:
        gpu_requests.quota_create(
            actor=platform_engineer, data=quota_data(unit_a, pool, limit_gpus=Decimal("2"))
        )
    assert refused.value.message_dict == {
        "limit_gpus": ["The limit cannot be below the deserved GPUs."]
    }
    gpu_requests.quota_create(actor=platform_engineer, data=quota_data(unit_a, pool))
    with pytest.raises(ValidationError) as refused:
        gpu_requests.quota_create(actor=platform_engineer, data=quota_data(unit_a, pool))
    assert refused.value.message_dict == {
        "business_unit": ["RETAIL already has a quota in k8s-h100."]
    }
    other = InitiativeFactory(business_unit=unit_b)
    with pytest.raises(ValidationError) as refused:
        gpu_requests.quota_create(
            actor=platform_engineer, data=quota_data(unit_a, pool, initiative=other)
        )
    assert refused.value.message_dict == {
        "initiative": ["The initiative belongs to another business unit."]
    }
    # An initiative quota next to its unit's quota is fine, once.
    own = InitiativeFactory(business_unit=unit_a)
    gpu_requests.quota_create(
        actor=platform_engineer, data=quota_data(unit_a, pool, initiative=own)
    )
    with pytest.raises(ValidationError) as refused:
        gpu_requests.quota_create(
            actor=platform_engineer, data=quota_data(unit_a, pool, initiative=own)
        )
    assert refused.value.message_dict == {
        "initiative": [f"{own.reference} already has a quota in k8s-h100."]
    }
    assert GPUQuota.objects.count() == 2


# --- Usage against quota --------------------------------------------------------------------------


def test_quota_usage_by_hand(unit_a, unit_b, pool, platform_engineer):
    today = timezone.localdate()
    first = today.replace(day=1)
    unit_quota = GPUQuota.objects.create(
        **quota_data(unit_a, pool, monthly_gpu_hour_budget=Decimal("100"))
    )
    initiative = InitiativeFactory(business_unit=unit_a)
    initiative_quota = GPUQuota.objects.create(
        **quota_data(unit_a, pool, initiative=initiative, limit_gpus=Decimal("4"))
    )
    other_pool = GPUPoolFactory(name="other-pool")
    counted_a = GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("2"))
    counted_b = GPUAllocationFactory(
        pool=pool, business_unit=unit_a, initiative=initiative, gpu_count=Decimal("1.5")
    )
    # Not counted: other pool, other unit, ended yesterday, starting tomorrow.
    GPUAllocationFactory(pool=other_pool, business_unit=unit_a, gpu_count=Decimal("3"))
    GPUAllocationFactory(pool=pool, business_unit=unit_b, gpu_count=Decimal("5"))
    ended = GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        gpu_count=Decimal("4"),
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today - datetime.timedelta(days=1),
    )
    GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        gpu_count=Decimal("1"),
        starts_on=today + datetime.timedelta(days=1),
    )
    pending_request(unit_a, pool, "2")
    pending_request(unit_a, pool, "0.5", initiative=initiative)
    pending_request(unit_a, pool, "1", status="rejected")
    pending_request(unit_b, pool, "3")
    UsageDaily.objects.create(allocation=counted_a, day=today, gpu_hours=Decimal("10.5"))
    UsageDaily.objects.create(allocation=counted_b, day=today, gpu_hours=Decimal("4.25"))
    UsageDaily.objects.create(allocation=ended, day=first, gpu_hours=Decimal("20"))
    UsageDaily.objects.create(  # last month: not counted
        allocation=counted_a, day=first - datetime.timedelta(days=1), gpu_hours=Decimal("99")
    )

    rows = {q.pk: q for q in quota_selectors.quota_list(user=platform_engineer)}

    unit_row = rows[unit_quota.pk]
    assert unit_row.allocated_gpus == Decimal("3.5")  # 2 + 1.5
    assert unit_row.pending_gpus == Decimal("2.5")  # 2 + 0.5
    assert unit_row.gpu_hours_month == Decimal("34.75")  # 10.5 + 4.25 + 20
    initiative_row = rows[initiative_quota.pk]
    assert initiative_row.allocated_gpus == Decimal("1.5")
    assert initiative_row.pending_gpus == Decimal("0.5")
    assert initiative_row.gpu_hours_month == Decimal("4.25")

    [unit_bar, initiative_bar] = quota_selectors.with_bars([unit_row, initiative_row])
    assert unit_bar.allocated_percent == 43  # 3.5 / 8
    assert unit_bar.pending_percent == 31  # 2.5 / 8
    assert unit_bar.deserved_percent == 50
    assert unit_bar.budget_percent == 34 and not unit_bar.over_budget
    assert initiative_bar.budget_percent is None


def test_quotas_are_scoped_to_the_users_units(member_a, unit_a, unit_b, pool, executive):
    mine = GPUQuota.objects.create(**quota_data(unit_a, pool))
    GPUQuota.objects.create(**quota_data(unit_b, pool))
    assert [q.pk for q in quota_selectors.quota_list(user=member_a)] == [mine.pk]
    assert quota_selectors.quota_list(user=executive).count() == 2


def make_quotas(count, start=0):
    for n in range(start, start + count):
        unit = BusinessUnitFactory(code=f"Q{n}", name=f"Quota unit {n}")
        pool = GPUPoolFactory(name=f"quota-pool-{n}", gpu_type=GPUTypeFactory(name=f"Q GPU {n}"))
        initiative = InitiativeFactory(business_unit=unit)
        GPUQuota.objects.create(**quota_data(unit, pool))
        GPUQuota.objects.create(**quota_data(unit, pool, initiative=initiative))
        allocation = GPUAllocationFactory(pool=pool, business_unit=unit, initiative=initiative)
        UsageDaily.objects.create(
            allocation=allocation, day=timezone.localdate(), gpu_hours=Decimal("3")
        )
        pending_request(unit, pool, "1", initiative=initiative)


def test_quota_list_query_count_is_constant(platform_engineer, django_assert_max_num_queries):
    make_quotas(3)
    with django_assert_max_num_queries(2) as small:
        rows = quota_selectors.with_bars(quota_selectors.quota_list(user=platform_engineer))
        [(row.business_unit.code, row.pool.gpu_type.name, row.initiative) for row in rows]
    make_quotas(6, start=3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        rows = quota_selectors.with_bars(quota_selectors.quota_list(user=platform_engineer))
        [(row.business_unit.code, row.pool.gpu_type.name, row.initiative) for row in rows]
    assert len(rows) == 18


# --- External keys ------------------------------------------------------------------------------


def test_platform_engineer_adds_and_deletes_keys(platform_engineer, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a)
    key = gpu_requests.external_key_create(
        actor=platform_engineer,
        data={"kind": "k8s_namespace", "value": " claims-ml ", "initiative": initiative},
    )
    assert key.value == "claims-ml"
    assert AuditEvent.objects.filter(action="external_key.created").count() == 1
    with pytest.raises(ValidationError) as refused:
        gpu_requests.external_key_create(
            actor=platform_engineer,
            data={"kind": "k8s_namespace", "value": "claims-ml", "business_unit": unit_a},
        )
    assert refused.value.message_dict == {
        "value": ["The kubernetes namespace “claims-ml” is taken."]
    }
    gpu_requests.external_key_delete(actor=platform_engineer, key=key)
    assert not ExternalKey.objects.exists()
    assert AuditEvent.objects.filter(action="external_key.deleted").count() == 1


def test_a_key_points_at_exactly_one_target(platform_engineer, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a)
    for targets in ({}, {"initiative": initiative, "business_unit": unit_a}):
        with pytest.raises(ValidationError) as refused:
            gpu_requests.external_key_create(
                actor=platform_engineer, data={"kind": "cost_tag", "value": "x", **targets}
            )
        assert "exactly one" in refused.value.message_dict["initiative"][0]


def test_bu_lead_manages_their_units_keys_only(unit_a, unit_b):
    lead = member(Role.BU_LEAD, unit_a, username="lead-a")
    own = InitiativeFactory(business_unit=unit_a)
    allocation = GPUAllocationFactory(business_unit=unit_a)
    for target in ({"initiative": own}, {"business_unit": unit_a}, {"allocation": allocation}):
        gpu_requests.external_key_create(
            actor=lead,
            data={"kind": "slurm_account", "value": f"acct-{len(target)}-{id(target)}", **target},
        )
    assert ExternalKey.objects.count() == 3
    foreign = InitiativeFactory(business_unit=unit_b)
    with pytest.raises(PermissionDenied):
        gpu_requests.external_key_create(
            actor=lead, data={"kind": "slurm_account", "value": "theirs", "initiative": foreign}
        )
    foreign_key = ExternalKey.objects.create(kind="cost_tag", value="ins", business_unit=unit_b)
    with pytest.raises(PermissionDenied):
        gpu_requests.external_key_delete(actor=lead, key=foreign_key)
    assert ExternalKey.objects.filter(pk=foreign_key.pk).exists()
    assert ExternalKey.objects.count() == 4


def test_bu_member_cannot_manage_keys(member_a, unit_a):
    with pytest.raises(PermissionDenied):
        gpu_requests.external_key_create(
            actor=member_a, data={"kind": "cost_tag", "value": "x", "business_unit": unit_a}
        )
    assert not ExternalKey.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="external_key").exists()


def test_external_keys_are_scoped(member_a, unit_a, unit_b, platform_engineer):
    mine = ExternalKey.objects.create(kind="cost_tag", value="a", business_unit=unit_a)
    ExternalKey.objects.create(kind="cost_tag", value="b", business_unit=unit_b)
    assert list(quota_selectors.external_key_list(user=member_a)) == [mine]
    assert quota_selectors.external_key_list(user=platform_engineer).count() == 2
