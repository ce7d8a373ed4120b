"""Every dashboard figure computed from the specs in plain Python, by the written definitions,
never through the code under test."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tests.governance.reporting.dashboard_data.specs import (
    ENDED,
    GATES,
    HUNDREDTH,
    INACTIVE,
    MONTHS,
    PILOT_OR_BEYOND,
    PRODUCTION_OR_BEYOND,
    STAGES,
    TENTH,
    InitiativeSpec,
    at,
    month_end,
    share,
)

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
    idle_allocations: Decimal  # open and acknowledged idle findings' monthly waste
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
        idle_allocations=sum(
            (
                finding.waste
                for finding in data["findings"]
                if finding.kind == "idle"
                and finding.status in ("open", "acknowledged")
                and (unit is None or finding.unit == unit)
            ),
            Decimal(0),
        ),
        orphaned=orphaned if this_month in computed else None,
        utilisation=utilisation,
        phases=phases,
        indicators=indicators,
        heatmap=heatmap,
    )
