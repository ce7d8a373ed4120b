"""GPU requests, quotas, external keys and the catalogue through the pages and the API:
permissions, field errors, the fast-track flag, and constant query counts."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from governance.approvals.models import ApprovalRequest
from inventory.capacity.models import GPUQuota, GPURequest
from inventory.gpu.models import GPUAllocation
from inventory.usage.models import ExternalKey, UsageDaily
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    GPUTypeFactory,
    InitiativeFactory,
    UserFactory,
)
from tests.inventory.helpers import form_data

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/gpu-requests/"
QUOTAS = "/api/v1/gpu-quotas/"
KEYS = "/api/v1/external-keys/"
TYPES = "/api/v1/gpu-types/"


def url(name, *args):
    return reverse(f"inventory:{name}", args=args)


@pytest.fixture
def api():
    return APIClient()


def request_body(initiative, pool, **overrides):
    return {
        "initiative": initiative.pk,
        "pool": pool.pk,
        "gpu_count": "2",
        "purpose": "training",
        "starts_on": timezone.localdate().isoformat(),
        "justification": "Train the claims model.",
        **overrides,
    }


# --- Pages --------------------------------------------------------------------------------------


def test_member_requests_gpus_through_the_form(client, member_a, initiative, pool, quota):
    client.force_login(member_a)
    page = client.get(url("gpu_request_create") + f"?initiative={initiative.pk}")
    assert page.status_code == 200
    form = page.context["form"]
    assert form["initiative"].value() == str(initiative.pk)
    assert 'name="csrfmiddlewaretoken"' in page.content.decode()

    response = client.post(
        url("gpu_request_create"),
        form_data(form, pool=pool.pk, gpu_count="2", purpose="training"),
        follow=True,
    )

    gpu_request = GPURequest.objects.get()
    assert response.redirect_chain[-1][0] == gpu_request.get_absolute_url()
    body = response.content.decode()
    assert "Fast-tracked: 2 GPUs allocated in k8s-h100." in body
    assert f"#{gpu_request.allocation.pk}" in body
    approval = ApprovalRequest.objects.get(gate="gpu_request")
    assert approval.get_absolute_url() in body


def test_capacity_and_fraction_errors_land_on_the_field(client, member_a, initiative, quota):
    small = GPUPoolFactory(name="small-pool", gpu_count=2)
    client.force_login(member_a)
    form = client.get(url("gpu_request_create")).context["form"]
    response = client.post(
        url("gpu_request_create"),
        form_data(form, initiative=initiative.pk, pool=small.pk, gpu_count="3", purpose="training"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["gpu_count"] == [
        "Only 2 of 2 GPUs in small-pool are free for that period."
    ]
    response = client.post(
        url("gpu_request_create"),
        form_data(
            form, initiative=initiative.pk, pool=small.pk, gpu_count="0.5", purpose="training"
        ),
    )
    assert response.context["form"].errors["gpu_count"] == [
        "small-pool does not share GPUs: ask for whole GPUs."
    ]
    assert not GPURequest.objects.exists()


def test_other_units_member_cannot_see_or_ask(client, member_a, member_b, initiative, pool):
    client.force_login(member_a)
    gpu_request = GPURequest.objects.get(
        pk=client.post(
            url("gpu_request_create"),
            {**request_body(initiative, pool), "ends_on": "", "business_unit": ""},
        )["Location"]
        .rstrip("/")
        .split("/")[-1]
    )
    client.force_login(member_b)
    assert client.get(gpu_request.get_absolute_url()).status_code == 404
    listed = client.get(url("gpu_request_list"))
    assert list(listed.context["rows"]) == []
    # The initiative is not offered, and posting it anyway is refused.
    form = client.get(url("gpu_request_create")).context["form"]
    assert initiative not in form.fields["initiative"].queryset
    response = client.post(url("gpu_request_create"), request_body(initiative, pool))
    assert response.status_code == 200 and "initiative" in response.context["form"].errors
    assert GPURequest.objects.count() == 1


def test_quota_pages_need_a_platform_engineer(client, member_a, platform_engineer, unit_a, pool):
    client.force_login(member_a)
    assert client.get(url("quota_create")).status_code == 403
    assert client.post(url("quota_create"), {}).status_code == 403
    client.force_login(platform_engineer)
    form = client.get(url("quota_create")).context["form"]
    response = client.post(
        url("quota_create"),
        form_data(
            form,
            business_unit=unit_a.pk,
            pool=pool.pk,
            deserved_gpus="4",
            limit_gpus="2",
        ),
    )
    assert response.context["form"].errors["limit_gpus"] == [
        "The limit cannot be below the deserved GPUs."
    ]
    response = client.post(
        url("quota_create"),
        form_data(form, business_unit=unit_a.pk, pool=pool.pk, deserved_gpus="4", limit_gpus="8"),
    )
    assert response.status_code == 302
    quota = GPUQuota.objects.get()
    edit = client.get(url("quota_update", quota.pk)).context["form"]
    response = client.post(url("quota_update", quota.pk), form_data(edit, limit_gpus="12"))
    assert response.status_code == 302
    quota.refresh_from_db()
    assert quota.limit_gpus == Decimal("12") and quota.business_unit == unit_a
    client.force_login(member_a)
    assert client.post(url("quota_delete", quota.pk)).status_code == 403
    assert client.post(url("quota_update", quota.pk), {"limit_gpus": "99"}).status_code == 403
    client.force_login(platform_engineer)
    assert client.post(url("quota_delete", quota.pk)).status_code == 302
    assert not GPUQuota.objects.exists()
    assert [e for e in AuditEvent.objects.values_list("action", flat=True) if "quota" in e] == [
        "gpu_quota.created",
        "gpu_quota.updated",
        "gpu_quota.deleted",
    ]


def test_quota_list_shows_usage_against_quota(client, member_a, unit_a, pool, quota):
    allocation = GPUAllocationFactory(pool=pool, business_unit=unit_a, gpu_count=Decimal("3"))
    UsageDaily.objects.create(
        allocation=allocation, day=timezone.localdate(), gpu_hours=Decimal("12.5")
    )
    client.force_login(member_a)
    response = client.get(url("quota_list"))
    body = response.content.decode()
    assert "3 + 0 of 8" in body and "12.5" in body
    assert "<svg" in body and "style=" not in body.split("<svg", 1)[1].split("</svg>", 1)[0]
    # The pool page's panel.
    panel = client.get(url("pool_quotas", pool.pk))
    assert "3 + 0 of 8" in panel.content.decode()
    assert "13 of 16 GPUs free today" in panel.content.decode()


def test_external_keys_page(client, member_a, platform_engineer, unit_a):
    client.force_login(member_a)
    page = client.get(url("external_key_list"))
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post(url("external_key_list"), {"kind": "cost_tag"}).status_code == 403
    client.force_login(platform_engineer)
    form = client.get(url("external_key_list")).context["form"]
    response = client.post(
        url("external_key_list"),
        form_data(form, kind="k8s_namespace", value="claims-ml", business_unit=unit_a.pk),
    )
    assert response.status_code == 302
    key = ExternalKey.objects.get()
    response = client.post(
        url("external_key_list"),
        form_data(form, kind="k8s_namespace", value="claims-ml", business_unit=unit_a.pk),
    )
    assert response.context["form"].errors["value"] == [
        "The kubernetes namespace “claims-ml” is taken."
    ]
    client.force_login(member_a)
    assert client.post(url("external_key_delete", key.pk)).status_code == 403
    client.force_login(platform_engineer)
    assert client.post(url("external_key_delete", key.pk)).status_code == 302
    assert not ExternalKey.objects.exists()


def test_catalogue_page_lists_reference_data(client, member_a):
    GPUTypeFactory(
        name="Test GPU 99",
        memory_gb=48,
        reference_hourly_price=Decimal("1.2345"),
        price_source="Vendor list price",
        price_as_of="2025-01",
        monitoring_names=["NVIDIA Test 99"],
        mig_profiles=["1g.6gb", "7g.48gb"],
    )
    client.force_login(member_a)
    body = client.get(url("gpu_type_list") + "?q=Test+GPU").content.decode()
    assert "48 GB" in body and "1.2345" in body and "Vendor list price · 2025-01" in body
    assert "NVIDIA Test 99" in body and "1g.6gb, 7g.48gb" in body


def make_requests(count, start=0):
    for n in range(start, start + count):
        unit = BusinessUnitFactory(code=f"R{n}", name=f"Request unit {n}")
        pool = GPUPoolFactory(name=f"req-pool-{n}", gpu_type=GPUTypeFactory(name=f"R GPU {n}"))
        initiative = InitiativeFactory(business_unit=unit)
        allocation = GPUAllocationFactory(pool=pool, business_unit=unit, initiative=initiative)
        GPURequest.objects.create(
            initiative=initiative,
            business_unit=unit,
            pool=pool,
            gpu_count=Decimal("1"),
            purpose="training",
            pricing_model="on_demand",
            starts_on=timezone.localdate(),
            requested_by=UserFactory(),
            status="approved",
            allocation=allocation,
        )
        GPUQuota.objects.create(
            business_unit=unit, pool=pool, deserved_gpus=Decimal("1"), limit_gpus=Decimal("2")
        )
        ExternalKey.objects.create(kind="cost_tag", value=f"tag-{n}", initiative=initiative)
        GPUTypeFactory(name=f"Extra GPU {n}", monitoring_names=["x"], mig_profiles=["1g"])


@pytest.mark.parametrize(
    "target",
    [
        ("page", "gpu_request_list"),
        ("page", "quota_list"),
        ("page", "external_key_list"),
        ("page", "gpu_type_list"),
        ("api", REQUESTS),
        ("api", QUOTAS),
        ("api", KEYS),
        ("api", TYPES),
    ],
)
def test_list_query_counts_are_constant(
    client, api, platform_engineer, target, django_assert_max_num_queries
):
    kind, where = target

    def fetch():
        if kind == "page":
            client.force_login(platform_engineer)
            response = client.get(url(where))
        else:
            api.force_authenticate(platform_engineer)
            response = api.get(where)
        assert response.status_code == 200
        return response

    make_requests(2)
    fetch()  # warm caches (content types, sessions)
    with django_assert_max_num_queries(100) as small:
        fetch()
    make_requests(6, start=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        fetch()


# --- API -----------------------------------------------------------------------------------------


def test_api_create_returns_201_with_status_and_fast_track(api, member_a, initiative, pool, quota):
    api.force_authenticate(member_a)
    response = api.post(REQUESTS, request_body(initiative, pool), format="json")
    assert response.status_code == 201, response.data
    assert response.data["status"] == "approved" and response.data["fast_tracked"] is True
    assert response.data["allocation"] == GPUAllocation.objects.get().pk
    assert response.data["approval_request"] == ApprovalRequest.objects.get().pk
    assert response.data["pricing_model"] == pool.pricing_model

    pending = api.post(REQUESTS, request_body(initiative, pool, gpu_count="20"), format="json")
    assert pending.status_code == 400  # 20 > 16 - 2 free
    assert pending.data == {
        "gpu_count": ["Only 14 of 16 GPUs in k8s-h100 are free for that period."]
    }
    pending = api.post(REQUESTS, request_body(initiative, pool, gpu_count="9"), format="json")
    assert pending.status_code == 201
    assert pending.data["status"] == "pending" and pending.data["fast_tracked"] is False


def test_api_field_errors_and_permissions(api, member_a, member_b, initiative, pool):
    api.force_authenticate(member_a)
    response = api.post(
        REQUESTS,
        request_body(
            initiative,
            pool,
            gpu_count="1.5",
            ends_on=(timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
        ),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data) == {"gpu_count", "ends_on"}
    api.force_authenticate(member_b)
    response = api.post(REQUESTS, request_body(initiative, pool), format="json")
    assert response.status_code == 403
    assert not GPURequest.objects.exists()
    api.force_authenticate(None)
    assert api.get(REQUESTS).status_code == 401


def test_api_lists_are_scoped(api, member_a, member_b, initiative, pool, quota, unit_b):
    api.force_authenticate(member_a)
    assert api.post(REQUESTS, request_body(initiative, pool), format="json").status_code == 201
    api.force_authenticate(member_b)
    assert api.get(REQUESTS).data["count"] == 0
    assert api.get(QUOTAS).data["count"] == 0
    api.force_authenticate(member_a)
    assert api.get(REQUESTS).data["count"] == 1
    assert api.get(QUOTAS).data["results"][0]["allocated_gpus"] in ("2.0000", "2.00", "2")


def test_api_quota_crud_for_platform_engineers(api, member_a, platform_engineer, unit_a, pool):
    body = {"business_unit": unit_a.pk, "pool": pool.pk, "deserved_gpus": "2", "limit_gpus": "4"}
    api.force_authenticate(member_a)
    assert api.post(QUOTAS, body, format="json").status_code == 403
    api.force_authenticate(platform_engineer)
    created = api.post(QUOTAS, body, format="json")
    assert created.status_code == 201, created.data
    assert api.post(QUOTAS, body, format="json").data == {
        "business_unit": ["RETAIL already has a quota in k8s-h100."]
    }
    detail = f"{QUOTAS}{created.data['id']}/"
    updated = api.patch(detail, {"limit_gpus": "6", "pool": 999}, format="json")
    assert updated.status_code == 200 and Decimal(updated.data["limit_gpus"]) == 6
    api.force_authenticate(member_a)
    assert api.patch(detail, {"limit_gpus": "60"}, format="json").status_code == 403
    assert api.delete(detail).status_code == 403
    api.force_authenticate(platform_engineer)
    assert api.delete(detail).status_code == 204
    assert not GPUQuota.objects.exists()


def test_api_external_keys_and_catalogue(api, member_a, platform_engineer, unit_a):
    api.force_authenticate(member_a)
    body = {"kind": "slurm_account", "value": "retail-ml", "business_unit": unit_a.pk}
    assert api.post(KEYS, body, format="json").status_code == 403
    api.force_authenticate(platform_engineer)
    created = api.post(KEYS, body, format="json")
    assert created.status_code == 201, created.data
    assert api.post(KEYS, body, format="json").status_code == 400
    assert api.delete(f"{KEYS}{created.data['id']}/").status_code == 204
    api.force_authenticate(member_a)
    types = api.get(TYPES)
    assert types.status_code == 200
    # The catalogue is writable by platform admins only (tests/inventory/gpu/test_gpu_types.py).
    assert api.post(TYPES, {"name": "x"}, format="json").status_code == 403


def test_approval_page_says_what_is_asked(client, member_a, platform_engineer, initiative, pool):
    """An over-quota request waits for the platform team, whose approval page names the
    GPUs, type, pool, unit, purpose and period (not just the initiative)."""
    from inventory.capacity import services as request_services

    asked = request_services.gpu_request_create(
        actor=member_a,
        data={
            "initiative": initiative,
            "pool": pool,
            "gpu_count": Decimal("3"),
            "purpose": "fine_tuning",
            "pricing_model": "on_demand",
            "starts_on": timezone.localdate(),
            "justification": "No quota yet.",
        },
    )
    approval = ApprovalRequest.objects.get(subject_id=str(asked.pk), gate="gpu_request")
    client.force_login(platform_engineer)
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "Asked for" in page
    assert f"3 × {pool.gpu_type.name} in {pool.name}" in page
    assert asked.get_absolute_url() in page and "Fine-tuning" in page
