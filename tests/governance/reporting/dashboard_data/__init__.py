"""A hand-built organisation whose every executive-dashboard figure is known, for the
reconciliation tests of the dashboard, its exports and the board pack.

``build_dataset()`` creates three business units (Alpha, Beta, Gamma), their readers, eleven
initiatives across the stages (one merged, one draft, ended ones), stage history and
deployments, risk assessments of every tier plus unassessed ones, control results (failing,
waived, expired waivers, not required), approval requests with known submission and
decision times (an even-sized group for the median, a rounding case, overdue, in flight,
withdrawn and out-of-period ones), two computed chargeback months and one never computed,
waste findings (idle ones open, acknowledged and resolved, one of another kind), daily GPU
usage, two roadmap phases with activities and indicators, and barrier scores.

Every date is relative to the day it runs (this month, one month ago …), so the data means
the same whatever the calendar says. The rows are described once, as plain Python specs
(``INITIATIVES``, ``REQUESTS`` …, built by ``specs(today, now)``); ``build_dataset`` writes
them to the database directly (factories and ``objects.create``, no services), and
``Dataset.expected(unit_code)`` computes every figure from the *specs* in plain Python, by
the written definitions, never through the code under test.

    data = build_dataset()
    board = dashboard_compute(user=data.executive, filters=DashboardFilters(months=6))
    assert board.funnel.total == data.expected().total
    alpha = data.expected("ALPHA")  # what Alpha's lead sees (and anyone filtering on Alpha)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core.choices import Role
from governance.approvals.models import ApprovalPolicy, ApprovalRequest
from governance.risk.models import Control, ControlResult, Questionnaire, RiskAssessment
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding
from inventory.usage.models import GPUDevice, UsageDaily
from portfolio.initiatives.models import Deployment, Initiative, StageChange
from portfolio.roadmap.models import RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.scaling.models import BarrierAssessment
from tests.factories import (
    BusinessUnitFactory,
    GPUAllocationFactory,
    GPUPoolFactory,
    InitiativeFactory,
    UserFactory,
    member,
)
from tests.governance.reporting.dashboard_data.expected import (
    Expected,
    expected_figures,
)
from tests.governance.reporting.dashboard_data.specs import (
    STAGES,
    UNITS,
    at,
    month_back,
    specs,
)

__all__ = ["STAGES", "Dataset", "build_dataset"]

# --------------------------------------------------------------------------------------------
# Writing the dataset
# --------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    today: datetime.date
    now: datetime.datetime
    units: dict  # code → BusinessUnit
    executive: object
    leads: dict  # code → the unit's BU lead
    member_alpha: object  # a BU member (not a lead) of Alpha: no dashboard
    initiatives: dict  # name → Initiative
    requests: dict  # name → ApprovalRequest
    data: dict

    def expected(self, unit: str | None = None) -> Expected:
        return expected_figures(self.data, today=self.today, now=self.now, unit=unit)


def _policy(tier: int, gate: str) -> ApprovalPolicy:
    policy = ApprovalPolicy.objects.filter(tier=tier, gate=gate, is_active=True).first()
    return policy or ApprovalPolicy.objects.create(tier=tier, gate=gate)


def build_dataset() -> Dataset:
    """Write the dataset (see the module docstring) and return it with its expectations."""
    today, now = timezone.localdate(), timezone.now()
    data = specs(today, now)
    units = {code: BusinessUnitFactory(code=code, name=name) for code, name in UNITS}
    executive = member(Role.EXECUTIVE, units["ALPHA"], username="dash-exec")
    leads = {
        code: member(Role.BU_LEAD, unit, username=f"dash-lead-{code.lower()}")
        for code, unit in units.items()
    }
    member_alpha = member(Role.BU_MEMBER, units["ALPHA"], username="dash-member-alpha")
    owner = UserFactory(username="dash-owner")

    questionnaire = Questionnaire.objects.filter(is_active=True).first()
    controls = [
        Control.objects.create(code=f"DASH-{n:02d}", title=f"Dashboard control {n}", kind="manual")
        for n in range(1, 7)
    ]
    initiatives = {}
    for spec in data["initiatives"]:
        initiative = InitiativeFactory(
            reference=spec.reference,
            title=spec.name,
            business_unit=units[spec.unit],
            accountable_owner=owner,
            stage=spec.stage,
            pilot_started_on=spec.pilot_started_on,
            production_on=spec.production_on,
        )
        Initiative.objects.filter(pk=initiative.pk).update(created_at=at(spec.created, 12))
        initiatives[spec.name] = initiative
        previous = ""
        for stage, day in spec.history:
            StageChange.objects.create(
                initiative=initiative, from_stage=previous, to_stage=stage, changed_at=at(day)
            )
            previous = stage
        for code, status, started in spec.deployments:
            Deployment.objects.create(
                initiative=initiative, business_unit=units[code], status=status, started_on=started
            )
        if spec.tier is not None:
            computed, override = spec.tier
            RiskAssessment.objects.create(
                initiative=initiative,
                questionnaire=questionnaire,
                status="completed",
                is_current=True,
                computed_tier=computed,
                override_tier=override,
                override_justification="Reviewed by the risk office." if override else "",
                completed_at=at(spec.created, 15),
            )
        for control, (status, required, expires) in zip(controls, spec.controls, strict=False):
            ControlResult.objects.create(
                initiative=initiative,
                control=control,
                status=status,
                is_required=required,
                waiver_expires_on=expires,
            )
        for barrier, score in spec.barriers.items():
            BarrierAssessment.objects.create(initiative=initiative, barrier=barrier, score=score)
    for spec in data["initiatives"]:
        if spec.merged_into:
            Initiative.objects.filter(pk=initiatives[spec.name].pk).update(
                merged_into=initiatives[spec.merged_into]
            )

    requests = {}
    for spec in data["requests"]:
        requests[spec.name] = ApprovalRequest.objects.create(
            initiative=initiatives[spec.initiative],
            gate=spec.gate,
            tier=spec.tier,
            policy=_policy(spec.tier, spec.gate),
            policy_snapshot={"steps": []},
            status=spec.status,
            submitted_by=owner,
            submitted_at=spec.submitted,
            decided_at=spec.decided,
            step_due_at=spec.step_due,
        )

    chargebacks = {
        month: ChargebackMonth.objects.create(
            month=month, currency="EUR", computed_at=now if done else None
        )
        for month, done in data["chargebacks"].items()
    }
    for line in data["lines"]:
        ChargebackLine.objects.create(
            chargeback=chargebacks[line.month],
            kind=line.kind,
            source="focus",
            business_unit=units[line.unit] if line.unit else None,
            amount=line.amount,
        )

    for number, spec in enumerate(data["findings"]):
        Finding.objects.create(
            kind=spec.kind,
            status=spec.status,
            subject_key=f"allocation:dash-{number}",
            business_unit=units[spec.unit] if spec.unit else None,
            summary=f"Dashboard finding {number}",
            monthly_waste=spec.waste,
            currency="EUR",
            first_seen_at=now,
            last_seen_at=now,
        )

    pool = GPUPoolFactory(name="dash-pool")
    for number, row in enumerate(data["usage"]):
        if row.unit is None:
            device = GPUDevice.objects.create(
                hostname="dash-host",
                gpu=str(number),
                pool=pool,
                first_seen_at=now,
                last_seen_at=now,
            )
            UsageDaily.objects.create(
                day=row.day, device=device, samples=row.samples, avg_activity=row.avg_activity
            )
            continue
        allocation = GPUAllocationFactory(
            pool=pool, business_unit=units[row.unit], starts_on=month_back(today, 2)
        )
        UsageDaily.objects.create(
            day=row.day,
            allocation=allocation,
            samples=row.samples,
            avg_activity=row.avg_activity,
            gpu_hours=Decimal("24"),
        )

    phases = {}
    for number, name, status, activities in data["phases"]:
        phases[number] = RoadmapPhase.objects.create(number=number, name=name, status=status)
        for index, activity_status in enumerate(activities):
            RoadmapActivity.objects.create(
                phase=phases[number], title=f"Activity {number}.{index}", status=activity_status
            )
    for key, number, name, unit, value, target, direction in data["indicators"]:
        SuccessIndicator.objects.create(
            phase=phases[number],
            key=key,
            name=name,
            unit=unit,
            current_value=value,
            target=target,
            direction=direction,
        )
    return Dataset(
        today=today,
        now=now,
        units=units,
        executive=executive,
        leads=leads,
        member_alpha=member_alpha,
        initiatives=initiatives,
        requests=requests,
        data=data,
    )
