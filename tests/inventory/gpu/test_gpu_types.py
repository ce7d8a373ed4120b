"""The GPU catalogue edited by platform admins (issue 17, item 8): the catalogue's entries,
the create and edit pages (the generic reference-data form), the API, the service's
permission check and audit events, and the list's constant query count."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEvent
from inventory.gpu import services
from inventory.gpu.catalogue import reference_rows
from inventory.gpu.models import GPUType

pytestmark = pytest.mark.django_db

KEEPERS = ["platform_engineer", "coe_admin"]
OTHERS = ["member_a", "member_b", "executive", "coe_reviewer"]
REQUIRED = [
    "P100 16GB",
    "V100 16GB",
    "V100 32GB",
    "T4",
    "A10",
    "A100 40GB",
    "A100 80GB",
    "H100 80GB",
    "H200 141GB",
    "L4",
    "L40S",
    "MI300X",
]


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


def test_the_seeded_catalogue_has_every_required_gpu():
    names = set(GPUType.objects.values_list("name", flat=True))
    assert set(REQUIRED) <= names
    assert set(REQUIRED) <= {row["name"] for row in reference_rows()}
    assert GPUType.objects.get(name="A100 40GB").mig_profiles[0] == "1g.5gb"
    assert GPUType.objects.get(name="V100 32GB").memory_gb == 32


@pytest.mark.parametrize("persona", KEEPERS)
def test_keeper_adds_a_gpu_type_without_memory_on_the_page(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    address = reverse("inventory:gpu_type_create")
    assert client.get(address).status_code == 200
    response = client.post(
        address,
        {
            "vendor": "NVIDIA",
            "name": "B200",
            "currency": "USD",
            "monitoring_names": "NVIDIA B200\nNVIDIA B200 SXM",
            "mig_profiles": "1g.23gb, 7g.180gb",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inventory:gpu_type_list")
    created = GPUType.objects.get(name="B200")
    assert created.memory_gb is None
    assert created.monitoring_names == ["NVIDIA B200", "NVIDIA B200 SXM"]
    assert created.mig_profiles == ["1g.23gb", "7g.180gb"]
    assert audit_count("gpu_type.created") == 1


@pytest.mark.parametrize("persona", OTHERS)
def test_others_cannot_open_or_post_the_pages(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    t4 = GPUType.objects.get(name="T4")
    for address in (
        reverse("inventory:gpu_type_create"),
        reverse("inventory:gpu_type_update", args=[t4.pk]),
    ):
        assert client.get(address).status_code == 403
        assert client.post(address, {"vendor": "X", "name": "Y"}).status_code == 403
    t4.refresh_from_db()
    assert t4.vendor == "NVIDIA" and not GPUType.objects.filter(name="Y").exists()
    assert audit_count("gpu_type.created") + audit_count("gpu_type.updated") == 0


def test_keeper_edits_a_gpu_type_with_field_errors_first(client, platform_engineer):
    client.force_login(platform_engineer)
    t4 = GPUType.objects.get(name="T4")
    address = reverse("inventory:gpu_type_update", args=[t4.pk])
    page = client.get(address)
    assert page.status_code == 200 and "Tesla T4" in page.content.decode()
    data = {
        "vendor": "NVIDIA",
        "name": "T4",
        "memory_gb": "16",
        "currency": "USD",
        "reference_hourly_price": "0.35",
        "monitoring_names": "Tesla T4",
        "mig_profiles": "half",
    }
    refused = client.post(address, data)
    assert refused.status_code == 200
    assert "mig_profiles" in refused.context["form"].errors
    assert client.post(address, {**data, "mig_profiles": ""}).status_code == 302
    t4.refresh_from_db()
    assert t4.reference_hourly_price == Decimal("0.35") and t4.mig_profiles == []
    event = AuditEvent.objects.get(action="gpu_type.updated")
    assert "reference_hourly_price" in event.payload


def test_a_duplicate_name_is_a_field_error(platform_engineer):
    with pytest.raises(ValidationError) as refused:
        services.gpu_type_create(actor=platform_engineer, data={"name": "T4", "vendor": "NVIDIA"})
    assert "name" in refused.value.message_dict


def test_the_service_checks_permission_itself(member_a):
    with pytest.raises(PermissionDenied):
        services.gpu_type_create(actor=member_a, data={"name": "Z1"})
    t4 = GPUType.objects.get(name="T4")
    with pytest.raises(PermissionDenied):
        services.gpu_type_update(actor=member_a, gpu_type=t4, data={"memory_gb": 1})
    t4.refresh_from_db()
    assert t4.memory_gb == 16 and audit_count("gpu_type.updated") == 0


def test_api_creates_and_edits_for_keepers_only(platform_engineer, member_a):
    api = APIClient()
    api.force_authenticate(member_a)
    assert api.get("/api/v1/gpu-types/").status_code == 200
    assert api.post("/api/v1/gpu-types/", {"name": "Gaudi 3"}, format="json").status_code == 403
    api.force_authenticate(platform_engineer)
    created = api.post(
        "/api/v1/gpu-types/",
        {"vendor": "Intel", "name": "Gaudi 3", "mig_profiles": []},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["memory_gb"] is None
    pk = created.json()["id"]
    changed = api.patch(f"/api/v1/gpu-types/{pk}/", {"memory_gb": 128}, format="json")
    assert changed.status_code == 200 and changed.json()["memory_gb"] == 128
    duplicate = api.post("/api/v1/gpu-types/", {"name": "Gaudi 3"}, format="json")
    assert duplicate.status_code == 400 and "name" in duplicate.json()
    bad = api.patch(f"/api/v1/gpu-types/{pk}/", {"mig_profiles": ["x"]}, format="json")
    assert bad.status_code == 400 and "mig_profiles" in bad.json()
    assert audit_count("gpu_type.created") == 1 and audit_count("gpu_type.updated") == 1


def test_the_list_query_count_does_not_grow_with_rows(
    client, platform_engineer, django_assert_max_num_queries
):
    client.force_login(platform_engineer)
    address = reverse("inventory:gpu_type_list")
    client.get(address)
    with django_assert_max_num_queries(8) as few:
        assert client.get(address).status_code == 200
    GPUType.objects.bulk_create(GPUType(name=f"Extra {n}", memory_gb=n) for n in range(20))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(address).status_code == 200
    api = APIClient()
    api.force_authenticate(platform_engineer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert api.get("/api/v1/gpu-types/").status_code == 200
