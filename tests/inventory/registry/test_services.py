import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from inventory.gpu.choices import AllocationPurpose, PoolKind, PricingModel, Provider
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.gpu.services import allocation_create, allocation_update, pool_create, pool_update
from inventory.registry import services
from inventory.registry.choices import ModelStatus, ModelType
from inventory.registry.models import AIModel, ModelVersion
from tests.factories import (
    AIModelFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
)
from tests.inventory.helpers import audit_actions, today

pytestmark = pytest.mark.django_db


def model_data(unit, owner, **overrides):
    return {
        "name": "Claims classifier",
        "model_type": ModelType.CLASSICAL_ML,
        "business_unit": unit,
        "owner": owner,
        **overrides,
    }


def pool_data(**overrides):
    return {
        "name": "eks-gpu-eu",
        "kind": PoolKind.KUBERNETES,
        "provider": Provider.AWS,
        "region": "eu-west-1",
        "gpu_type": GPUTypeFactory(),
        "gpu_count": 16,
        "pricing_model": PricingModel.ON_DEMAND,
        "hourly_rate": Decimal("3.50"),
        **overrides,
    }


def allocation_data(pool, unit, **overrides):
    return {
        "pool": pool,
        "gpu_count": Decimal("4"),
        "business_unit": unit,
        "purpose": AllocationPurpose.TRAINING,
        "starts_on": today(),
        **overrides,
    }


def payload(event: AuditEvent) -> dict:
    return json.loads(event.payload)


# --- Models ------------------------------------------------------------------------------


def test_model_create_links_initiatives_and_audits(member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a)

    model = services.model_create(
        actor=member_a, data=model_data(unit_a, member_a, initiatives=[initiative])
    )

    assert list(model.initiatives.all()) == [initiative]
    event = AuditEvent.objects.get(action="ai_model.created")
    assert event.actor == member_a and event.object_id == str(model.pk)
    assert payload(event)["after"]["name"] == "Claims classifier"
    assert payload(event)["after"]["initiatives"] == [initiative.pk]


def test_platform_engineer_may_register_models_for_any_unit(platform_engineer, unit_b):
    services.model_create(actor=platform_engineer, data=model_data(unit_b, platform_engineer))
    assert AIModel.objects.get().business_unit == unit_b
    assert audit_actions() == ["ai_model.created"]


@pytest.mark.parametrize("persona", ["member_b", "coe_reviewer"])
def test_model_create_denied_writes_nothing(request, persona, unit_a, member_a):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.model_create(actor=actor, data=model_data(unit_a, member_a))
    assert not AIModel.objects.exists()
    assert not AuditEvent.objects.exists()


def test_model_create_reports_field_errors(member_a, unit_a):
    with pytest.raises(ValidationError) as caught:
        services.model_create(actor=member_a, data=model_data(unit_a, member_a, name=""))
    assert "name" in caught.value.error_dict
    assert not AIModel.objects.exists()
    assert not AuditEvent.objects.exists()


def test_model_update_records_only_changed_fields(member_a, unit_a):
    model = AIModelFactory(business_unit=unit_a, name="Claims classifier")
    initiative = InitiativeFactory(business_unit=unit_a)

    services.model_update(
        actor=member_a,
        model=model,
        data={
            "name": "Claims classifier v2",
            "model_type": model.model_type,
            "initiatives": [initiative],
        },
    )

    event = AuditEvent.objects.get(action="ai_model.updated")
    assert payload(event)["before"] == {"name": "Claims classifier", "initiatives": []}
    assert payload(event)["after"] == {
        "name": "Claims classifier v2",
        "initiatives": [initiative.pk],
    }


def test_model_update_without_changes_writes_no_event(member_a, unit_a):
    model = AIModelFactory(business_unit=unit_a)
    services.model_update(actor=member_a, model=model, data={"name": model.name})
    assert not AuditEvent.objects.exists()


def test_model_owner_may_edit_without_a_write_role(coe_reviewer, unit_b):
    model = AIModelFactory(business_unit=unit_b, owner=coe_reviewer)
    services.model_update(actor=coe_reviewer, model=model, data={"licence": "Apache-2.0"})
    assert audit_actions() == ["ai_model.updated"]


@pytest.mark.parametrize("persona", ["member_b", "coe_reviewer"])
def test_model_update_denied_changes_nothing(request, persona, unit_a):
    model = AIModelFactory(business_unit=unit_a, name="Claims classifier")
    with pytest.raises(PermissionDenied):
        services.model_update(
            actor=request.getfixturevalue(persona), model=model, data={"name": "Hijacked"}
        )
    model.refresh_from_db()
    assert model.name == "Claims classifier"
    assert not AuditEvent.objects.exists()


def test_model_version_create_audits(member_a, unit_a):
    model = AIModelFactory(business_unit=unit_a)
    version = services.model_version_create(
        actor=member_a, model=model, data={"version": "2.0", "status": ModelStatus.VALIDATION}
    )
    assert version.model == model
    event = AuditEvent.objects.get(action="model_version.created")
    assert payload(event)["after"]["version"] == "2.0"


def test_model_version_create_denied_writes_nothing(member_b, unit_a):
    model = AIModelFactory(business_unit=unit_a)
    with pytest.raises(PermissionDenied):
        services.model_version_create(actor=member_b, model=model, data={"version": "2.0"})
    assert not ModelVersion.objects.exists()
    assert not AuditEvent.objects.exists()


# --- GPU pools ---------------------------------------------------------------------------


def test_pool_create_audits(platform_engineer):
    pool = pool_create(actor=platform_engineer, data=pool_data())
    event = AuditEvent.objects.get(action="gpu_pool.created")
    assert event.object_id == str(pool.pk)
    assert payload(event)["after"]["gpu_count"] == 16


@pytest.mark.parametrize("persona", ["member_a", "coe_reviewer"])
def test_pool_create_denied_writes_nothing(request, persona):
    with pytest.raises(PermissionDenied):
        pool_create(actor=request.getfixturevalue(persona), data=pool_data())
    assert not GPUPool.objects.exists()
    assert not AuditEvent.objects.exists()


def test_pool_update_audits(platform_engineer):
    pool = GPUPoolFactory(gpu_count=16)
    pool_update(actor=platform_engineer, pool=pool, data={"gpu_count": 32})
    event = AuditEvent.objects.get(action="gpu_pool.updated")
    assert (payload(event)["before"], payload(event)["after"]) == (
        {"gpu_count": 16},
        {"gpu_count": 32},
    )


def test_pool_update_denied_changes_nothing(member_a):
    pool = GPUPoolFactory(gpu_count=16)
    with pytest.raises(PermissionDenied):
        pool_update(actor=member_a, pool=pool, data={"gpu_count": 1})
    pool.refresh_from_db()
    assert pool.gpu_count == 16
    assert not AuditEvent.objects.exists()


def test_pool_capacity_cannot_go_below_current_allocations(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=16)
    GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("10"))

    with pytest.raises(ValidationError) as caught:
        pool_update(actor=platform_engineer, pool=pool, data={"gpu_count": 8})

    assert "gpu_count" in caught.value.error_dict
    assert "10" in caught.value.message_dict["gpu_count"][0]
    pool.refresh_from_db()
    assert pool.gpu_count == 16
    assert not AuditEvent.objects.exists()

    pool_update(actor=platform_engineer, pool=pool, data={"gpu_count": 10})
    pool.refresh_from_db()
    assert pool.gpu_count == 10


def test_pool_capacity_ignores_allocations_that_have_ended(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=16)
    GPUAllocationFactory(
        pool=pool,
        business_unit=unit_a,
        gpu_count=Decimal("12"),
        starts_on=today() - datetime.timedelta(days=30),
        ends_on=today() - datetime.timedelta(days=1),
    )
    pool_update(actor=platform_engineer, pool=pool, data={"gpu_count": 4})
    pool.refresh_from_db()
    assert pool.gpu_count == 4


# --- GPU allocations ---------------------------------------------------------------------


def test_allocation_create_audits_and_records_who(platform_engineer, unit_b):
    pool = GPUPoolFactory()
    allocation = allocation_create(actor=platform_engineer, data=allocation_data(pool, unit_b))
    assert allocation.approved_by == platform_engineer
    assert allocation.requested_by == platform_engineer
    event = AuditEvent.objects.get(action="gpu_allocation.created")
    assert payload(event)["after"]["gpu_count"] == "4"


@pytest.mark.parametrize("persona", ["member_a", "coe_reviewer"])
def test_allocation_create_denied_writes_nothing(request, persona, unit_a):
    pool = GPUPoolFactory()
    with pytest.raises(PermissionDenied):
        allocation_create(
            actor=request.getfixturevalue(persona), data=allocation_data(pool, unit_a)
        )
    assert not GPUAllocation.objects.exists()
    assert not AuditEvent.objects.exists()


def test_allocation_over_commit_is_refused_on_gpu_count(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=16)
    allocation_create(
        actor=platform_engineer, data=allocation_data(pool, unit_a, gpu_count=Decimal("10"))
    )

    with pytest.raises(ValidationError) as caught:
        allocation_create(
            actor=platform_engineer, data=allocation_data(pool, unit_a, gpu_count=Decimal("8"))
        )

    assert set(caught.value.error_dict) == {"gpu_count"}
    assert "Only 6 of 16 GPUs" in caught.value.message_dict["gpu_count"][0]
    assert GPUAllocation.objects.count() == 1
    assert audit_actions() == ["gpu_allocation.created"]


def test_allocations_in_separate_periods_share_capacity(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=16)
    first_month = today() + datetime.timedelta(days=1), today() + datetime.timedelta(days=30)
    allocation_create(
        actor=platform_engineer,
        data=allocation_data(
            pool,
            unit_a,
            gpu_count=Decimal("16"),
            starts_on=first_month[0],
            ends_on=first_month[1],
        ),
    )
    allocation_create(
        actor=platform_engineer,
        data=allocation_data(
            pool,
            unit_a,
            gpu_count=Decimal("16"),
            starts_on=first_month[1] + datetime.timedelta(days=1),
        ),
    )
    assert GPUAllocation.objects.count() == 2


def test_allocation_update_audits(platform_engineer, unit_a):
    allocation = GPUAllocationFactory(business_unit=unit_a, gpu_count=Decimal("1"))
    initiative = InitiativeFactory(business_unit=unit_a)
    allocation_update(
        actor=platform_engineer,
        allocation=allocation,
        data={"gpu_count": Decimal("2"), "initiative": initiative},
    )
    event = AuditEvent.objects.get(action="gpu_allocation.updated")
    assert payload(event)["after"] == {"gpu_count": "2", "initiative": initiative.pk}


def test_allocation_update_denied_changes_nothing(member_a, unit_a):
    allocation = GPUAllocationFactory(business_unit=unit_a, gpu_count=Decimal("1"))
    with pytest.raises(PermissionDenied):
        allocation_update(actor=member_a, allocation=allocation, data={"gpu_count": Decimal("3")})
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("1")
    assert not AuditEvent.objects.exists()


def test_allocation_update_cannot_over_commit(platform_engineer, unit_a):
    pool = GPUPoolFactory(gpu_count=16)
    GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("10"))
    allocation = GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("2"))

    with pytest.raises(ValidationError) as caught:
        allocation_update(
            actor=platform_engineer, allocation=allocation, data={"gpu_count": Decimal("7")}
        )

    assert set(caught.value.error_dict) == {"gpu_count"}
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("2")
    assert not AuditEvent.objects.exists()
