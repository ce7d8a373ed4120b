"""The model lifecycle API: versions (edit, transition, release, validation, metrics,
monitoring), vendors and their products, and the admin's read-only lifecycle fields."""

import datetime
import json

import pytest
from django.contrib import admin
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent
from governance import approval_services as engine
from governance import services as risk
from governance.models import ApprovalRequest, ControlResult
from inventory import model_services, services
from inventory.choices import ModelStatus, MonitoringStatus
from inventory.models import (
    EvaluationMetric,
    ModelVersion,
    MonitoringReport,
    ReviewReminder,
    Vendor,
    VendorProduct,
)
from tests.factories import UserFactory, VendorFactory, member
from tests.governance.helpers import LOW_RISK, TIER_2, assessed
from tests.inventory.helpers import (
    COMPLETE_CARD,
    ModelVersionFactory,
    iso,
    make_vendors,
    make_versions,
    today,
)

pytestmark = pytest.mark.django_db

VERSIONS = "/api/v1/model-versions/"
VENDORS = "/api/v1/vendors/"
MODELS = "/api/v1/models/"


def detail(pk, action=""):
    return f"{VERSIONS}{pk}/" + (f"{action}/" if action else "")


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


@pytest.fixture
def personas(member_a, member_b, platform_engineer, coe_reviewer):
    return {
        "bu_member": member_a,
        "other_bu_member": member_b,
        "platform_engineer": platform_engineer,
        "coe_reviewer": coe_reviewer,
        "anonymous": None,
    }


def serving_model(actor, unit, initiatives, name="fraud-scorer"):
    """A model of ``unit`` (owned by someone else) serving ``initiatives``, through the
    service so its effective tier is computed."""
    return services.model_create(
        actor=actor,
        data={
            "name": name,
            "model_type": "deep_learning",
            "business_unit": unit,
            "owner": UserFactory(),
            "initiatives": initiatives,
        },
    )


def new_version(actor, model, version, status=ModelStatus.DEVELOPMENT, **fields):
    return services.model_version_create(
        actor=actor,
        model=model,
        data={"version": version, "status": status, **COMPLETE_CARD, **fields},
    )


def released(version, submitter, *deciders):
    """Put ``version`` (approved) in production through the model release gate: submitted by
    ``submitter``, approved by each of ``deciders`` in turn unless it was fast-tracked."""
    request = engine.model_release_submit(actor=submitter, version=version)
    for decider in deciders:
        request.refresh_from_db()
        if request.status != "pending":
            break
        engine.request_decide(actor=decider, request=request, outcome="approve")
    version.refresh_from_db()
    assert version.status == ModelStatus.PRODUCTION
    return version


@pytest.fixture
def lifecycle(unit_a, member_a, platform_engineer, coe_reviewer):
    """A model of unit A serving a Tier 1 initiative of unit A, with a version in
    development, one approved and one in production."""
    initiative = assessed(unit_a, member_a, LOW_RISK)
    model = serving_model(platform_engineer, unit_a, [initiative])
    approved = new_version(platform_engineer, model, "2.0", ModelStatus.APPROVED)
    production = released(
        new_version(platform_engineer, model, "1.0", ModelStatus.APPROVED),
        platform_engineer,
        coe_reviewer,
    )
    return {
        "initiative": initiative,
        "model": model,
        "development": new_version(platform_engineer, model, "3.0-dev"),
        "approved": approved,
        "production": production,
    }


def state() -> dict:
    """Everything a denied call must leave as it was."""
    return {
        "versions": list(ModelVersion.objects.order_by("pk").values()),
        "audit": AuditEvent.objects.count(),
        "metrics": EvaluationMetric.objects.count(),
        "reports": MonitoringReport.objects.count(),
        "requests": ApprovalRequest.objects.count(),
        "vendors": list(Vendor.objects.order_by("pk").values()),
        "products": VendorProduct.objects.count(),
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


# --- Edits and transitions -------------------------------------------------------------------


def test_an_edit_refuses_a_status(api, lifecycle, member_a):
    version = lifecycle["development"]
    api.force_authenticate(member_a)
    before = state()
    for status in ("validation", "development", "production"):
        response = api.patch(
            detail(version.pk), {"status": status, "limitations": "x"}, format="json"
        )
        assert response.status_code == 400
        assert "status" in response.json()
    assert api.put(detail(version.pk), {"version": "3.0"}, format="json").status_code == 405
    assert state() == before


def test_an_edit_cannot_move_a_version_to_another_model(api, lifecycle, member_a, unit_a):
    elsewhere = ModelVersionFactory(model__business_unit=unit_a).model
    api.force_authenticate(member_a)
    before = state()
    response = api.patch(
        detail(lifecycle["development"].pk), {"model": elsewhere.pk}, format="json"
    )
    assert response.status_code == 400 and "model" in response.json()
    assert state() == before


def test_creating_a_version_in_production_is_refused(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    before = state()
    response = api.post(
        VERSIONS,
        {"model": lifecycle["model"].pk, "version": "9.0", "status": "production"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["status"] == [
        "A version reaches production only through an approved model release."
    ]
    assert state() == before


def test_transition_to_production_is_refused(api, lifecycle, member_a, platform_engineer):
    version = lifecycle["approved"]
    for user in (member_a, platform_engineer):
        api.force_authenticate(user)
        before = state()
        response = api.post(
            detail(version.pk, "transition"), {"status": "production"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["status"] == [
            "A version reaches production only through an approved model release."
        ]
        assert state() == before


def test_a_transition_outside_the_table_is_a_conflict(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    before = state()
    response = api.post(
        detail(lifecycle["development"].pk, "transition"), {"status": "approved"}, format="json"
    )
    assert response.status_code == 409
    assert "cannot become approved" in response.json()["detail"]
    assert state() == before


def test_transition_records_the_reason(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    response = api.post(
        detail(lifecycle["production"].pk, "transition"),
        {"status": "deprecated", "reason": "Superseded by 2.0."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "deprecated"
    event = AuditEvent.objects.filter(action="model_version.status_changed").latest("sequence")
    assert event.reason == "Superseded by 2.0."


def test_a_validation_in_the_future_is_refused(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    before = state()
    tomorrow = today() + datetime.timedelta(days=1)
    response = api.post(
        detail(lifecycle["production"].pk, "validation"),
        {"validated_on": iso(tomorrow)},
        format="json",
    )
    assert response.status_code == 400 and "validated_on" in response.json()
    assert state() == before


def test_validation_moves_the_next_review(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    response = api.post(
        detail(lifecycle["production"].pk, "validation"),
        {"validated_on": iso(today())},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["last_validated_on"] == iso(today())
    assert body["next_review_due"] == iso(today().replace(year=today().year + 2))  # Tier 1


# --- The release flow ------------------------------------------------------------------------


def test_release_through_the_api_and_the_gate(
    api, unit_a, member_a, platform_engineer, coe_reviewer, risk_officer
):
    initiative = assessed(unit_a, member_a, TIER_2)
    model = serving_model(platform_engineer, unit_a, [initiative])
    version = new_version(platform_engineer, model, "1.0")
    api.force_authenticate(member_a)
    for status in ("validation", "approved"):
        response = api.post(detail(version.pk, "transition"), {"status": status}, format="json")
        assert response.status_code == 200

    response = api.post(detail(version.pk, "release"), {"comment": "Go."}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["gate"], body["tier"]) == ("pending", "model_release", 2)
    assert body["initiative"] == initiative.pk
    version.refresh_from_db()
    assert version.status == ModelStatus.APPROVED  # not before the gate is approved

    request = ApprovalRequest.objects.get(pk=body["id"])
    engine.request_decide(actor=coe_reviewer, request=request, outcome="approve")
    request.refresh_from_db()
    if request.status == "pending":  # Tier 2: a risk review follows the CoE review
        engine.request_decide(actor=risk_officer, request=request, outcome="approve")
    version.refresh_from_db()
    assert version.status == ModelStatus.PRODUCTION
    assert version.released_on == today()
    assert api.get(detail(version.pk)).json()["status"] == "production"
    change = AuditEvent.objects.filter(action="model_version.status_changed").latest("sequence")
    after = json.loads(change.payload)["after"]
    assert after["status"] == "production" and after["gate"] == request.pk


def test_releasing_a_version_that_is_not_approved_is_refused(api, lifecycle, member_a):
    api.force_authenticate(member_a)
    before = state()
    response = api.post(detail(lifecycle["development"].pk, "release"), {}, format="json")
    assert response.status_code == 400
    assert response.json()["gate"] == [
        "Only an approved (validated) version can be released to production."
    ]
    assert state() == before


def test_releasing_a_model_that_serves_no_initiative_is_refused(
    api, unit_a, member_a, platform_engineer
):
    model = serving_model(platform_engineer, unit_a, [])
    version = new_version(platform_engineer, model, "1.0", ModelStatus.APPROVED)
    api.force_authenticate(member_a)
    before = state()
    response = api.post(detail(version.pk, "release"), {}, format="json")
    assert response.status_code == 400 and "gate" in response.json()
    assert state() == before


# --- Monitoring ------------------------------------------------------------------------------


def test_a_monitoring_job_reports_with_a_token(api, lifecycle, platform_engineer):
    version = lifecycle["production"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=platform_engineer)}")
    response = api.post(
        detail(version.pk, "monitoring"),
        {"status": "healthy", "metrics": {"drift_score": 0.04, "auc": 0.93}, "note": "nightly"},
        format="json",
    )
    assert response.status_code == 201
    report = MonitoringReport.objects.get(pk=response.json()["id"])
    assert (report.source, report.status, report.reported_by) == (
        "api",
        "healthy",
        platform_engineer,
    )
    assert report.metrics == {"drift_score": 0.04, "auc": 0.93}
    version.refresh_from_db()
    assert version.monitoring_status == MonitoringStatus.HEALTHY
    assert version.last_metrics == {"drift_score": 0.04, "auc": 0.93}


def test_monitoring_without_credentials_is_challenged(api, lifecycle):
    before = state()
    response = api.post(
        detail(lifecycle["production"].pk, "monitoring"), {"status": "drifting"}, format="json"
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.post(
        detail(lifecycle["production"].pk, "monitoring"), {"status": "drifting"}, format="json"
    )
    assert response.status_code == 401
    assert state() == before


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"drift_score": 1.5}, "drift_score must be between 0 and 1, not 1.5."),
        ({"drift_score": -0.1}, "drift_score must be between 0 and 1"),
        ({"positive_share": 2}, "positive_share must be between 0 and 1"),
        ({"auc": "0.9"}, "auc: send a number."),
        ({"auc": True}, "auc: send a number."),
        ({"auc": None}, "auc: send a number."),
        ({"auc": [0.9]}, "auc: send a number."),
        ({"latency_ms": 1e12}, "latency_ms: 1000000000000.0 is out of range."),
        ({"": 0.3}, "Metric names are 1 to 100 characters."),
        ({f"m{n}": 0.1 for n in range(51)}, "At most 50 metrics a report."),
        ("drift_score=0.2", "Send an object of metric names and numbers."),
        ([0.2], "Send an object of metric names and numbers."),
    ],
)
def test_out_of_range_monitoring_values_are_refused_and_nothing_is_written(
    api, lifecycle, platform_engineer, metrics, message
):
    version = lifecycle["production"]
    api.force_authenticate(platform_engineer)
    before = state()
    response = api.post(
        detail(version.pk, "monitoring"),
        {"status": "drifting", "metrics": metrics},
        format="json",
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()["metrics"])
    assert state() == before
    version.refresh_from_db()
    assert version.monitoring_status == MonitoringStatus.UNKNOWN


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(api, lifecycle, platform_engineer, constant):
    api.force_authenticate(platform_engineer)
    before = state()
    response = api.post(
        detail(lifecycle["production"].pk, "monitoring"),
        f'{{"status": "drifting", "metrics": {{"drift_score": {constant}}}}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert state() == before


def test_monitoring_refuses_an_unknown_status_and_versions_not_in_production(
    api, lifecycle, platform_engineer
):
    api.force_authenticate(platform_engineer)
    before = state()
    response = api.post(
        detail(lifecycle["production"].pk, "monitoring"), {"status": "on_fire"}, format="json"
    )
    assert response.status_code == 400 and "status" in response.json()
    response = api.post(
        detail(lifecycle["approved"].pk, "monitoring"), {"status": "healthy"}, format="json"
    )
    assert response.status_code == 400
    assert "Only versions in production are monitored" in response.json()["status"][0]
    assert state() == before


def test_drift_reported_through_the_api_fails_mon_02_for_every_initiative_using_the_model(
    api,
    unit_a,
    unit_b,
    member_a,
    member_b,
    platform_engineer,
    coe_reviewer,
    django_capture_on_commit_callbacks,
):
    ours = assessed(unit_a, member_a, LOW_RISK)
    theirs = assessed(unit_b, member_b, LOW_RISK)
    unrelated = assessed(unit_b, member_b, LOW_RISK)
    model = serving_model(platform_engineer, unit_a, [ours, theirs])
    version = released(
        new_version(platform_engineer, model, "1.0", ModelStatus.APPROVED),
        platform_engineer,
        coe_reviewer,
    )
    for initiative in (ours, theirs, unrelated):
        risk.controls_evaluate(initiative=initiative)

    def mon_02(initiative):
        return ControlResult.objects.get(initiative=initiative, control__code="MON-02")

    assert {mon_02(initiative).status for initiative in (ours, theirs)} == {"passing"}

    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=platform_engineer)}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            detail(version.pk, "monitoring"),
            {"status": "drifting", "metrics": {"drift_score": 0.41}},
            format="json",
        )
    assert response.status_code == 201
    for initiative in (ours, theirs):
        result = mon_02(initiative)
        assert result.status == "failing"
        assert str(version) in result.detail
    assert mon_02(unrelated).status != "failing"


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
