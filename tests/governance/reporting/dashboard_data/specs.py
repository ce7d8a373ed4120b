"""The dashboard dataset described once, as plain Python specs relative to today, and the
calendar helpers the specs and the expectations share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

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
class FindingSpec:
    unit: str | None
    kind: str
    status: str
    waste: Decimal  # per month


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
    # Waste findings: the "Idle allocations" figure counts the open and acknowledged idle
    # ones; resolved ones and other kinds are there to be left out.
    findings = [
        FindingSpec("ALPHA", "idle", "open", Decimal("1250.50")),
        FindingSpec("ALPHA", "idle", "acknowledged", Decimal("300.00")),
        FindingSpec("ALPHA", "idle", "resolved", Decimal("999.00")),
        FindingSpec("BETA", "idle", "open", Decimal("410.25")),
        FindingSpec("BETA", "orphaned", "open", Decimal("77.00")),
        FindingSpec(None, "idle", "open", Decimal("55.00")),
    ]
    return {
        "months": m,
        "findings": findings,
        "initiatives": initiatives,
        "requests": requests,
        "lines": lines,
        "chargebacks": chargebacks,
        "usage": usage,
        "phases": phases,
        "indicators": indicators,
    }
