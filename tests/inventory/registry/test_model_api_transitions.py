"""The model lifecycle API, changing a version: edits that may not touch the status or the
model, transitions and their reasons, validations and the next review, the release flow through
the model release gate, and monitoring reports (token authentication, metric validation, and
drift failing MON-02 for every initiative the model serves). Reads, vendors, schema and admin
are in ``test_model_api.py``."""

import datetime
import json

import pytest
from rest_framework.authtoken.models import Token

from core.choices import Role
from core.models import AuditEvent
from governance.approvals import services as engine
from governance.approvals.models import ApprovalRequest
from governance.risk import services as risk
from governance.risk.models import ControlResult
from inventory.registry.choices import ModelStatus, MonitoringStatus
from inventory.registry.models import MonitoringReport
from tests.factories import member
from tests.governance.helpers import LOW_RISK, TIER_2, assessed
from tests.inventory.helpers import ModelVersionFactory, iso, today
from tests.inventory.registry.helpers import (
    VERSIONS,
    detail,
    new_version,
    released,
    serving_model,
    state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def risk_officer(unit_a):
    return member(Role.RISK_OFFICER, unit_a, username="rita")


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
