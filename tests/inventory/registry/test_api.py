import datetime
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import AuditEvent
from inventory.gpu.models import GPUAllocation, GPUPool
from inventory.registry.models import AIModel
from tests.factories import (
    AIModelFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
)
from tests.inventory.helpers import audit_actions, today

pytestmark = pytest.mark.django_db

MODELS = "/api/v1/models/"
POOLS = "/api/v1/gpu-pools/"
ALLOCATIONS = "/api/v1/gpu-allocations/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def estate(unit_a, unit_b):
    pool = GPUPoolFactory(name="shared-pool", gpu_count=16)
    return {
        "initiative_a": InitiativeFactory(business_unit=unit_a),
        "initiative_b": InitiativeFactory(business_unit=unit_b),
        "pool": pool,
        "model_a": AIModelFactory(business_unit=unit_a, name="alpha-scorer"),
        "model_b": AIModelFactory(business_unit=unit_b, name="beta-scorer"),
        "allocation_a": GPUAllocationFactory(
            pool=pool, business_unit=unit_a, gpu_count=Decimal("2")
        ),
        "allocation_b": GPUAllocationFactory(
            pool=pool, business_unit=unit_b, gpu_count=Decimal("3")
        ),
    }


def detail(collection, pk):
    return f"{collection}{pk}/"


def model_body(unit, owner, **overrides):
    return {
        "name": "fraud-scorer",
        "model_type": "deep_learning",
        "business_unit": unit.pk,
        "owner": owner.pk,
        **overrides,
    }


def pool_body(**overrides):
    return {
        "name": "gke-a100",
        "kind": "kubernetes",
        "provider": "gcp",
        "gpu_type": GPUTypeFactory(name="A100 40GB", memory_gb=40).pk,
        "gpu_count": 8,
        "pricing_model": "reserved",
        "hourly_rate": "2.1000",
        **overrides,
    }


def allocation_body(pool, unit, **overrides):
    return {
        "pool": pool.pk,
        "gpu_count": "4.00",
        "business_unit": unit.pk,
        "purpose": "inference",
        "starts_on": today().isoformat(),
        **overrides,
    }


# --- Authentication ----------------------------------------------------------------------


def test_anonymous_requests_are_challenged_with_401(api, estate, unit_a):
    # TokenAuthentication is listed first in settings, so DRF answers an unauthenticated
    # request with 401 and its "Token" challenge (it would be 403 with Session first).
    for collection in (MODELS, POOLS, ALLOCATIONS):
        response = api.get(collection)
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Token")
    assert api.post(POOLS, pool_body(), format="json").status_code == 401
    response = api.post(ALLOCATIONS, allocation_body(estate["pool"], unit_a), format="json")
    assert response.status_code == 401
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get(MODELS).status_code == 401
    assert GPUPool.objects.count() == 1 and GPUAllocation.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_token_authentication_works(api, member_a, estate):
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=member_a).key}")
    response = api.get(MODELS)
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["alpha-scorer"]


# --- Models ------------------------------------------------------------------------------


def test_models_are_scoped(api, member_a, estate):
    api.force_authenticate(member_a)
    assert [row["id"] for row in api.get(MODELS).json()["results"]] == [estate["model_a"].pk]
    assert api.get(detail(MODELS, estate["model_b"].pk)).status_code == 404


def test_member_creates_and_updates_a_model(api, member_a, unit_a, estate):
    api.force_authenticate(member_a)
    response = api.post(
        MODELS,
        model_body(unit_a, member_a, initiatives=[estate["initiative_a"].pk]),
        format="json",
    )
    assert response.status_code == 201, response.json()
    model = AIModel.objects.get(pk=response.json()["id"])
    assert list(model.initiatives.all()) == [estate["initiative_a"]]

    response = api.patch(detail(MODELS, model.pk), {"licence": "MIT"}, format="json")
    assert response.status_code == 200
    model.refresh_from_db()
    assert model.licence == "MIT"
    assert list(model.initiatives.all()) == [estate["initiative_a"]]
    assert audit_actions() == ["ai_model.created", "ai_model.updated"]


def test_member_cannot_create_a_model_for_another_unit(api, member_a, unit_b, estate):
    api.force_authenticate(member_a)
    response = api.post(MODELS, model_body(unit_b, member_a), format="json")
    assert response.status_code == 403
    # The service's reason reaches the caller (core.api.exceptions), not DRF's generic text.
    assert response.json() == {"detail": "You cannot register models for that business unit."}
    assert not AIModel.objects.filter(name="fraud-scorer").exists()
    assert not AuditEvent.objects.exists()


def test_out_of_scope_model_cannot_be_changed(api, member_b, estate):
    api.force_authenticate(member_b)
    response = api.patch(detail(MODELS, estate["model_a"].pk), {"name": "x"}, format="json")
    assert response.status_code == 404
    estate["model_a"].refresh_from_db()
    assert estate["model_a"].name == "alpha-scorer"
    assert not AuditEvent.objects.exists()


def test_model_validation_errors_are_field_level(api, member_a, unit_a, estate):
    api.force_authenticate(member_a)
    response = api.post(
        MODELS,
        model_body(
            unit_a,
            member_a,
            name="",
            model_type="quantum",
            initiatives=[estate["initiative_b"].pk],  # not visible to member_a
        ),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"name", "model_type", "initiatives"}
    assert not AuditEvent.objects.exists()


# --- GPU pools ---------------------------------------------------------------------------


def test_every_signed_in_user_reads_pools_with_allocated_gpus(api, member_b, estate):
    api.force_authenticate(member_b)
    rows = api.get(POOLS).json()["results"]
    assert [(row["name"], row["allocated_gpus"]) for row in rows] == [("shared-pool", "5.000")]


@pytest.mark.parametrize("persona", ["member_a", "coe_reviewer"])
def test_only_platform_engineers_create_or_change_pools(api, request, estate, persona):
    api.force_authenticate(request.getfixturevalue(persona))
    assert api.post(POOLS, pool_body(), format="json").status_code == 403
    response = api.patch(detail(POOLS, estate["pool"].pk), {"gpu_count": 64}, format="json")
    assert response.status_code == 403
    estate["pool"].refresh_from_db()
    assert estate["pool"].gpu_count == 16
    assert GPUPool.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_platform_engineer_creates_and_updates_a_pool(api, platform_engineer, estate):
    api.force_authenticate(platform_engineer)
    response = api.post(POOLS, pool_body(), format="json")
    assert response.status_code == 201, response.json()
    pool_id = response.json()["id"]
    response = api.patch(detail(POOLS, pool_id), {"gpu_count": 12}, format="json")
    assert response.status_code == 200
    assert GPUPool.objects.get(pk=pool_id).gpu_count == 12
    assert audit_actions() == ["gpu_pool.created", "gpu_pool.updated"]


def test_pool_validation_errors_are_field_level(api, platform_engineer, estate):
    api.force_authenticate(platform_engineer)
    response = api.post(POOLS, pool_body(gpu_count=-1, provider="moon"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"gpu_count", "provider"}

    # The service's refusal (5 GPUs are allocated today) arrives as a field error too.
    response = api.patch(detail(POOLS, estate["pool"].pk), {"gpu_count": 4}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["gpu_count"]
    assert "capacity cannot go below" in response.json()["gpu_count"][0]
    estate["pool"].refresh_from_db()
    assert estate["pool"].gpu_count == 16
    assert not AuditEvent.objects.exists()


# --- GPU allocations ---------------------------------------------------------------------


def test_allocations_are_scoped(api, member_a, member_b, estate):
    api.force_authenticate(member_a)
    rows = api.get(ALLOCATIONS).json()["results"]
    assert [row["id"] for row in rows] == [estate["allocation_a"].pk]
    assert rows[0]["is_orphaned"] is True

    api.force_authenticate(member_b)
    allocation = estate["allocation_a"]
    assert api.get(detail(ALLOCATIONS, allocation.pk)).status_code == 404
    response = api.patch(detail(ALLOCATIONS, allocation.pk), {"gpu_count": "1"}, format="json")
    assert response.status_code == 404
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("2")


def test_member_cannot_allocate_or_change_allocations(api, member_a, unit_a, estate):
    api.force_authenticate(member_a)
    response = api.post(ALLOCATIONS, allocation_body(estate["pool"], unit_a), format="json")
    assert response.status_code == 403
    allocation = estate["allocation_a"]
    response = api.patch(detail(ALLOCATIONS, allocation.pk), {"gpu_count": "9"}, format="json")
    assert response.status_code == 403
    allocation.refresh_from_db()
    assert allocation.gpu_count == Decimal("2")
    assert GPUAllocation.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_platform_engineer_allocates_and_updates(api, platform_engineer, unit_b, estate):
    api.force_authenticate(platform_engineer)
    response = api.post(
        ALLOCATIONS,
        allocation_body(estate["pool"], unit_b, initiative=estate["initiative_b"].pk),
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["approved_by"], body["is_orphaned"]) == (platform_engineer.pk, False)

    response = api.patch(detail(ALLOCATIONS, body["id"]), {"gpu_count": "6.5"}, format="json")
    assert response.status_code == 200
    assert GPUAllocation.objects.get(pk=body["id"]).gpu_count == Decimal("6.5")
    assert audit_actions() == ["gpu_allocation.created", "gpu_allocation.updated"]


def test_over_commit_is_a_field_error(api, platform_engineer, unit_a, estate):
    api.force_authenticate(platform_engineer)
    response = api.post(
        ALLOCATIONS, allocation_body(estate["pool"], unit_a, gpu_count="12"), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "gpu_count": ["Only 11 of 16 GPUs in shared-pool are free for that period."]
    }
    assert GPUAllocation.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_allocation_validation_errors_are_field_level(api, platform_engineer, unit_a, estate):
    api.force_authenticate(platform_engineer)
    response = api.post(
        ALLOCATIONS,
        allocation_body(estate["pool"], unit_a, purpose="mining", starts_on="not-a-date"),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"purpose", "starts_on"}
    assert GPUAllocation.objects.count() == 2
    assert not AuditEvent.objects.exists()


def test_allocation_constraint_violations_are_field_level(api, platform_engineer, unit_a, estate):
    api.force_authenticate(platform_engineer)
    yesterday = (today() - datetime.timedelta(days=1)).isoformat()
    response = api.post(
        ALLOCATIONS,
        allocation_body(estate["pool"], unit_a, gpu_count="0", ends_on=yesterday),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"gpu_count", "ends_on"}
