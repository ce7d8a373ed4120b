"""A hand-built organisation whose every executive-dashboard figure is known, for the
reconciliation tests of the dashboard, its exports and the board pack.

``build_dataset()`` creates three business units (Alpha, Beta, Gamma), their readers, eleven
initiatives across the stages (one merged, one draft, ended ones), stage history and
deployments, risk assessments of every tier plus unassessed ones, control results (failing,
waived, expired waivers, not required), approval requests with known submission and
decision times (an even-sized group for the median, a rounding case, overdue, in flight,
withdrawn and out-of-period ones), two computed chargeback months and one never computed,
daily GPU usage, two roadmap phases with activities and indicators, and barrier scores.

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
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from core.choices import Role
from governance.approvals.models import ApprovalPolicy, ApprovalRequest
from governance.risk.models import Control, ControlResult, Questionnaire, RiskAssessment
from inventory.finops.models import ChargebackLine, ChargebackMonth
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

MONTHS = 6  # the period the expectations are computed for (the default filter)
PILOT_OR_BEYOND = {"pilot", "production", "scaled"}
PRODUCTION_OR_BEYOND = {"production", "scaled"}
INACTIVE = {"draft", "retired", "rejected"}
ENDED = {"retired", "rejected"}
STAGES = ["draft", "proposed", "pilot", "production", "scaled", "paused", "retired", "rejected"]
GATES = ["intake", "pilot", "production", "scale", "gpu_request", "model_release"]
BARRIERS = [
    "infrastructure",
    "data",
    "technical_debt",
    "organisational",
    "governance",
    "change",
]
UNITS = (("ALPHA", "Alpha Bank"), ("BETA", "Beta Insurance"), ("GAMMA", "Gamma Markets"))
HUNDREDTH, TENTH = Decimal("0.01"), Decimal("0.1")


# --------------------------------------------------------------------------------------------
# Calendar helpers
# --------------------------------------------------------------------------------------------


def month_back(today: datetime.date, back: int) -> datetime.date:
    """First day of the month ``back`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_end(month: datetime.date) -> datetime.date:
    return month_back(month, -1) - datetime.timedelta(days=1)


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def share(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(100) * numerator / denominator).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------
# The specs
# --------------------------------------------------------------------------------------------


@dataclass
class InitiativeSpec:
    name: str
    number: int  # reference AI-<number>
    unit: str
    stage: str
    created: datetime.date
    history: list = field(default_factory=list)  # [(to_stage, date)]
    pilot_started_on: datetime.date | None = None
    production_on: datetime.date | None = None
    deployments: list = field(default_factory=list)  # [(unit, status, started_on | None)]
    tier: tuple | None = None  # (computed, override | None); None: unassessed
    controls: list = field(default_factory=list)  # [(status, is_required, waiver_expires_on)]
    merged_into: str = ""
    barriers: dict = field(default_factory=dict)

    @property
    def reference(self) -> str:
        return f"AI-{self.number:04d}"

    @property
    def effective_tier(self) -> int | None:
        if self.tier is None:
            return None
        computed, override = self.tier
        return override or computed

    def failing(self, today) -> int:
        return sum(
            1
            for status, required, expires in self.controls
            if required
            and (
                status == "failing"
                or (status == "waived" and expires is not None and expires < today)
            )
        )


@dataclass
class RequestSpec:
    name: str
    initiative: str
    gate: str
    tier: int
    status: str
    submitted: datetime.datetime
    decided: datetime.datetime | None = None
    step_due: datetime.datetime | None = None


@dataclass
class LineSpec:
    month: datetime.date
    unit: str | None
    kind: str
    amount: Decimal


@dataclass
class UsageSpec:
    unit: str | None  # None: an unattributed device
    day: datetime.date
    samples: int
    avg_activity: float | None


def specs(today: datetime.date, now: datetime.datetime) -> dict:
    """Every row of the dataset as plain data (see the module docstring)."""
    m = [month_back(today, back) for back in range(0, 8)]  # m[0] this month … m[7]

    def d(back: int, day: int) -> datetime.date:
        return m[back] + datetime.timedelta(days=day - 1)

    yesterday = today - datetime.timedelta(days=1)
    initiatives = [
        InitiativeSpec(
            "scaled-alpha",
            1,
            "ALPHA",
            "scaled",
            d(5, 1),
            history=[
                ("proposed", d(5, 2)),
                ("pilot", d(4, 3)),
                ("production", d(3, 5)),
                ("scaled", d(2, 1)),
            ],
            deployments=[("BETA", "production", d(2, 10)), ("GAMMA", "production", d(1, 10))],
            tier=(3, None),
            controls=[("failing", True, None), ("failing", True, None), ("passing", True, None)],
            barriers={"infrastructure": 4, "data": 2},
        ),
        InitiativeSpec(
            "live-alpha",
            2,
            "ALPHA",
            "production",
            d(3, 4),
            pilot_started_on=d(2, 5),
            production_on=d(1, 2),
            deployments=[("ALPHA", "production", d(1, 2)), ("BETA", "pilot", d(1, 3))],
            tier=(2, 4),
            controls=[("failing", True, None), ("waived", True, today)],
            barriers={"infrastructure": 2},
        ),
        InitiativeSpec(
            "pilot-beta",
            3,
            "BETA",
            "pilot",
            d(4, 8),
            pilot_started_on=d(3, 1),
            tier=(1, None),
            controls=[("pending", True, None)],
            barriers={"infrastructure": 5, "change": 3},
        ),
        InitiativeSpec(
            "paused-beta",
            4,
            "BETA",
            "paused",
            d(6, 1),
            history=[("pilot", d(5, 3)), ("production", d(4, 10)), ("paused", d(1, 5))],
            production_on=d(4, 10),
            deployments=[("BETA", "production", d(4, 10)), ("GAMMA", "production", d(3, 15))],
            tier=(3, None),
            controls=[("passing", True, None)],
        ),
        InitiativeSpec("proposed-gamma", 5, "GAMMA", "proposed", d(2, 6)),
        InitiativeSpec(
            "draft-alpha",
            6,
            "ALPHA",
            "draft",
            d(1, 1),
            tier=(4, None),
            controls=[("failing", True, None)] * 3,
            barriers={"data": 5},
        ),
        InitiativeSpec(
            "retired-gamma",
            7,
            "GAMMA",
            "retired",
            d(6, 20),
            history=[("pilot", d(5, 1)), ("retired", d(3, 1))],
            tier=(2, None),
            barriers={"infrastructure": 1},
        ),
        InitiativeSpec(
            "rejected-beta",
            8,
            "BETA",
            "rejected",
            d(3, 2),
            history=[("pilot", d(2, 2)), ("rejected", d(1, 1))],
        ),
        InitiativeSpec(
            "merged-alpha",
            9,
            "ALPHA",
            "retired",
            d(7, 1),
            production_on=d(4, 1),
            deployments=[("BETA", "production", d(4, 2)), ("GAMMA", "production", d(4, 3))],
            tier=(4, None),
            controls=[("failing", True, None)] * 2,
            merged_into="scaled-alpha",
            barriers={"infrastructure": 1},
        ),
        InitiativeSpec(
            "tier3-gamma",
            10,
            "GAMMA",
            "production",
            d(2, 1),
            pilot_started_on=d(1, 1),
            production_on=d(0, 1),
            # A deployment without a start date counts from the day it was recorded (today).
            deployments=[("ALPHA", "production", None)],
            tier=(3, None),
            controls=[("failing", True, None)] * 4 + [("failing", False, None)],
            barriers={"change": 4},
        ),
        InitiativeSpec(
            "proposed-alpha",
            11,
            "ALPHA",
            "proposed",
            d(0, 1),
            tier=(1, 3),
            controls=[
                ("failing", True, None),
                ("waived", True, yesterday),  # expired: counts as failing
                ("waived", True, today),  # still valid
                ("failing", False, None),  # not required
            ],
        ),
    ]

    def hours(value: float) -> datetime.timedelta:
        return datetime.timedelta(hours=value)

    base = at(d(2, 3))  # decisions two months ago: inside the 6-month period
    requests = [
        # Tier 2 pilot: 2, 4, 5 and 9 days (even count: median (4 + 5) / 2 = 4.5).
        RequestSpec("t2-2d", "live-alpha", "pilot", 2, "approved", base, base + hours(48)),
        RequestSpec("t2-4d", "pilot-beta", "pilot", 2, "rejected", base, base + hours(96)),
        RequestSpec("t2-5d", "live-alpha", "pilot", 2, "approved", base, base + hours(120)),
        RequestSpec("t2-9d", "proposed-gamma", "pilot", 2, "approved", base, base + hours(216)),
        # Tier 3 production: 1.5, 3 and 10 days (median 3.0).
        RequestSpec("t3-36h", "scaled-alpha", "production", 3, "approved", base, base + hours(36)),
        RequestSpec("t3-3d", "paused-beta", "production", 3, "rejected", base, base + hours(72)),
        RequestSpec("t3-10d", "scaled-alpha", "production", 3, "approved", base, base + hours(240)),
        # Tier 1 intake: 6 hours = 0.25 days, rounded half up to 0.3.
        RequestSpec("t1-6h", "pilot-beta", "intake", 1, "approved", base, base + hours(6)),
        # Not decisions of the period: withdrawn; decided before the period.
        RequestSpec("withdrawn", "pilot-beta", "pilot", 2, "withdrawn", base, base + hours(1)),
        RequestSpec(
            "old", "scaled-alpha", "pilot", 2, "approved", at(d(7, 1)), at(d(7, 1)) + hours(24)
        ),
        # Open ones: overdue, pending on time, sent back for changes.
        RequestSpec(
            "overdue-alpha",
            "proposed-alpha",
            "pilot",
            3,
            "pending",
            now - hours(72),
            step_due=now - hours(1),
        ),
        RequestSpec(
            "overdue-gamma",
            "tier3-gamma",
            "scale",
            3,
            "pending",
            now - hours(100),
            step_due=now - hours(30),
        ),
        RequestSpec(
            "on-time-beta",
            "pilot-beta",
            "production",
            1,
            "pending",
            now - hours(2),
            step_due=now + hours(24),
        ),
        RequestSpec(
            "changes-gamma",
            "proposed-gamma",
            "intake",
            1,
            "changes_requested",
            now - hours(50),
            decided=now - hours(10),
        ),
    ]

    lines = [
        LineSpec(m[0], "ALPHA", "direct", Decimal("1000.50")),
        LineSpec(m[0], "ALPHA", "idle_share", Decimal("100.25")),
        LineSpec(m[0], "ALPHA", "shared_share", Decimal("50.00")),
        LineSpec(m[0], "ALPHA", "adjustment", Decimal("-20.00")),
        LineSpec(m[0], "ALPHA", "orphaned", Decimal("80.00")),
        LineSpec(m[0], "BETA", "direct", Decimal("700.00")),
        LineSpec(m[0], "BETA", "idle_share", Decimal("60.00")),
        LineSpec(m[0], "BETA", "orphaned", Decimal("25.00")),
        LineSpec(m[0], "GAMMA", "direct", Decimal("300.00")),
        LineSpec(m[0], None, "idle", Decimal("40.00")),
        LineSpec(m[0], None, "unattributed", Decimal("33.00")),
        LineSpec(m[1], "ALPHA", "direct", Decimal("900.00")),
        LineSpec(m[1], "BETA", "direct", Decimal("650.00")),
        LineSpec(m[1], "BETA", "adjustment", Decimal("10.00")),
        LineSpec(m[1], "GAMMA", "idle_share", Decimal("5.00")),
    ]
    # m[2] has a chargeback row that was never computed: no data, not zero.
    chargebacks = {m[0]: True, m[1]: True, m[2]: False}

    usage = [
        UsageSpec("ALPHA", m[0], 100, 0.9),
        UsageSpec("ALPHA", m[0], 300, 0.7),  # Alpha: (90 + 210) / 400 = 75 %, in the band
        UsageSpec("ALPHA", d(1, 15), 500, 0.1),  # last month: not counted
        UsageSpec("BETA", m[0], 50, 0.2),  # Beta: 20 %, below
        UsageSpec("BETA", m[0], 10, None),  # no activity (Slurm only): not counted
        UsageSpec("GAMMA", m[0], 10, 0.95),  # Gamma: 95 %, above
        UsageSpec(None, m[0], 1000, 0.5),  # unattributed device: no unit
    ]

    phases = [
        # number, name, status, activity statuses
        (1, "Assessment & Strategy", "completed", ["done", "done", "done"]),
        (2, "Foundation Building", "in_progress", ["done", "in_progress", "planned", "blocked"]),
    ]
    indicators = [
        # key, phase, name, unit, value, target, direction
        ("coverage", 1, "Barrier coverage", "%", Decimal("85.00"), Decimal("80.00"), "higher"),
        ("median-days", 2, "Median days", "days", Decimal("200.00"), Decimal("180.00"), "lower"),
        ("components", 2, "Components", "components", None, Decimal("10.00"), "higher"),
        ("fast", 2, "Fast enough", "days", Decimal("150.00"), Decimal("180.00"), "lower"),
    ]
    return {
        "months": m,
        "initiatives": initiatives,
        "requests": requests,
        "lines": lines,
        "chargebacks": chargebacks,
        "usage": usage,
        "phases": phases,
        "indicators": indicators,
    }


# --------------------------------------------------------------------------------------------
# Expected figures, in plain Python from the specs
# --------------------------------------------------------------------------------------------


@dataclass
class Expected:
    funnel: dict
    total: int
    scaling_gap: Decimal | None
    conversion: Decimal | None
    trend: list  # [(month, gap, conversion)]
    tiers: dict  # tier → active initiatives
    unassessed: int
    top_risks: list  # [(reference, tier, failing)] worst first, at most 10
    top_total: int
    in_flight: int
    overdue: int
    cycle: list  # [(tier, gate, decided, median days)]
    spend: dict  # unit code → [value per month of the period, oldest first]
    spend_total: list
    idle: Decimal | None
    orphaned: Decimal | None
    utilisation: dict  # unit code → (percent, status)
    phases: list  # [(number, status, done, total)]
    indicators: list  # [(key, status)]
    heatmap: dict  # (unit code, barrier) → average


def _first(dates) -> datetime.date | None:
    dates = [day for day in dates if day is not None]
    return min(dates) if dates else None


def _reached(spec: InitiativeSpec, stages, *dates) -> datetime.date | None:
    """First day in ``stages`` (moves and dates), else the registration day if there now."""
    found = _first([day for stage, day in spec.history if stage in stages] + list(dates))
    if found is None and spec.stage in stages:
        return spec.created
    return found


def _units_now(spec: InitiativeSpec) -> int:
    live = [unit for unit, status, _ in spec.deployments if status == "production"]
    owner = spec.stage in PRODUCTION_OR_BEYOND or spec.unit in live
    return len([unit for unit in live if unit != spec.unit]) + (1 if owner else 0)


def _two_units_on(spec: InitiativeSpec, today) -> datetime.date | None:
    production_on = _reached(spec, PRODUCTION_OR_BEYOND, spec.production_on)
    own = [
        started or today
        for unit, status, started in spec.deployments
        if status == "production" and unit == spec.unit
    ]
    owner = _first([production_on, *own])
    others = sorted(
        started or today
        for unit, status, started in spec.deployments
        if status == "production" and unit != spec.unit
    )
    days = sorted([day for day in [owner, *others] if day is not None])
    return days[1] if len(days) >= 2 else None


def _median_days(durations: list[datetime.timedelta]) -> Decimal:
    ordered = sorted(durations)
    size = len(ordered)
    middle = ordered[(size - 1) // 2 : size // 2 + 1]
    seconds = sum(Decimal(str(item.total_seconds())) for item in middle) / len(middle)
    return (seconds / 86400).quantize(TENTH, rounding=ROUND_HALF_UP)


def expected_figures(
    data: dict, *, today: datetime.date, now: datetime.datetime, unit: str | None = None
) -> Expected:
    """Every figure for the whole organisation, or narrowed to the initiatives (and rows)
    of ``unit``, computed from ``specs`` by the dashboard's written definitions."""
    months = list(reversed(data["months"][:MONTHS]))
    counted = [
        spec
        for spec in data["initiatives"]
        if not spec.merged_into and (unit is None or spec.unit == unit)
    ]
    funnel = {stage: sum(1 for spec in counted if spec.stage == stage) for stage in STAGES}

    pilot = [
        spec
        for spec in counted
        if _reached(spec, PILOT_OR_BEYOND, spec.pilot_started_on, spec.production_on)
    ]
    not_scaled = [spec for spec in pilot if _units_now(spec) < 2]
    converted = [spec for spec in pilot if _reached(spec, PRODUCTION_OR_BEYOND, spec.production_on)]
    trend = []
    for month in months:
        day = min(month_end(month), today)
        reached = [
            spec
            for spec in counted
            if (
                _reached(spec, PILOT_OR_BEYOND, spec.pilot_started_on, spec.production_on)
                or datetime.date.max
            )
            <= day
        ]
        gap = [spec for spec in reached if (_two_units_on(spec, today) or datetime.date.max) > day]
        conversion = [
            spec
            for spec in reached
            if (_reached(spec, PRODUCTION_OR_BEYOND, spec.production_on) or datetime.date.max)
            <= day
        ]
        trend.append((month, share(len(gap), len(reached)), share(len(conversion), len(reached))))

    active = [spec for spec in counted if spec.stage not in INACTIVE]
    tiers = {tier: sum(1 for spec in active if spec.effective_tier == tier) for tier in range(1, 5)}
    risky = sorted(
        (
            (spec.reference, spec.effective_tier, spec.failing(today))
            for spec in active
            if (spec.effective_tier or 0) >= 3 and spec.failing(today) > 0
        ),
        key=lambda row: (-row[1], -row[2], row[0]),
    )

    by_name = {spec.name: spec for spec in data["initiatives"]}
    requests = [
        request
        for request in data["requests"]
        if unit is None or by_name[request.initiative].unit == unit
    ]
    period_start = at(months[0], 0)
    durations = defaultdict(list)
    for request in requests:
        if request.status in ("approved", "rejected") and period_start <= request.decided < now:
            durations[request.tier, request.gate].append(request.decided - request.submitted)
    cycle = [
        (tier, gate, len(durations[tier, gate]), _median_days(durations[tier, gate]))
        for tier, gate in sorted(durations, key=lambda key: (key[0], GATES.index(key[1])))
    ]

    computed = {month for month, done in data["chargebacks"].items() if done}
    lines = [line for line in data["lines"] if unit is None or line.unit == unit]
    spend_units = sorted(
        {line.unit for line in lines if line.unit and line.kind != "orphaned"}
        | ({unit} if unit else set())
    )
    spend = {
        code: [
            sum(
                (
                    line.amount
                    for line in lines
                    if line.unit == code and line.month == month and line.kind != "orphaned"
                ),
                Decimal(0),
            )
            if month in computed
            else None
            for month in months
        ]
        for code in spend_units
    }
    spend_total = [
        sum((values[index] for values in spend.values()), Decimal(0))
        if months[index] in computed
        else None
        for index in range(len(months))
    ]
    this_month = months[-1]
    idle = sum(
        (
            line.amount
            for line in lines
            if line.month == this_month and line.kind in ("idle", "idle_share")
        ),
        Decimal(0),
    )
    orphaned = sum(
        (line.amount for line in lines if line.month == this_month and line.kind == "orphaned"),
        Decimal(0),
    )

    utilisation = {}
    for code in sorted({row.unit for row in data["usage"] if row.unit}):
        if unit is not None and code != unit:
            continue
        rows = [
            row
            for row in data["usage"]
            if row.unit == code and row.day >= this_month and row.avg_activity is not None
        ]
        samples = sum(row.samples for row in rows)
        percent = 100 * sum(row.samples * row.avg_activity for row in rows) / samples
        status = "below" if percent < 70 else "above" if percent > 85 else "in_band"
        utilisation[code] = (percent, status)

    phases = [
        (number, status, activities.count("done"), len(activities))
        for number, _, status, activities in data["phases"]
    ]
    indicators = []
    for key, _, _, _, value, target, direction in sorted(
        data["indicators"], key=lambda row: (row[1], row[0])
    ):
        if value is None or target is None:
            status = "no_data"
        elif direction == "lower":
            status = "met" if value <= target else "not_met"
        else:
            status = "met" if value >= target else "not_met"
        indicators.append((key, status))

    scores = defaultdict(list)
    for spec in counted:
        if spec.stage in ENDED:
            continue
        for barrier, score in spec.barriers.items():
            scores[spec.unit, barrier].append(score)
            scores["ALL", barrier].append(score)
    heatmap = {
        key: (Decimal(sum(values)) / len(values)).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)
        for key, values in scores.items()
    }
    return Expected(
        funnel=funnel,
        total=len(counted),
        scaling_gap=share(len(not_scaled), len(pilot)),
        conversion=share(len(converted), len(pilot)),
        trend=trend,
        tiers=tiers,
        unassessed=sum(1 for spec in active if spec.effective_tier is None),
        top_risks=risky[:10],
        top_total=len(risky),
        in_flight=sum(1 for r in requests if r.status in ("pending", "changes_requested")),
        overdue=sum(
            1 for r in requests if r.status == "pending" and r.step_due and r.step_due < now
        ),
        cycle=cycle,
        spend=spend,
        spend_total=spend_total,
        idle=idle if this_month in computed else None,
        orphaned=orphaned if this_month in computed else None,
        utilisation=utilisation,
        phases=phases,
        indicators=indicators,
        heatmap=heatmap,
    )


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
