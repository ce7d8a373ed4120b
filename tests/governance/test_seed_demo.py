"""``manage.py seed_demo``: a believable, consistent, idempotent demo organisation."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q

from core.audit import verify_audit_chain
from core.choices import Role
from core.models import AuditEvent, BusinessUnit, Membership, Sequence
from governance.demo import DEMO_PASSWORD, ROLE_LOGINS
from governance.models import RiskAssessment
from inventory.models import AIModel, GPUAllocation, GPUPool, GPUType, ModelVersion, Vendor
from inventory.services import _committed_gpus
from portfolio import services
from portfolio.choices import ENDED_STAGES, STAGE_TRANSITIONS, Stage
from portfolio.models import Deployment, Initiative, StageChange

pytestmark = pytest.mark.django_db

COUNTED_MODELS = (
    BusinessUnit,
    Membership,
    Initiative,
    StageChange,
    Deployment,
    AIModel,
    AIModel.initiatives.through,
    ModelVersion,
    Vendor,
    GPUType,
    GPUPool,
    GPUAllocation,
    AuditEvent,
)


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    result = {model.__name__: model.objects.count() for model in COUNTED_MODELS}
    result["User"] = get_user_model().objects.count()
    return result


def reference_numbers() -> list[int]:
    references = Initiative.objects.values_list("reference", flat=True)
    return sorted(int(reference.removeprefix("AI-")) for reference in references)


def test_builds_units_people_and_logins():
    output = seed()

    codes = set(BusinessUnit.objects.values_list("code", flat=True))
    assert codes == {"RETAIL", "COMM", "INSURE", "WEALTH", "OPS", "RISK", "TECH", "COE"}
    assert not BusinessUnit.objects.filter(Q(head__isnull=True) | Q(cost_centre="")).exists()
    held = set(Membership.objects.values_list("role", flat=True))
    assert held == set(Role.values)
    for login in ROLE_LOGINS:
        user = get_user_model().objects.get(username=login.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.memberships.filter(role=login.role, business_unit__code=login.unit).exists()
        assert login.username in output
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert get_user_model().objects.count() >= 35
    assert DEMO_PASSWORD in output


def test_initiatives_cover_every_stage_with_consistent_history_and_dates():
    seed()

    initiatives = Initiative.objects.prefetch_related("stage_changes")
    assert initiatives.count() == 120
    assert set(initiatives.values_list("stage", flat=True)) == set(Stage.values)
    assert reference_numbers() == list(range(1, 121))
    for initiative in initiatives:
        history = list(initiative.stage_changes.all())
        assert history[0].from_stage == "" and history[0].to_stage == Stage.DRAFT
        assert history[-1].to_stage == initiative.stage
        for earlier, later in zip(history, history[1:], strict=False):
            assert later.from_stage == earlier.to_stage
            assert later.to_stage in STAGE_TRANSITIONS[earlier.to_stage]
            assert later.changed_at > earlier.changed_at
        if initiative.production_on:
            assert initiative.pilot_started_on <= initiative.production_on
        assert (initiative.retired_on is not None) == (initiative.stage == Stage.RETIRED)
        if initiative.stage in (Stage.PILOT, Stage.PRODUCTION, Stage.SCALED):
            assert initiative.pilot_started_on is not None
    in_two_units = Initiative.objects.annotate(
        live=Count("deployments", filter=Q(deployments__status="production"))
    ).filter(live__gte=2)
    assert in_two_units.exists()
    assert not in_two_units.exclude(stage__in=[Stage.SCALED, *ENDED_STAGES]).exists()


def test_inventory_models_pools_and_allocations():
    seed()

    assert 35 <= AIModel.objects.count() <= 45
    assert AIModel.objects.filter(vendor__isnull=False).count() >= 10
    per_model = AIModel.objects.annotate(n=Count("versions")).values_list("n", flat=True)
    assert set(per_model) <= {1, 2, 3}
    assert not AIModel.objects.filter(initiatives__isnull=True).exists()
    assert GPUType.objects.filter(name__in=["H100 80GB", "A100 40GB", "L4", "MI300X"]).count() == 4
    assert GPUPool.objects.count() == 10
    assert set(GPUPool.objects.values_list("provider", flat=True)) >= {
        "aws",
        "gcp",
        "azure",
        "on_prem",
    }

    allocations = GPUAllocation.objects.select_related("pool")
    assert allocations.count() == 200
    assert GPUAllocation.objects.filter(initiative__isnull=True).exists()
    assert GPUAllocation.objects.filter(initiative__stage__in=ENDED_STAGES).exists()
    assert GPUAllocation.objects.orphaned().count() >= 10
    for allocation in allocations:
        # Every allocation would pass the services' capacity check if saved again now.
        others = _committed_gpus(
            allocation.pool,
            starts_on=allocation.starts_on,
            ends_on=allocation.ends_on,
            exclude_pk=allocation.pk,
        )
        assert others + allocation.gpu_count <= allocation.pool.gpu_count


def test_one_seeding_event_real_risk_events_and_the_chain_verifies():
    seed()

    event = AuditEvent.objects.get(action="demo.seeded")
    assert (event.action, event.object_type, event.object_id) == (
        "demo.seeded",
        "system",
        "seed_demo",
    )
    assert event.actor_id is None
    assert '"initiatives":120' in event.payload
    # Bulk rows share that one event; risk assessments go through the services.
    assessed = RiskAssessment.objects.filter(is_current=True)
    assert assessed.count() >= 100
    assert set(assessed.values_list("computed_tier", flat=True)) == {1, 2, 3, 4}
    assert assessed.filter(override_tier__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="risk_assessment.completed").count() == assessed.count()
    assert verify_audit_chain().ok


def test_second_run_creates_nothing():
    seed()
    before = counts()

    output = seed()

    assert counts() == before
    assert "already seeded" in output
    assert verify_audit_chain().ok


def test_missing_rows_are_recreated_identically():
    seed()
    snapshot = sorted(
        Initiative.objects.values_list("external_id", "title", "stage", "business_unit__code")
    )
    Initiative.objects.filter(external_id__in=["demo-0007", "demo-0042"]).delete()

    seed()

    assert Initiative.objects.count() == 120
    recreated = sorted(
        Initiative.objects.values_list("external_id", "title", "stage", "business_unit__code")
    )
    assert recreated == snapshot
    assert reference_numbers()[-2:] == [121, 122]


def test_scale_adds_rows_and_continues_the_reference_sequence(member_a, unit_a):
    # An initiative registered before seeding keeps AI-0001; the seed continues after it.
    first = services.initiative_create(
        actor=member_a,
        data={"title": "Branch footfall", "business_unit": unit_a, "accountable_owner": member_a},
    )
    assert first.reference == "AI-0001"

    seed("--scale", "300")

    assert Initiative.objects.count() == 1 + 120 + 300
    assert Initiative.objects.filter(external_id__startswith="demo-scale-").count() == 300
    assert reference_numbers() == list(range(1, 422))
    assert Sequence.objects.get(name="initiative").last_value == 421
    assert set(Initiative.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert AIModel.objects.count() == 40 + 100
    assert GPUAllocation.objects.count() == 200 + 450
    assert AuditEvent.objects.filter(action="demo.seeded").count() == 1
    later = services.initiative_create(
        actor=member_a,
        data={"title": "Queue forecasting", "business_unit": unit_a, "accountable_owner": member_a},
    )
    assert later.reference == "AI-0422"

    before = counts()
    seed("--scale", "300")
    assert counts() == before
    assert verify_audit_chain().ok


def test_growing_the_scale_adds_only_the_difference():
    seed("--scale", "150")
    first_titles = dict(
        Initiative.objects.filter(external_id__startswith="demo-scale-").values_list(
            "external_id", "title"
        )
    )

    output = seed("--scale", "300")

    assert Initiative.objects.filter(external_id__startswith="demo-scale-").count() == 300
    assert AIModel.objects.count() == 40 + 100
    assert GPUAllocation.objects.count() == 200 + 450
    # 150 scaled initiatives created; the base 120 and the first 150 were already there.
    assert re.search(r"^initiatives\s+150\s+270$", output, re.MULTILINE)
    kept = Initiative.objects.filter(external_id__in=first_titles).values_list(
        "external_id", "title"
    )
    assert dict(kept) == first_titles
    assert len(set(reference_numbers())) == Initiative.objects.count()
