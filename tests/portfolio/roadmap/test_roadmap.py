"""The roadmap: default phases, computed indicators (registry, idempotent daily values, the
nightly task), CoE-admin writes with their audit, the page (overdue, progress, sparklines,
constant queries) and the API."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from core.choices import Role
from core.models import AuditEvent
from governance.risk.models import Questionnaire, RiskAssessment
from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment
from portfolio.roadmap import services as roadmap
from portfolio.roadmap.choices import ActivityStatus, PhaseStatus
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.tasks import indicators_recompute_task
from portfolio.scaling import metrics
from tests.factories import BusinessUnitFactory, InitiativeFactory, member

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)


@pytest.fixture
def installed(db):
    roadmap.roadmap_install_defaults()
    return {phase.number: phase for phase in RoadmapPhase.objects.all()}


def indicator(key) -> SuccessIndicator:
    return SuccessIndicator.objects.get(key=key)


# --- defaults ---------------------------------------------------------------------------------


def test_defaults_install_the_four_phases_once(db):
    created = roadmap.roadmap_install_defaults()

    names = list(RoadmapPhase.objects.values_list("number", "name", "indicative_duration"))
    assert names == [
        (1, "Assessment & Strategy", "≈ 2–3 months"),
        (2, "Foundation Building", "≈ 3–6 months"),
        (3, "Initial Scale", "≈ 6–12 months"),
        (4, "Enterprise Transformation", "≈ 12–24 months"),
    ]
    assert created == {
        "phases": 4,
        "activities": RoadmapActivity.objects.count(),
        "indicators": SuccessIndicator.objects.count(),
    }
    assert RoadmapActivity.objects.filter(phase__number=3, title__startswith="Scale 2–3").exists()
    computed = set(SuccessIndicator.objects.exclude(computed_by="").values_list("key", flat=True))
    assert {
        metrics.PRODUCTION_TWO_UNITS,
        metrics.SCALING_GAP,
        metrics.CONVERSION,
        metrics.MEDIAN_DAYS,
        roadmap.OWNER_CURRENT_TIER,
        roadmap.GPU_UTILISATION,
    } <= computed
    assert SuccessIndicator.objects.filter(computed_by="").exists()  # manual ones too

    again = roadmap.roadmap_install_defaults()

    assert again == {"phases": 0, "activities": 0, "indicators": 0}
    assert RoadmapPhase.objects.count() == 4
    assert AuditEvent.objects.filter(action="roadmap.installed").count() == 1


def test_reinstalling_does_not_bring_back_removed_activities(installed):
    RoadmapActivity.objects.filter(phase=installed[2]).delete()
    installed[4].delete()

    roadmap.roadmap_install_defaults()

    assert not RoadmapActivity.objects.filter(phase__number=2).exists()
    assert RoadmapPhase.objects.filter(number=4).exists()


# --- computed indicators ------------------------------------------------------------------------


@pytest.fixture
def two_unit_portfolio(unit_a, unit_b, member_a):
    scaled = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage=Stage.SCALED)
    Deployment.objects.create(
        initiative=scaled, business_unit=unit_b, status=DeploymentStatus.PRODUCTION
    )
    InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage=Stage.PILOT)
    return scaled


def test_recomputing_twice_the_same_day_stores_one_value(installed, two_unit_portfolio, unit_b):
    first = roadmap.indicators_recompute(today=TODAY)

    assert first[metrics.PRODUCTION_TWO_UNITS] == Decimal("1.00")
    assert first[metrics.SCALING_GAP] == Decimal("50.00")
    # A second scaled initiative the same day: the day's value is replaced, not added.
    another = InitiativeFactory(business_unit=unit_b, stage=Stage.SCALED)
    Deployment.objects.create(
        initiative=another, business_unit=two_unit_portfolio.business_unit,
        status=DeploymentStatus.PRODUCTION,
    )  # fmt: skip

    second = roadmap.indicators_recompute(today=TODAY)

    scaled = indicator(metrics.PRODUCTION_TWO_UNITS)
    assert list(scaled.values.values_list("on_date", "value")) == [(TODAY, Decimal("2.00"))]
    assert scaled.current_value == Decimal("2.00") == second[metrics.PRODUCTION_TWO_UNITS]
    computed = SuccessIndicator.objects.filter(computed_by__in=list(roadmap.INDICATOR_FUNCTIONS))
    assert IndicatorValue.objects.count() == computed.count()

    roadmap.indicators_recompute(today=TODAY + datetime.timedelta(days=1))

    assert scaled.values.count() == 2


def test_an_indicator_without_a_registered_function_has_no_data(installed, two_unit_portfolio):
    roadmap.indicators_recompute(today=TODAY)

    gpu = indicator(roadmap.GPU_UTILISATION)
    assert not roadmap.is_registered(roadmap.GPU_UTILISATION)
    assert gpu.current_value is None
    assert not gpu.values.exists()


def test_empty_portfolio_stores_no_data_values(installed):
    values = roadmap.indicators_recompute(today=TODAY)

    assert values[metrics.SCALING_GAP] is None
    assert values[metrics.MEDIAN_DAYS] is None
    assert IndicatorValue.objects.get(indicator__key=metrics.SCALING_GAP).value is None


def test_governance_registers_owner_and_current_tier(installed, unit_a, member_a):
    assert roadmap.is_registered(roadmap.OWNER_CURRENT_TIER)
    questionnaire = Questionnaire.objects.first()
    tiered = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="pilot")
    RiskAssessment.objects.create(
        initiative=tiered, questionnaire=questionnaire, status="completed", is_current=True,
        computed_tier=2,
    )  # fmt: skip
    stale = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="proposed")
    RiskAssessment.objects.create(
        initiative=stale, questionnaire=questionnaire, status="completed", is_current=False,
        computed_tier=3,
    )  # fmt: skip
    InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="draft")
    InitiativeFactory(business_unit=unit_a, accountable_owner=member_a, stage="retired")

    values = roadmap.indicators_recompute(today=TODAY)

    assert values[roadmap.OWNER_CURRENT_TIER] == Decimal("50.00")


def test_recompute_on_demand_is_for_coe_admins(installed, member_a, coe_admin):
    with pytest.raises(PermissionDenied):
        roadmap.indicators_recompute(actor=member_a)
    assert not IndicatorValue.objects.exists()

    roadmap.indicators_recompute(actor=coe_admin)

    event = AuditEvent.objects.get(action="roadmap.indicators_recomputed")
    assert event.actor_id == coe_admin.pk


def test_recompute_button(client, installed, member_a, coe_admin):
    address = reverse("roadmap:indicators_recompute")
    client.force_login(member_a)
    assert client.post(address).status_code == 403
    assert not IndicatorValue.objects.exists()

    client.force_login(coe_admin)
    response = client.post(address)

    assert response.status_code == 302
    assert IndicatorValue.objects.filter(on_date=timezone.localdate()).exists()


def test_nightly_task_is_scheduled_and_idempotent(installed, two_unit_portfolio):
    entry = next(
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == indicators_recompute_task.name
    )
    assert entry["task"] in celery_app.tasks

    indicators_recompute_task.delay()
    result = indicators_recompute_task.delay().get()

    assert result[metrics.PRODUCTION_TWO_UNITS] == "1.00"
    assert indicator(metrics.PRODUCTION_TWO_UNITS).values.count() == 1


# --- CoE-admin writes ---------------------------------------------------------------------------


def test_coe_admin_creates_updates_and_deletes_activities_with_audit(
    installed, coe_admin, member_a, unit_a
):
    linked = InitiativeFactory(business_unit=unit_a)
    activity = roadmap.roadmap_activity_create(
        actor=coe_admin,
        phase=installed[3],
        data={"title": "Scale fraud model", "owner": member_a, "due_on": TODAY,
              "initiatives": [linked]},
    )  # fmt: skip

    assert list(activity.initiatives.all()) == [linked]
    roadmap.roadmap_activity_update(
        actor=coe_admin, activity=activity, data={"status": ActivityStatus.DONE, "initiatives": []}
    )
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.DONE and not activity.initiatives.exists()
    roadmap.roadmap_activity_delete(actor=coe_admin, activity=activity)

    assert not RoadmapActivity.objects.filter(pk=activity.pk).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="roadmap.activity").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "roadmap.activity_created",
        "roadmap.activity_updated",
        "roadmap.activity_deleted",
    ]


@pytest.mark.parametrize("role", [Role.BU_MEMBER, Role.BU_LEAD, Role.COE_REVIEWER, Role.EXECUTIVE])
def test_others_cannot_change_the_roadmap(installed, unit_a, role):
    actor = member(role, unit_a, username=f"user-{role}")
    activity = RoadmapActivity.objects.filter(phase=installed[1]).first()
    before = AuditEvent.objects.count()

    with pytest.raises(PermissionDenied):
        roadmap.roadmap_activity_create(actor=actor, phase=installed[1], data={"title": "x"})
    with pytest.raises(PermissionDenied):
        roadmap.roadmap_activity_update(actor=actor, activity=activity, data={"title": "y"})
    with pytest.raises(PermissionDenied):
        roadmap.roadmap_activity_delete(actor=actor, activity=activity)
    with pytest.raises(PermissionDenied):
        roadmap.roadmap_phase_update(
            actor=actor, phase=installed[1], data={"status": PhaseStatus.COMPLETED}
        )
    with pytest.raises(PermissionDenied):
        roadmap.indicator_update(
            actor=actor, indicator=indicator("people-trained"), data={"current_value": 1}
        )

    assert RoadmapActivity.objects.filter(pk=activity.pk, title=activity.title).exists()
    assert RoadmapPhase.objects.get(number=1).status == PhaseStatus.NOT_STARTED
    assert AuditEvent.objects.count() == before


def test_phase_dates_are_validated(installed, coe_admin):
    with pytest.raises(ValidationError):
        roadmap.roadmap_phase_update(
            actor=coe_admin,
            phase=installed[2],
            data={"planned_start": TODAY, "planned_end": TODAY - datetime.timedelta(days=1)},
        )
    roadmap.roadmap_phase_update(
        actor=coe_admin, phase=installed[2], data={"status": PhaseStatus.IN_PROGRESS}
    )
    assert AuditEvent.objects.filter(action="roadmap.phase_updated").count() == 1


def test_manual_indicator_value_goes_into_the_history(installed, coe_admin):
    trained = indicator("people-trained")

    roadmap.indicator_update(
        actor=coe_admin, indicator=trained, data={"current_value": Decimal("120")}
    )
    roadmap.indicator_update(
        actor=coe_admin, indicator=trained, data={"current_value": Decimal("150")}
    )

    assert list(trained.values.values_list("on_date", "value")) == [
        (timezone.localdate(), Decimal("150.00"))
    ]
    assert AuditEvent.objects.filter(action="roadmap.indicator_updated").count() == 2


def test_a_computed_indicators_value_cannot_be_typed_in(installed, coe_admin):
    gap = indicator(metrics.SCALING_GAP)

    with pytest.raises(ValidationError):
        roadmap.indicator_update(actor=coe_admin, indicator=gap, data={"current_value": 1})
    roadmap.indicator_update(actor=coe_admin, indicator=gap, data={"target": Decimal("40")})

    gap.refresh_from_db()
    assert (gap.target, gap.current_value) == (Decimal("40.00"), None)


def test_activity_form_pages(client, installed, coe_admin, member_a):
    client.force_login(member_a)
    create = reverse("roadmap:activity_create", args=[installed[2].pk])
    assert client.get(create).status_code == 403

    client.force_login(coe_admin)
    assert client.get(create).status_code == 200
    response = client.post(
        create, {"title": "Publish the model card template", "status": "planned", "due_on": ""}
    )
    assert response.status_code == 302
    activity = RoadmapActivity.objects.get(title="Publish the model card template")
    edit = reverse("roadmap:activity_update", args=[activity.pk])
    assert client.get(edit).status_code == 200
    client.post(edit, {"title": activity.title, "status": "done"})
    activity.refresh_from_db()
    assert activity.status == "done"
    client.post(reverse("roadmap:activity_delete", args=[activity.pk]))
    assert not RoadmapActivity.objects.filter(pk=activity.pk).exists()


def test_indicator_and_phase_form_pages(client, installed, coe_admin):
    client.force_login(coe_admin)
    trained = indicator("people-trained")

    response = client.post(
        reverse("roadmap:indicator_update", args=[trained.pk]),
        {"name": trained.name, "unit": "people", "target": "400", "direction": "higher",
         "current_value": "75", "description": ""},
    )  # fmt: skip
    assert response.status_code == 302
    trained.refresh_from_db()
    assert (trained.target, trained.current_value) == (Decimal("400.00"), Decimal("75.00"))

    computed = reverse("roadmap:indicator_update", args=[indicator(metrics.SCALING_GAP).pk])
    assert "current_value" not in client.get(computed).context["form"].fields

    phase = reverse("roadmap:phase_update", args=[installed[1].pk])
    response = client.post(phase, {"status": "completed", "description": "Done."})
    assert response.status_code == 302
    assert RoadmapPhase.objects.get(number=1).status == "completed"


# --- the page -----------------------------------------------------------------------------------


def test_page_installs_defaults_and_shows_phases_progress_and_no_data(client, member_a):
    client.force_login(member_a)

    response = client.get(reverse("roadmap:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert RoadmapPhase.objects.count() == 4
    for name in ("Assessment &amp; Strategy", "Foundation Building", "Initial Scale"):
        assert name in html
    assert "0 of 5 (0 %)" in html  # phase 1's progress bar
    assert "No data: its source data is not recorded in Keel yet." in html  # GPU utilisation
    assert "Recompute indicators now" not in html
    assert "style=" not in html


def test_page_marks_overdue_activities_in_words(client, installed, member_a, unit_a):
    RoadmapActivity.objects.filter(phase=installed[2]).update(
        due_on=timezone.localdate() - datetime.timedelta(days=3), status=ActivityStatus.PLANNED
    )
    RoadmapActivity.objects.filter(phase=installed[1]).update(
        due_on=timezone.localdate() - datetime.timedelta(days=3), status=ActivityStatus.DONE
    )
    client.force_login(member_a)

    response = client.get(reverse("roadmap:index"))

    html = response.content.decode()
    overdue = installed[2].activities.count()
    assert len(response.context["overdue"]) == overdue
    assert f"Overdue activities ({overdue})" in html
    assert html.count('<tr class="overdue">') == overdue
    assert html.count(">Overdue</span>") == 2 * overdue  # in the summary and in each row
    assert "5 of 5 (100 %)" in html


def test_page_shows_indicator_history_as_a_sparkline(client, installed, coe_admin):
    gap = indicator(metrics.SCALING_GAP)
    today = timezone.localdate()
    IndicatorValue.objects.bulk_create(
        IndicatorValue(indicator=gap, on_date=today - datetime.timedelta(days=d), value=v)
        for d, v in ((14, Decimal("80")), (7, Decimal("70")), (0, Decimal("65")))
    )
    SuccessIndicator.objects.filter(pk=gap.pk).update(current_value=Decimal("65"))
    client.force_login(coe_admin)

    html = client.get(reverse("roadmap:index")).content.decode()

    assert "Scaling gap, last 180 days: 3 values, from 80 % to 65 %; target 60 %" in html
    assert "Recompute indicators now" in html
    assert "off target" in html


def test_linked_initiatives_are_limited_to_the_readers_scope(
    client, installed, unit_a, unit_b, member_b
):
    mine = InitiativeFactory(business_unit=unit_b, reference="AI-7001")
    theirs = InitiativeFactory(business_unit=unit_a, reference="AI-7002")
    RoadmapActivity.objects.filter(phase=installed[3]).first().initiatives.set([mine, theirs])
    client.force_login(member_b)

    html = client.get(reverse("roadmap:index")).content.decode()

    assert "AI-7001" in html and "AI-7002" not in html


def grow_roadmap(phases, count: int, *, unit, owner, start: int) -> None:
    today = timezone.localdate()
    for number in range(start, start + count):
        phase = phases[1 + number % 4]
        initiative = InitiativeFactory(business_unit=unit)
        activity = RoadmapActivity.objects.create(
            phase=phase,
            title=f"Activity {number}",
            owner=owner,
            due_on=today - datetime.timedelta(days=number % 3),
            status=ActivityStatus.DONE if number % 2 else ActivityStatus.PLANNED,
        )
        activity.initiatives.set([initiative])
        manual = SuccessIndicator.objects.create(
            phase=phase, key=f"manual-{number}", name=f"Manual {number}", target=10
        )
        IndicatorValue.objects.bulk_create(
            IndicatorValue(
                indicator=manual, on_date=today - datetime.timedelta(days=day), value=day
            )
            for day in range(5)
        )


@pytest.mark.parametrize("persona", ["bu_member", "coe_admin"])
def test_page_query_count_does_not_grow(
    client, installed, unit_a, persona, django_assert_max_num_queries, django_assert_num_queries
):
    from django.contrib.auth import get_user_model

    role = Role.BU_MEMBER if persona == "bu_member" else Role.COE_ADMIN
    reader = member(role, unit_a, username="reader")
    owner = member(Role.BU_MEMBER, BusinessUnitFactory(), username="owner")
    address = reverse("roadmap:index")
    grow_roadmap(installed, 2, unit=unit_a, owner=owner, start=0)
    client.force_login(reader)
    client.get(address)  # warm per-process caches so both measurements start equal

    # Session, user, memberships, notification badge, "any phase?", phases with progress,
    # activities (with owners), their visible initiatives, indicators, their history.
    with django_assert_max_num_queries(10) as few:
        response = client.get(address)
    assert response.status_code == 200

    grow_roadmap(installed, 30, unit=unit_a, owner=owner, start=2)
    client.force_login(get_user_model().objects.get(pk=reader.pk))

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(address)
    assert sum(len(section["activities"]) for section in response.context["sections"]) == (
        RoadmapActivity.objects.count()
    )


# --- the API ------------------------------------------------------------------------------------


def test_api_reads_phases_activities_and_indicators(client, member_a):
    client.force_login(member_a)

    phases = client.get("/api/v1/roadmap/phases/").json()
    activities = client.get("/api/v1/roadmap/activities/").json()
    indicators = client.get("/api/v1/roadmap/indicators/").json()

    assert [phase["number"] for phase in phases] == [1, 2, 3, 4]
    assert phases[0]["activity_total"] == 5 and phases[0]["activity_done"] == 0
    assert activities["count"] == RoadmapActivity.objects.count()
    assert {"is_overdue", "initiatives", "owner"} <= set(activities["results"][0])
    assert indicators["count"] == SuccessIndicator.objects.count()
    assert "history" in indicators["results"][0]


def test_api_writes_are_for_coe_admins(client, installed, member_a, coe_admin, unit_a):
    payload = {"phase": 2, "title": "API standard v2", "status": "planned"}
    client.force_login(member_a)
    assert (
        client.post(
            "/api/v1/roadmap/activities/", payload, content_type="application/json"
        ).status_code
        == 403
    )
    assert client.post("/api/v1/roadmap/indicators/recompute/").status_code == 403

    client.force_login(coe_admin)
    linked = InitiativeFactory(business_unit=unit_a)
    created = client.post(
        "/api/v1/roadmap/activities/",
        {**payload, "initiatives": [linked.pk]},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["initiatives"] == [linked.pk]
    assert created.json()["phase"] == 2
    activity = created.json()["id"]
    patched = client.patch(
        f"/api/v1/roadmap/activities/{activity}/",
        {"status": "done"},
        content_type="application/json",
    )
    assert patched.json()["status"] == "done"
    phase = client.patch(
        f"/api/v1/roadmap/phases/{installed[2].pk}/", {"status": "in_progress"},
        content_type="application/json",
    )  # fmt: skip
    assert phase.json()["status"] == "in_progress"
    recomputed = client.post("/api/v1/roadmap/indicators/recompute/")
    assert recomputed.status_code == 200
    assert metrics.SCALING_GAP in recomputed.json()["values"]
    computed = indicator(metrics.SCALING_GAP)
    refused = client.patch(
        f"/api/v1/roadmap/indicators/{computed.pk}/", {"current_value": "1"},
        content_type="application/json",
    )  # fmt: skip
    assert refused.status_code == 400
    assert client.delete(f"/api/v1/roadmap/activities/{activity}/").status_code == 204


def test_openapi_lists_the_new_endpoints(client, member_a):
    client.force_login(member_a)

    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    for endpoint in (
        "/api/v1/roadmap/phases/",
        "/api/v1/roadmap/activities/",
        "/api/v1/roadmap/indicators/",
        "/api/v1/roadmap/indicators/recompute/",
        "/api/v1/barrier-assessments/",
        "/api/v1/metrics/scaling/",
    ):
        assert endpoint in paths


@pytest.mark.parametrize("address", ["/api/v1/roadmap/activities/", "/api/v1/roadmap/indicators/"])
def test_api_list_query_count_does_not_grow(
    client, installed, unit_a, address, django_assert_max_num_queries, django_assert_num_queries
):
    reader = member(Role.BU_MEMBER, unit_a, username="reader")
    owner = member(Role.BU_MEMBER, BusinessUnitFactory(), username="owner")
    grow_roadmap(installed, 2, unit=unit_a, owner=owner, start=0)
    client.force_login(reader)
    client.get(address)

    # Session, user, memberships, count, rows, then the initiatives (activities) or the
    # history (indicators) in one query each.
    with django_assert_max_num_queries(6) as few:
        assert client.get(address).status_code == 200

    grow_roadmap(installed, 15, unit=unit_a, owner=owner, start=2)

    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get(address).status_code == 200
