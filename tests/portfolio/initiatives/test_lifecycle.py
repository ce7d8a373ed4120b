"""The stage lifecycle: a stage changes only through its gate service; retiring notifies the
platform team about orphaned GPUs once; other units adopt an initiative through the scale
gate, which puts their deployment in production."""

import datetime

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Role
from core.models import AuditEvent, Notification
from governance.approvals import services as engine
from governance.approvals.choices import RequestStatus
from governance.approvals.models import ApprovalRequest
from inventory.hooks import notify_orphaned_allocations
from portfolio.initiatives import selectors, services
from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative
from portfolio.scaling import selectors as scaling_selectors
from portfolio.scaling.views import adopt_initiative
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    InitiativeFactory,
    MembershipFactory,
    UserFactory,
    member,
)
from tests.governance.helpers import LOW_RISK, TIER_2, assessed, waive_controls
from tests.portfolio.helpers import approved_scale_request

pytestmark = pytest.mark.django_db

# Manual controls the scale gate needs at Tier 1 and Tier 2 for these answers.
SCALE_CONTROLS = {1: ["MON-01"], 2: ["HUM-01", "MON-01", "OPS-01", "DATA-01"]}


@pytest.fixture
def people(unit_a):
    return {
        "reviewer": member(Role.COE_REVIEWER, unit_a, username="rev1"),
        "risk": member(Role.RISK_OFFICER, unit_a, username="riskoff"),
    }


def in_production(unit, owner, people, answers=TIER_2, tier=2):
    """An initiative in production whose scale-gate controls are waived (evidence offline)."""
    initiative = assessed(unit, owner, answers, stage="production")
    waive_controls(initiative, people["risk"], SCALE_CONTROLS[tier])
    return initiative


# --- A stage changes only through its gate service -----------------------------------------


def test_model_save_refuses_stage_changes(member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    loaded = Initiative.objects.get(pk=initiative.pk)
    loaded.stage = Stage.PRODUCTION
    with pytest.raises(ValidationError, match="initiative_change_stage"):
        loaded.save()
    with pytest.raises(ValidationError, match="initiative_change_stage"):
        loaded.save(update_fields=["stage"])
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.DRAFT


def test_saving_a_stale_copy_does_not_put_the_old_stage_back(member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    stale = Initiative.objects.get(pk=initiative.pk)
    services.initiative_change_stage(actor=member_a, initiative=initiative, to_stage="proposed")
    stale.title = "Edited in another tab"
    stale.save()
    assert Initiative.objects.get(pk=initiative.pk).stage == Stage.PROPOSED


def test_edit_form_ignores_a_posted_stage(client, member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    client.force_login(member_a)
    response = client.post(
        reverse("portfolio:initiative_update", args=[initiative.pk]),
        {
            "title": "Renamed",
            "business_unit": unit_a.pk,
            "accountable_owner": member_a.pk,
            "category": "other",
            "data_sensitivity": "internal",
            "sourcing": "in_house",
            "ai_type": "classical_ml",
            "autonomy_level": "advisory",
            "currency": "USD",
            "stage": "production",
        },
    )
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.title, initiative.stage) == ("Renamed", Stage.DRAFT)


def test_api_cannot_set_the_stage_or_skip_its_gate(member_a, unit_a):
    initiative = InitiativeFactory(
        business_unit=unit_a, accountable_owner=member_a, stage="proposed"
    )
    api = APIClient()
    api.force_authenticate(member_a)
    url = f"/api/v1/initiatives/{initiative.pk}/"
    assert api.patch(url, {"stage": "production"}, format="json").status_code == 200
    refused = api.post(f"{url}stage/", {"to_stage": "pilot"}, format="json")
    assert refused.status_code == 400 and "gate" in refused.json()["stage"][0]
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PROPOSED
    assert not AuditEvent.objects.filter(action="initiative.stage_changed").exists()


def test_admin_shows_the_stage_read_only_and_has_no_stage_actions(client, member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    url = reverse("admin:portfolio_initiative_change", args=[initiative.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"stage": "production", "title": "Hijack", "_save": "Save"})
    assert response.status_code == 302
    initiative.refresh_from_db()
    assert (initiative.stage, initiative.title) != ("production", "Hijack")
    assert initiative.stage == Stage.DRAFT

    model_admin = admin.site._registry[Initiative]
    request = RequestFactory().get("/admin/portfolio/initiative/")
    request.user = superuser
    assert "stage" in model_admin.get_readonly_fields(request, initiative)
    assert set(model_admin.get_actions(request)) <= {"delete_selected"}


def test_admin_cannot_put_a_deployment_in_production_or_add_one(client, member_a, unit_a):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    other_unit = BusinessUnitFactory(code="OTHER")
    deployment = Deployment.objects.create(initiative=initiative, business_unit=other_unit)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    url = reverse("admin:portfolio_deployment_change", args=[deployment.pk])
    assert client.get(url).status_code == 200
    posted = {
        "initiative": initiative.pk,
        "business_unit": unit_a.pk,
        "status": DeploymentStatus.PRODUCTION,
        "started_on": "2024-01-01",
        "_save": "Save",
    }
    assert client.post(url, posted).status_code == 302
    deployment.refresh_from_db()
    assert (deployment.status, deployment.started_on, deployment.business_unit) == (
        DeploymentStatus.PLANNED,
        None,
        other_unit,
    )
    add = reverse("admin:portfolio_deployment_add")
    assert client.get(add).status_code == 403
    assert client.post(add, {**posted, "business_unit": unit_a.pk}).status_code == 403
    assert Deployment.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="deployment.").exists()

    model_admin = admin.site._registry[Deployment]
    request = RequestFactory().get("/admin/portfolio/deployment/")
    request.user = superuser
    assert {"status", "started_on", "ended_on"} <= set(
        model_admin.get_readonly_fields(request, deployment)
    )


def test_admin_cannot_add_edit_or_delete_stage_history(client, member_a, unit_a):
    initiative = services.initiative_create(
        actor=member_a,
        data={"title": "Claims triage", "business_unit": unit_a, "accountable_owner": member_a},
    )
    change = initiative.stage_changes.get()
    before = (change.from_stage, change.to_stage, change.changed_at, change.reason)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    url = reverse("admin:portfolio_stagechange_change", args=[change.pk])
    page = client.get(url)
    assert page.status_code == 200  # viewable
    assert 'name="_save"' not in page.content.decode()
    rewritten = {
        "initiative": initiative.pk,
        "from_stage": "pilot",
        "to_stage": "production",
        "changed_at_0": "2020-01-01",
        "changed_at_1": "00:00:00",
        "reason": "Rewritten",
        "_save": "Save",
    }
    assert client.post(url, rewritten).status_code == 403
    add = reverse("admin:portfolio_stagechange_add")
    assert client.get(add).status_code == 403
    assert client.post(add, rewritten).status_code == 403
    delete = reverse("admin:portfolio_stagechange_delete", args=[change.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:portfolio_stagechange_changelist")
    bulk = {"action": "delete_selected", "_selected_action": [change.pk], "post": "yes"}
    client.post(changelist, bulk)
    change.refresh_from_db()
    assert (change.from_stage, change.to_stage, change.changed_at, change.reason) == before
    assert initiative.stage_changes.count() == 1


def test_the_gate_is_the_way_to_pilot(member_a, unit_a, people):
    initiative = assessed(unit_a, member_a, TIER_2)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="pilot")
    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.PILOT
    change = initiative.stage_changes.get(to_stage=Stage.PILOT)
    assert f"request #{request.pk}" in change.reason


@pytest.mark.parametrize("stage", [Stage.PAUSED, Stage.RETIRED, Stage.REJECTED])
def test_pausing_retiring_and_rejecting_need_a_reason(member_a, coe_admin, unit_a, stage):
    initiative = InitiativeFactory(business_unit=unit_a, stage="proposed")
    with pytest.raises(ValidationError, match="reason"):
        services.initiative_change_stage(actor=coe_admin, initiative=initiative, to_stage=stage)
    changed = services.initiative_change_stage(
        actor=coe_admin, initiative=initiative, to_stage=stage, reason="Decided by the CoE."
    )
    assert changed.stage == stage
    assert changed.stage_changes.get(to_stage=stage).reason == "Decided by the CoE."


# --- Retirement notifies the platform team about orphaned GPUs -----------------------------


@pytest.fixture
def engineers(unit_a, platform_engineer):
    second = member(Role.PLATFORM_ENGINEER, BusinessUnitFactory(code="PLATFORM"), username="pam")
    return [platform_engineer, second]


def retire(actor, initiative, capture, stage=Stage.RETIRED):
    with capture(execute=True):
        return services.initiative_change_stage(
            actor=actor, initiative=initiative, to_stage=stage, reason="Replaced by a vendor tool."
        )


def test_retiring_notifies_every_platform_engineer_once(
    member_a, unit_a, engineers, django_capture_on_commit_callbacks
):
    initiative = InitiativeFactory(business_unit=unit_a, accountable_owner=member_a)
    active = GPUAllocationFactory(initiative=initiative, business_unit=unit_a)
    GPUAllocationFactory(
        initiative=initiative,
        business_unit=unit_a,
        starts_on=timezone.localdate() - datetime.timedelta(days=30),
        ends_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    retired = retire(member_a, initiative, django_capture_on_commit_callbacks)

    notes = list(Notification.objects.order_by("recipient_id"))
    assert [note.recipient for note in notes] == engineers
    change = retired.stage_changes.get(to_stage=Stage.RETIRED)
    assert {note.url for note in notes} == {
        f"/initiatives/{initiative.pk}/#stage-change-{change.pk}"
    }
    assert initiative.reference in notes[0].subject and "1 active allocation" in notes[0].subject
    assert reverse("inventory:allocation_detail", args=[active.pk]) in notes[0].body
    assert "Replaced by a vendor tool." in notes[0].body
    assert all(allocation.is_orphaned for allocation in retired.gpu_allocations.all())

    # The hook runs after every change: later runs (and edits) notify nobody again.
    assert notify_orphaned_allocations(initiative.pk) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.initiative_update(actor=member_a, initiative=retired, data={"title": "Old"})
    assert Notification.objects.count() == 2


def test_rejecting_notifies_too_but_not_without_active_allocations(
    member_a, coe_admin, unit_a, engineers, django_capture_on_commit_callbacks
):
    bare = InitiativeFactory(business_unit=unit_a, stage="proposed")
    retire(coe_admin, bare, django_capture_on_commit_callbacks, stage=Stage.REJECTED)
    assert not Notification.objects.exists()

    holding = InitiativeFactory(business_unit=unit_a, stage="proposed")
    GPUAllocationFactory(initiative=holding, business_unit=unit_a)
    retire(coe_admin, holding, django_capture_on_commit_callbacks, stage=Stage.REJECTED)
    assert Notification.objects.count() == 2
    assert "rejected" in Notification.objects.first().subject


def test_live_initiatives_notify_nobody(member_a, unit_a, engineers):
    initiative = InitiativeFactory(business_unit=unit_a, stage="pilot")
    GPUAllocationFactory(initiative=initiative, business_unit=unit_a)
    assert notify_orphaned_allocations(initiative.pk) == 0
    assert notify_orphaned_allocations(999999) == 0
    assert not Notification.objects.exists()


# --- Cross-BU adoption through the scale gate ----------------------------------------------


def test_adoption_through_the_scale_gate_puts_the_deployment_in_production(
    member_a, member_b, unit_a, unit_b, people, executive
):
    initiative = in_production(unit_a, member_a, people)
    deployment, request = adopt_initiative(
        actor=member_b, initiative=initiative, business_unit=unit_b, comment="Claims too."
    )
    assert deployment.status == DeploymentStatus.PLANNED
    assert AuditEvent.objects.filter(action="deployment.created").count() == 1
    assert (request.gate, request.status, request.tier) == ("scale", RequestStatus.PENDING, 2)
    assert (request.subject_type, request.subject_id) == (
        "portfolio.deployment",
        str(deployment.pk),
    )
    assert scaling_selectors.initiatives_in_production_in_units(user=executive).count() == 0

    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    deployment.refresh_from_db()
    initiative.refresh_from_db()
    assert deployment.status == DeploymentStatus.PRODUCTION
    assert deployment.started_on == timezone.localdate()
    assert initiative.stage == Stage.PRODUCTION  # the adoption does not move the stage
    event = AuditEvent.objects.get(action="deployment.status_changed")
    assert f'"gate":{request.pk}' in event.payload and '"status":"production"' in event.payload

    in_two = scaling_selectors.initiatives_in_production_in_units(user=executive, minimum=2)
    assert list(in_two) == [initiative]
    assert (
        scaling_selectors.with_production_unit_count(Initiative.objects.all())
        .get()
        .production_units
        == 2
    )
    # Members of the adopting unit now see it; other units still do not.
    assert selectors.initiative_list(user=member_b).filter(pk=initiative.pk).exists()


def test_tier_1_adoption_is_fast_tracked_and_units_adopt_side_by_side(
    member_a, member_b, unit_a, unit_b, people
):
    initiative = in_production(unit_a, member_a, people, answers=LOW_RISK, tier=1)
    unit_c = BusinessUnitFactory(code="TREASURY")
    carl = member(Role.BU_LEAD, unit_c, username="carl")
    first, fast = adopt_initiative(actor=member_b, initiative=initiative, business_unit=unit_b)
    assert fast.fast_tracked and first.status == DeploymentStatus.PRODUCTION
    second, _ = adopt_initiative(actor=carl, initiative=initiative, business_unit=unit_c)
    assert second.status == DeploymentStatus.PRODUCTION
    counted = scaling_selectors.with_production_unit_count(
        Initiative.objects.filter(pk=initiative.pk)
    )
    assert counted.get().production_units == 3


def test_the_initiatives_own_scale_request_still_makes_it_scaled(member_a, unit_a, people):
    initiative = in_production(unit_a, member_a, people)
    request = engine.request_submit(actor=member_a, initiative=initiative, gate="scale")
    engine.request_decide(actor=people["reviewer"], request=request, outcome="approve")
    initiative.refresh_from_db()
    assert initiative.stage == Stage.SCALED
    assert not Deployment.objects.exists()


def test_adoption_refusals_write_nothing(member_a, member_b, unit_a, unit_b, people):
    initiative = in_production(unit_a, member_a, people)
    with pytest.raises(ValidationError, match="already belongs"):
        adopt_initiative(actor=member_a, initiative=initiative, business_unit=unit_a)
    with pytest.raises(PermissionDenied):
        adopt_initiative(actor=member_b, initiative=initiative, business_unit=unit_a)
    pilot = assessed(unit_a, member_a, TIER_2, stage="pilot")
    with pytest.raises(ValidationError, match="in production"):
        adopt_initiative(actor=member_b, initiative=pilot, business_unit=unit_b)
    blocked = assessed(unit_a, member_a, TIER_2, stage="production")
    with pytest.raises(ValidationError) as caught:
        adopt_initiative(actor=member_b, initiative=blocked, business_unit=unit_b)
    assert any("MON-01" in message for message in caught.value.messages)
    assert not Deployment.objects.exists()
    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="deployment.").exists()

    adopt_initiative(actor=member_b, initiative=initiative, business_unit=unit_b)
    with pytest.raises(ValidationError):
        adopt_initiative(actor=member_b, initiative=initiative, business_unit=unit_b)
    assert Deployment.objects.count() == 1


def test_production_needs_the_gate_and_deployments_only_take_scale(
    member_a, member_b, unit_a, unit_b, people
):
    initiative = in_production(unit_a, member_a, people)
    deployment = services.deployment_plan_adoption(
        actor=member_b, initiative=initiative, business_unit=unit_b
    )
    with pytest.raises(ValidationError, match="scale"):
        services.deployment_set_status(
            actor=member_b, deployment=deployment, status=DeploymentStatus.PRODUCTION
        )
    with pytest.raises(ValidationError, match="scale"):
        engine.request_submit(
            actor=member_b, initiative=initiative, gate="pilot", deployment=deployment
        )
    with pytest.raises(PermissionDenied):
        engine.request_submit(actor=member_b, initiative=initiative, gate="scale")
    piloting = services.deployment_set_status(
        actor=member_b, deployment=deployment, status=DeploymentStatus.PILOT
    )
    assert piloting.status == DeploymentStatus.PILOT and piloting.started_on is not None


def test_deployment_production_needs_the_approved_scale_request_for_that_deployment(
    member_a, member_b, unit_a, unit_b, people
):
    initiative = in_production(unit_a, member_a, people)
    deployment, pending = adopt_initiative(
        actor=member_b, initiative=initiative, business_unit=unit_b
    )
    other_unit = BusinessUnitFactory(code="TREASURY")
    other = services.deployment_plan_adoption(
        actor=member(Role.BU_MEMBER, other_unit), initiative=initiative, business_unit=other_unit
    )
    assert services.DEPLOYMENT_GATE_SUBJECT == engine.DEPLOYMENT_SUBJECT
    refused = {
        "pending request": pending,
        "no request": object(),
        "rejected": approved_scale_request(deployment, status="rejected"),
        "another deployment's": approved_scale_request(other),
        "the initiative's own": approved_scale_request(deployment, subject_type="", subject_id=""),
        "another gate's": approved_scale_request(deployment, gate="production"),
    }
    events = AuditEvent.objects.count()
    for name, via_gate in refused.items():
        with pytest.raises(ValidationError, match="not an approved 'scale' gate request"):
            services.deployment_set_status(
                actor=member_b,
                deployment=deployment,
                status=DeploymentStatus.PRODUCTION,
                via_gate=via_gate,
            )
        deployment.refresh_from_db()
        assert (deployment.status, deployment.started_on) == (DeploymentStatus.PLANNED, None), name
    assert AuditEvent.objects.count() == events

    live = services.deployment_set_status(
        actor=people["reviewer"],
        deployment=deployment,
        status=DeploymentStatus.PRODUCTION,
        via_gate=approved_scale_request(deployment),
    )
    assert live.status == DeploymentStatus.PRODUCTION


# --- Adoption in the UI and the API --------------------------------------------------------


@pytest.fixture
def lead_b(unit_a, unit_b):
    """A BU lead of Insurance who also sits on the CoE, so sees every initiative."""
    user = member(Role.BU_LEAD, unit_b, username="lena")
    MembershipFactory(user=user, business_unit=unit_a, role=Role.COE_REVIEWER)
    return user


def test_panel_offers_adoption_only_to_other_units_that_can_see_it(
    client, member_a, member_b, unit_a, people, lead_b, executive
):
    initiative = in_production(unit_a, member_a, people)
    url = reverse("portfolio:initiative_deployments", args=[initiative.pk])
    client.force_login(lead_b)
    response = client.get(url)
    assert "Adopt in my business unit" in response.content.decode()
    for user in (member_a, executive):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert "Adopt in my business unit" not in response.content.decode()
    client.force_login(member_b)
    assert client.get(url).status_code == 404


def test_adopt_page_submits_for_the_scale_gate(
    client, member_a, member_b, unit_a, unit_b, people, lead_b
):
    initiative = in_production(unit_a, member_a, people)
    url = reverse("portfolio:initiative_adopt", args=[initiative.pk])
    client.force_login(member_a)
    assert client.get(url).status_code == 403
    client.force_login(member_b)
    assert client.get(url).status_code == 404

    client.force_login(lead_b)
    page = client.get(url)
    assert page.status_code == 200 and "What the Scale gate requires" in page.content.decode()
    response = client.post(url, {"business_unit": unit_b.pk, "comment": "We need it."})
    request = ApprovalRequest.objects.get(gate="scale")
    assert response["Location"] == request.get_absolute_url()
    deployment = Deployment.objects.get()
    assert (deployment.business_unit, deployment.status) == (unit_b, DeploymentStatus.PLANNED)
    panel = client.get(reverse("portfolio:initiative_deployments", args=[initiative.pk]))
    content = panel.content.decode()
    assert "Insurance" in content and request.get_absolute_url() in content
    assert "Adopt in my business unit" not in content


def test_adopt_api(member_a, member_b, unit_a, unit_b, people, lead_b):
    initiative = in_production(unit_a, member_a, people)
    url = f"/api/v1/initiatives/{initiative.pk}/adopt/"
    api = APIClient()
    api.force_authenticate(member_b)
    assert api.post(url, {"business_unit": unit_b.pk}, format="json").status_code == 404
    api.force_authenticate(member_a)
    own = api.post(url, {"business_unit": unit_a.pk}, format="json")
    assert own.status_code == 400 and "already belongs" in own.json()["business_unit"][0]
    api.force_authenticate(lead_b)
    assert api.post(url, {"business_unit": unit_a.pk}, format="json").status_code == 403
    created = api.post(url, {"business_unit": unit_b.pk, "comment": "Go"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["deployment"]["status"] == "planned"
    assert body["deployment"]["business_unit_code"] == unit_b.code
    assert body["approval_request"]["status"] == "pending"
    again = api.post(url, {"business_unit": unit_b.pk}, format="json")
    assert again.status_code == 400 and "business_unit" in again.json()
    outsider = BusinessUnitFactory(code="OTHER")
    assert api.post(url, {"business_unit": outsider.pk}, format="json").status_code == 403
    assert Deployment.objects.count() == 1


def test_deployments_panel_query_count_does_not_grow(
    client, member_a, unit_a, people, executive, django_assert_num_queries
):
    initiative = in_production(unit_a, member_a, people, answers=LOW_RISK, tier=1)
    url = reverse("portfolio:initiative_deployments", args=[initiative.pk])

    def adopt_in(count):
        for _ in range(count):
            unit = BusinessUnitFactory()
            adopter = member(Role.BU_MEMBER, unit)
            adopt_initiative(actor=adopter, initiative=initiative, business_unit=unit)

    adopt_in(1)
    client.force_login(executive)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).context["rows"]) == 1
    adopt_in(5)
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 6
    assert response.context["production_units"] == 7
