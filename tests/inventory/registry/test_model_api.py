"""The model lifecycle API, reads and reference data: the persona matrix over every version
endpoint, scoped version reads, list filters and nested history, the models' effective tier and
consumers, vendors and their products, query counts and the OpenAPI schema, and the admin's
read-only lifecycle fields. Edits, transitions, releases and monitoring reports are in
``test_model_api_transitions.py``."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from inventory.registry import services as model_services
from inventory.registry.choices import ModelStatus, MonitoringStatus
from inventory.registry.models import (
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    Vendor,
    VendorProduct,
)
from tests.factories import UserFactory, VendorFactory
from tests.governance.helpers import LOW_RISK, TIER_2, assessed
from tests.inventory.helpers import (
    COMPLETE_CARD,
    ModelVersionFactory,
    iso,
    make_vendors,
    make_versions,
    today,
)
from tests.inventory.registry.helpers import VERSIONS, detail, serving_model, state

pytestmark = pytest.mark.django_db

VENDORS = "/api/v1/vendors/"
MODELS = "/api/v1/models/"


@pytest.fixture
def personas(member_a, member_b, platform_engineer, coe_reviewer):
    return {
        "bu_member": member_a,
        "other_bu_member": member_b,
        "platform_engineer": platform_engineer,
        "coe_reviewer": coe_reviewer,
        "anonymous": None,
    }


def sign_in(api, user):
    if user is not None:
        api.force_authenticate(user)


# --- Persona matrix ------------------------------------------------------------------------

# endpoint: (HTTP method, target version key (None = the collection), action, body builder,
# status on success, audit action on success). Builders take the lifecycle fixture.
VERSION_ENDPOINTS = {
    "create": (
        "post",
        None,
        "",
        lambda world: {"model": world["model"].pk, "version": "4.0", **COMPLETE_CARD},
        201,
        "model_version.created",
    ),
    "edit": (
        "patch",
        "development",
        "",
        lambda world: {"limitations": "Not for minors' accounts."},
        200,
        "model_version.updated",
    ),
    "transition": (
        "post",
        "development",
        "transition",
        lambda world: {"status": "validation", "reason": "Ready for validation."},
        200,
        "model_version.status_changed",
    ),
    "release": (
        "post",
        "approved",
        "release",
        lambda world: {"comment": "Validated on the Q3 hold-out."},
        201,
        "approval_request.submitted",
    ),
    "validation": (
        "post",
        "production",
        "validation",
        lambda world: {"validated_on": iso(today()), "note": "Annual revalidation."},
        200,
        "model_version.validated",
    ),
    "metrics": (
        "post",
        "production",
        "metrics",
        lambda world: {"name": "auc", "value": 0.91, "dataset": "hold-out Q3"},
        201,
        "evaluation_metric.added",
    ),
    "monitoring": (
        "post",
        "production",
        "monitoring",
        lambda world: {"status": "warning", "metrics": {"drift_score": 0.2}, "note": "Watch."},
        201,
        "model_version.monitoring_reported",
    ),
}
# Who gets what for a write: the model's unit and the platform team may; a CoE reviewer sees
# the model but cannot change it; another unit's member cannot see it; anonymous is challenged.
DENIED = {"coe_reviewer": 403, "other_bu_member": 404, "anonymous": 401}
ALLOWED = ("bu_member", "platform_engineer")


@pytest.mark.parametrize("persona", [*ALLOWED, *DENIED])
@pytest.mark.parametrize("endpoint", list(VERSION_ENDPOINTS))
def test_version_endpoints_persona_matrix(api, lifecycle, personas, endpoint, persona):
    method, target, action, body, ok_status, audit_action = VERSION_ENDPOINTS[endpoint]
    url = VERSIONS if target is None else detail(lifecycle[target].pk, action)
    sign_in(api, personas[persona])
    before = state()
    last_event = AuditEvent.objects.order_by("-sequence").first()

    response = getattr(api, method)(url, body(lifecycle), format="json")

    if persona in ALLOWED:
        assert response.status_code == ok_status, response.json()
        new_actions = AuditEvent.objects.filter(sequence__gt=last_event.sequence).values_list(
            "action", flat=True
        )
        assert audit_action in new_actions
        return
    expected = DENIED[persona]
    if endpoint == "create" and persona == "other_bu_member":
        # The model is not among the caller's choices: refused like an unknown id.
        expected = 400
        assert "model" in response.json()
    assert response.status_code == expected, response.json()
    assert state() == before


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("bu_member", 200),
        ("platform_engineer", 200),
        ("coe_reviewer", 200),
        ("other_bu_member", 404),
        ("anonymous", 401),
    ],
)
def test_version_reads_are_scoped(api, lifecycle, personas, persona, expected):
    sign_in(api, personas[persona])
    response = api.get(detail(lifecycle["production"].pk))
    assert response.status_code == expected
    listing = api.get(VERSIONS)
    if expected == 200:
        body = response.json()
        assert body["status"] == "production"
        assert body["model_effective_tier"] == 1
        assert [report["source"] for report in body["monitoring_reports"]] == []
        assert {row["id"] for row in listing.json()["results"]} == {
            lifecycle[key].pk for key in ("development", "approved", "production")
        }
    elif expected == 404:
        assert listing.json()["count"] == 0
    else:
        assert listing.status_code == 401


def test_version_list_filters(api, lifecycle, member_a, unit_a):
    other = ModelVersionFactory(model__business_unit=unit_a, model__name="other-model")
    api.force_authenticate(member_a)
    by_model = api.get(VERSIONS, {"model": lifecycle["model"].pk}).json()["results"]
    assert other.pk not in {row["id"] for row in by_model} and len(by_model) == 3
    by_status = api.get(VERSIONS, {"status": "approved"}).json()["results"]
    assert [row["id"] for row in by_status] == [lifecycle["approved"].pk]
    api.post(detail(lifecycle["production"].pk, "monitoring"), {"status": "healthy"}, format="json")
    healthy = api.get(VERSIONS, {"monitoring_status": "healthy"}).json()["results"]
    assert [row["id"] for row in healthy] == [lifecycle["production"].pk]


def test_retrieve_nests_metrics_and_monitoring_history(api, lifecycle, member_a):
    version = lifecycle["production"]
    api.force_authenticate(member_a)
    api.post(detail(version.pk, "metrics"), {"name": "auc", "value": 0.9}, format="json")
    api.post(
        detail(version.pk, "monitoring"),
        {"status": "healthy", "metrics": {"drift_score": 0.05}},
        format="json",
    )
    api.post(detail(version.pk, "monitoring"), {"status": "warning"}, format="json")
    body = api.get(detail(version.pk)).json()
    assert [(m["name"], m["value"], m["measured_on"]) for m in body["metrics"]] == [
        ("auc", 0.9, iso(today()))
    ]
    assert [r["status"] for r in body["monitoring_reports"]] == ["warning", "healthy"]
    assert body["monitoring_reports"][1]["metrics"] == {"drift_score": 0.05}
    assert body["monitoring_status"] == "warning" and body["last_metrics"] == {}


# --- Models: tier, consumers ---------------------------------------------------------------


def test_model_shows_its_effective_tier_and_consumers(
    api, unit_a, unit_b, member_a, member_b, platform_engineer
):
    ours = assessed(unit_a, member_a, LOW_RISK)
    theirs = assessed(unit_b, member_b, TIER_2)
    shared = serving_model(platform_engineer, unit_a, [ours, theirs], name="shared")
    own = serving_model(platform_engineer, unit_a, [ours], name="own")
    api.force_authenticate(member_a)
    rows = {row["name"]: row for row in api.get(MODELS).json()["results"]}
    assert rows["shared"]["effective_tier"] == 2
    assert rows["shared"]["consumer_business_units"] == sorted([unit_a.pk, unit_b.pk])
    assert rows["shared"]["is_shared"] is True
    assert (rows["own"]["effective_tier"], rows["own"]["is_shared"]) == (1, False)
    assert rows["own"]["consumer_business_units"] == [unit_a.pk]
    before = state()
    response = api.patch(f"{MODELS}{own.pk}/", {"effective_tier": 4}, format="json")
    assert response.status_code == 200
    own.refresh_from_db()
    assert own.effective_tier == 1
    assert shared.pk and state()["audit"] == before["audit"]


# --- Vendors ---------------------------------------------------------------------------------


def vendor_body(**overrides):
    return {
        "name": "Acme AI",
        "website": "https://acme.example",
        "contract_reference": "C-2031",
        "dpa_signed": True,
        "due_diligence_status": "in_progress",
        **overrides,
    }


VENDOR_WRITERS = {"coe_reviewer": 201, "platform_engineer": 201}
VENDOR_DENIED = {"bu_member": 403, "other_bu_member": 403, "anonymous": 401}


@pytest.mark.parametrize("persona", [*VENDOR_WRITERS, *VENDOR_DENIED])
def test_vendor_writes_persona_matrix(api, personas, persona):
    vendor = VendorFactory(name="Existing")
    sign_in(api, personas[persona])
    before = state()
    created = api.post(VENDORS, vendor_body(), format="json")
    changed = api.patch(f"{VENDORS}{vendor.pk}/", {"dpa_signed": True}, format="json")
    product = api.post(
        f"{VENDORS}{vendor.pk}/products/", {"name": "Chat", "kind": "saas_ai"}, format="json"
    )
    if persona in VENDOR_WRITERS:
        assert (created.status_code, changed.status_code, product.status_code) == (201, 200, 201)
        assert (created.json()["product_count"], created.json()["model_count"]) == (0, 0)
        vendor.refresh_from_db()
        assert vendor.dpa_signed
        assert {"vendor.created", "vendor.updated", "vendor_product.created"} <= set(
            AuditEvent.objects.values_list("action", flat=True)
        )
        return
    expected = VENDOR_DENIED[persona]
    assert (created.status_code, changed.status_code, product.status_code) == (expected,) * 3
    assert state() == before


def test_vendor_reads_filters_and_products(api, member_b):
    acme = VendorFactory(name="Acme AI", due_diligence_status="approved")
    VendorFactory(name="Globex", due_diligence_status="in_progress", description="acme reseller")
    VendorProduct.objects.create(vendor=acme, name="Acme Chat", kind="saas_ai")
    api.force_authenticate(member_b)
    names = [row["name"] for row in api.get(VENDORS).json()["results"]]
    assert names == ["Acme AI", "Globex"]
    approved = api.get(VENDORS, {"due_diligence_status": "approved"}).json()["results"]
    assert [row["name"] for row in approved] == ["Acme AI"]
    assert [row["products"][0]["name"] for row in approved] == ["Acme Chat"]
    assert {row["name"] for row in api.get(VENDORS, {"q": "acme"}).json()["results"]} == {
        "Acme AI",
        "Globex",
    }
    products = api.get(f"{VENDORS}{acme.pk}/products/").json()
    assert [(p["name"], p["kind"], p["vendor"]) for p in products] == [
        ("Acme Chat", "saas_ai", acme.pk)
    ]


def test_vendor_validation_errors_are_field_errors(api, coe_reviewer):
    acme = VendorFactory(name="Acme AI")
    VendorProduct.objects.create(vendor=acme, name="Acme Chat", kind="saas_ai")
    api.force_authenticate(coe_reviewer)
    before = state()
    response = api.post(VENDORS, vendor_body(name="Acme AI"), format="json")
    assert response.status_code == 400 and "name" in response.json()
    response = api.post(VENDORS, vendor_body(due_diligence_status="maybe"), format="json")
    assert response.status_code == 400 and "due_diligence_status" in response.json()
    response = api.post(
        f"{VENDORS}{acme.pk}/products/", {"name": "Acme Chat", "kind": "saas_ai"}, format="json"
    )
    assert response.status_code == 400
    assert state() == before


# --- Query counts and schema ---------------------------------------------------------------


def count_queries(api, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "make_rows"),
    [(VERSIONS, make_versions), (VENDORS, make_vendors)],
    ids=["versions", "vendors"],
)
def test_list_query_count_does_not_grow_with_rows(
    api, member_a, unit_a, django_assert_max_num_queries, url, make_rows
):
    api.force_authenticate(member_a)
    make_rows(3, business_unit=unit_a)
    api.get(url)  # warm per-process caches
    few = count_queries(api, url)
    make_rows(30, business_unit=unit_a, start=3)
    with django_assert_max_num_queries(few):
        response = api.get(url)
    assert response.json()["count"] == 33


def test_version_detail_query_count_does_not_grow_with_history(
    api, lifecycle, member_a, django_assert_max_num_queries
):
    version = lifecycle["production"]
    api.force_authenticate(member_a)
    api.post(detail(version.pk, "monitoring"), {"status": "healthy"}, format="json")
    few = count_queries(api, detail(version.pk))
    for _ in range(5):
        api.post(detail(version.pk, "monitoring"), {"status": "warning"}, format="json")
        api.post(detail(version.pk, "metrics"), {"name": "auc", "value": 0.9}, format="json")
    with django_assert_max_num_queries(few):
        response = api.get(detail(version.pk))
    assert len(response.json()["monitoring_reports"]) == 6


def test_openapi_schema_lists_the_lifecycle_endpoints(client, member_a):
    client.force_login(member_a)
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in (
        "/api/v1/model-versions/",
        "/api/v1/model-versions/{id}/",
        "/api/v1/model-versions/{id}/transition/",
        "/api/v1/model-versions/{id}/release/",
        "/api/v1/model-versions/{id}/validation/",
        "/api/v1/model-versions/{id}/metrics/",
        "/api/v1/model-versions/{id}/monitoring/",
        "/api/v1/vendors/",
        "/api/v1/vendors/{id}/",
        "/api/v1/vendors/{id}/products/",
    ):
        assert endpoint in paths, endpoint
    monitoring = paths["/api/v1/model-versions/{id}/monitoring/"]["post"]
    assert "Token" in monitoring["description"]
    assert {"201", "400", "401", "403", "404"} <= set(monitoring["responses"])
    assert "put" not in paths["/api/v1/model-versions/{id}/"]


# --- Admin -----------------------------------------------------------------------------------


@pytest.fixture
def superuser():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_admin_cannot_change_a_versions_status(client, lifecycle, superuser):
    version = lifecycle["approved"]
    client.force_login(superuser)
    url = reverse("admin:inventory_modelversion_change", args=[version.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "version": version.version,
            "status": "production",
            "monitoring_status": "drifting",
            "next_review_due": "2000-01-01",
            "last_metrics": '{"drift_score": 0.9}',
            "intended_use": "Hijacked through the admin.",
            "limitations": version.limitations,
            "human_oversight": version.human_oversight,
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == ModelStatus.APPROVED
    assert version.monitoring_status == MonitoringStatus.UNKNOWN
    assert version.last_metrics == {}
    assert str(version.next_review_due) != "2000-01-01"
    assert version.intended_use == "Hijacked through the admin."  # the card stays editable


def test_admin_shows_lifecycle_fields_read_only(lifecycle, superuser):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    version = lifecycle["production"]
    version_admin = admin.site._registry[ModelVersion]
    inline = next(
        inline
        for inline in admin.site._registry[type(version.model)].get_inline_instances(
            request, version.model
        )
        if inline.model is ModelVersion
    )
    lifecycle_fields = {"status", "monitoring_status", "next_review_due", "last_metrics"}
    assert lifecycle_fields <= set(version_admin.get_readonly_fields(request, version))
    assert lifecycle_fields <= set(inline.get_readonly_fields(request, version.model))
    assert not version_admin.has_add_permission(request)
    for model in (MonitoringReport, ReviewReminder):
        history_admin = admin.site._registry[model]
        assert not history_admin.has_add_permission(request)
        assert not history_admin.has_change_permission(request)
        assert not history_admin.has_delete_permission(request)
    metric_admin = admin.site._registry[EvaluationMetric]
    assert not metric_admin.has_add_permission(request)
    assert not metric_admin.has_change_permission(request)
    assert Vendor in admin.site._registry and VendorProduct in admin.site._registry


def test_admin_pages_render(client, lifecycle, superuser, platform_engineer):
    vendor = VendorFactory(name="Acme AI")
    VendorProduct.objects.create(vendor=vendor, name="Chat", kind="saas_ai")
    model_services.model_version_report_monitoring(
        actor=platform_engineer, version=lifecycle["production"], status="healthy"
    )
    client.force_login(superuser)
    for name in ("modelversion", "evaluationmetric", "monitoringreport", "reviewreminder"):
        assert client.get(reverse(f"admin:inventory_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:inventory_vendor_change", args=[vendor.pk])).status_code == 200
    model_url = reverse("admin:inventory_aimodel_change", args=[lifecycle["model"].pk])
    assert client.get(model_url).status_code == 200
