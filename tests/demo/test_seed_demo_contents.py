"""``manage.py seed_demo`` on an empty database: the organisation it builds (units, people,
logins, initiatives with consistent history, models, pools and allocations, audit events).

These tests only read, so the demo is seeded once for the module (it takes a while) inside a
transaction rolled back at the end; ``test_seed_demo.py`` covers re-runs and ``--scale``.
"""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import override_settings

from core.audit import verify_audit_chain
from core.choices import Role
from core.models import AuditEvent, BusinessUnit, Membership
from demo.organisation import DEMO_PASSWORD, ROLE_LOGINS
from governance.risk.models import ControlResult, RiskAssessment
from inventory.gpu.models import GPUAllocation, GPUPool, GPUType
from inventory.gpu.services import _committed_gpus
from inventory.registry.choices import DiligenceStatus
from inventory.registry.models import AIModel, Vendor
from portfolio.initiatives.choices import ENDED_STAGES, STAGE_TRANSITIONS, Stage
from portfolio.initiatives.models import Initiative
from tests.demo.test_seed_demo import reference_numbers

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The command's output; the demo stays in the database for this module's tests. The
    passwords are hashed as the tests' autouse fixture checks them (fast, MD5)."""
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        out = StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_builds_units_people_and_logins(seeded):
    output = seeded

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


def test_initiatives_cover_every_stage_with_consistent_history_and_dates(seeded):
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


def test_vendors_show_realistic_due_diligence(seeded):
    statuses = dict(Vendor.objects.values_list("name", "due_diligence_status"))
    done = {DiligenceStatus.APPROVED, DiligenceStatus.CONDITIONAL}
    assert sum(status in done for status in statuses.values()) > len(statuses) / 2
    assert list(statuses.values()).count(DiligenceStatus.IN_PROGRESS) == 1
    assert list(statuses.values()).count(DiligenceStatus.NOT_STARTED) == 1
    assert not Vendor.objects.filter(
        due_diligence_status__in=done, due_diligence_on__isnull=True
    ).exists()
    not_started = Vendor.objects.get(due_diligence_status=DiligenceStatus.NOT_STARTED)
    served = Initiative.objects.filter(ai_models__vendor=not_started)
    assert served.filter(stage=Stage.PILOT).exists()
    # Where the vendor control applies, it fails unless a risk officer waived it.
    results = ControlResult.objects.filter(initiative__in=served, control__code="VEN-01").exclude(
        status="not_applicable"
    )
    assert results.exists()
    assert set(results.values_list("status", flat=True)) <= {"failing", "waived"}


def test_inventory_models_pools_and_allocations(seeded):
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


def test_one_seeding_event_real_risk_events_and_the_chain_verifies(seeded):
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


def test_a_model_release_is_in_flight_beside_the_other_gates(seeded):
    from governance.approvals.models import ApprovalRequest

    pending = ApprovalRequest.objects.filter(status="pending")
    release = pending.get(gate="model_release")
    assert release.subject_type == "inventory.modelversion"
    assert release.initiative.ai_models.filter(versions__pk=release.subject_id).exists()
    assert pending.exclude(gate="model_release").filter(subject_type="").exists()


def test_three_custom_fields_with_values(seeded):
    from core.models import CustomFieldDefinition

    definitions = CustomFieldDefinition.objects.filter(entity="initiative")
    assert sorted(definitions.values_list("name", flat=True)) == [
        "cost_centre",
        "regulator_reference",
        "sox_scope",
    ]
    base = Initiative.objects.filter(external_id__startswith="demo-")
    assert base.filter(custom_fields__has_key="cost_centre").count() == base.count() == 120
    # SOX scope is required before production: every demo initiative from pilot on states it.
    later = base.filter(stage__in=[Stage.PILOT, Stage.PRODUCTION, Stage.SCALED])
    assert later.exclude(custom_fields__has_key="sox_scope").count() == 0
    assert base.filter(custom_fields__sox_scope=True).exists()
    assert base.filter(custom_fields__has_key="regulator_reference").exists()


def test_incidents_include_a_serious_one_with_reports_due_and_a_closed_one_with_actions(seeded):
    from django.utils import timezone

    from governance.incidents.choices import SERIOUS_CATEGORIES
    from governance.incidents.models import Incident

    now = timezone.now()
    incidents = list(Incident.objects.prefetch_related("reports__regime", "actions"))
    assert 3 <= len(incidents) <= 8
    serious = [i for i in incidents if i.category in SERIOUS_CATEGORIES and i.status != "closed"]
    assert serious, "a serious incident is open"
    due = [r for i in serious for r in i.reports.all() if r.submitted_at is None and r.due_at > now]
    assert {r.regime.code for r in due} >= {"eu-ai-act-art-73"}
    closed = [i for i in incidents if i.status == "closed"]
    assert closed and any(i.actions.all() for i in closed)
    for incident in closed:
        assert all(action.status != "open" for action in incident.actions.all())
        assert all(report.state(now) == "submitted" for report in incident.reports.all())
