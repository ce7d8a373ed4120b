"""The demo organisation's roadmap and scaling-barrier assessments (part of ``seed_demo``).

Idempotent like the rest of the demo: the roadmap is installed through
``portfolio.roadmap.services.roadmap_install_defaults`` (phases keyed by number), and the demo's
plan (dates, statuses, owners, linked initiatives, manual indicator history, today's computed
values) is applied only to phases created by this run, so a CoE admin's later edits are
never overwritten. Barrier assessments are keyed by (initiative, barrier) and only missing
ones are inserted. Deterministic: every choice comes from seeded ``random.Random`` streams;
dates are offsets from the day of seeding.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model

from portfolio.initiatives.choices import Stage
from portfolio.initiatives.models import Initiative
from portfolio.roadmap.choices import ActivityStatus, PhaseStatus
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.roadmap.services import indicators_recompute, roadmap_install_defaults
from portfolio.scaling.choices import Barrier
from portfolio.scaling.models import BarrierAssessment

SEED = "keel-demo-roadmap"

# Phase number -> (planned start, planned end, actual start, actual end) as day offsets from
# today (None: not set), and the phase's status.
PHASE_PLAN = {
    1: ((-420, -330, -420, -320), PhaseStatus.COMPLETED),
    2: ((-330, -150, -320, None), PhaseStatus.IN_PROGRESS),
    3: ((-150, 210, -120, None), PhaseStatus.AT_RISK),
    4: ((210, 900, None, None), PhaseStatus.NOT_STARTED),
}
# Activity status mix per phase, in the order the defaults list the activities; the due
# day (offset from today) of each.
ACTIVITY_PLAN = {
    1: [(ActivityStatus.DONE, -400), (ActivityStatus.DONE, -380), (ActivityStatus.DONE, -360),
        (ActivityStatus.DONE, -340), (ActivityStatus.DONE, -330)],
    2: [(ActivityStatus.DONE, -250), (ActivityStatus.DONE, -200),
        (ActivityStatus.IN_PROGRESS, -20), (ActivityStatus.IN_PROGRESS, 45),
        (ActivityStatus.BLOCKED, -5)],
    3: [(ActivityStatus.IN_PROGRESS, 120), (ActivityStatus.PLANNED, 90),
        (ActivityStatus.PLANNED, -10), (ActivityStatus.IN_PROGRESS, 150)],
    4: [(ActivityStatus.PLANNED, 400), (ActivityStatus.PLANNED, 600),
        (ActivityStatus.PLANNED, 700), (ActivityStatus.PLANNED, 850)],
}  # fmt: skip
ACTIVITY_OWNERS = ("coeadmin", "reviewer", "platform", "risk", "exec")
# Manual indicators: the values entered every four weeks, oldest first.
MANUAL_HISTORY = {
    "reusable-components": (1, 2, 2, 4, 5, 6, 7),
    "people-trained": (40, 85, 130, 190, 240, 310, 365),
    "self-service-share": (),
}

# Typical barrier scores (1 minor … 5 severe) per unit, so the heatmap tells a story:
# infrastructure and data silos in the older banking units, change fatigue in operations.
UNIT_BIAS = {
    "RETAIL": {Barrier.DATA: 4, Barrier.INFRASTRUCTURE: 4, Barrier.CHANGE: 3},
    "COMM": {Barrier.DATA: 4, Barrier.TECHNICAL_DEBT: 4},
    "INSURE": {Barrier.GOVERNANCE: 4, Barrier.DATA: 3},
    "WEALTH": {Barrier.ORGANISATIONAL: 4, Barrier.GOVERNANCE: 3},
    "OPS": {Barrier.CHANGE: 4, Barrier.ORGANISATIONAL: 3},
    "RISK": {Barrier.GOVERNANCE: 3, Barrier.TECHNICAL_DEBT: 3},
    "TECH": {Barrier.TECHNICAL_DEBT: 3, Barrier.INFRASTRUCTURE: 2},
    "COE": {Barrier.ORGANISATIONAL: 2},
}
NOTES = {
    Barrier.INFRASTRUCTURE: "Runs on a unit-specific cluster; moving it needs a platform port.",
    Barrier.DATA: "Source data lives in the unit's own warehouse with a different schema.",
    Barrier.TECHNICAL_DEBT: "Hand-built feature pipeline without tests or monitoring.",
    Barrier.ORGANISATIONAL: "Other units have not agreed who would own it for them.",
    Barrier.GOVERNANCE: "Each unit's risk sign-off is repeated from scratch.",
    Barrier.CHANGE: "Front-line teams need training before they trust the outputs.",
}
ASSESSED_STAGES = (Stage.PILOT, Stage.PRODUCTION, Stage.SCALED, Stage.PAUSED)


def seed_roadmap_and_barriers(today: date) -> dict[str, int]:
    """Install the demo roadmap and assess the demo's live initiatives; return the counts of
    rows created (all zero on a second run)."""
    created = {"roadmap_phases": 0, "roadmap_activities": 0, "barrier_assessments": 0}
    existing = set(RoadmapPhase.objects.values_list("number", flat=True))
    installed = roadmap_install_defaults()
    created["roadmap_phases"] = installed["phases"]
    created["roadmap_activities"] = installed["activities"]
    if installed["phases"]:
        _plan_phases(RoadmapPhase.objects.exclude(number__in=existing), today)
    created["barrier_assessments"] = _assess_barriers()
    if installed["phases"]:
        # Today's values of the computed indicators, after the barriers exist.
        indicators_recompute(today=today)
    return created


def _plan_phases(phases, today: date) -> None:
    users = dict(
        get_user_model().objects.filter(username__in=ACTIVITY_OWNERS).values_list("username", "pk")
    )
    scaled = list(
        Initiative.objects.filter(external_id__startswith="demo-", stage=Stage.SCALED)
        .order_by("external_id")
        .values_list("pk", flat=True)[:3]
    )
    for phase in phases:
        (planned_start, planned_end, actual_start, actual_end), status = PHASE_PLAN[phase.number]
        RoadmapPhase.objects.filter(pk=phase.pk).update(
            planned_start=today + timedelta(days=planned_start),
            planned_end=today + timedelta(days=planned_end),
            actual_start=_day(today, actual_start),
            actual_end=_day(today, actual_end),
            status=status,
        )
        activities = list(phase.activities.order_by("pk"))
        for index, (activity, (activity_status, due)) in enumerate(
            zip(activities, ACTIVITY_PLAN[phase.number], strict=False)
        ):
            owner = ACTIVITY_OWNERS[(phase.number + index) % len(ACTIVITY_OWNERS)]
            RoadmapActivity.objects.filter(pk=activity.pk).update(
                status=activity_status,
                due_on=today + timedelta(days=due),
                owner_id=users.get(owner),
            )
            if phase.number == 3 and index == 0 and scaled:
                activity.initiatives.set(scaled)
        for indicator in SuccessIndicator.objects.filter(phase=phase, computed_by=""):
            history = MANUAL_HISTORY.get(indicator.key, ())
            values = [
                IndicatorValue(
                    indicator=indicator,
                    on_date=today - timedelta(days=28 * (len(history) - 1 - position)),
                    value=Decimal(value),
                )
                for position, value in enumerate(history)
            ]
            IndicatorValue.objects.bulk_create(values)
            if history:
                SuccessIndicator.objects.filter(pk=indicator.pk).update(
                    current_value=Decimal(history[-1])
                )


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def _assess_barriers() -> int:
    """Score every barrier of the demo's live initiatives (about two in three of them)."""
    candidates = (
        Initiative.objects.filter(external_id__startswith="demo-", stage__in=ASSESSED_STAGES)
        .exclude(external_id__startswith="demo-scale-")
        .order_by("external_id")
        .values_list("pk", "external_id", "business_unit__code")
    )
    done = set(
        BarrierAssessment.objects.filter(initiative__external_id__startswith="demo-")
        .exclude(initiative__external_id__startswith="demo-scale-")
        .values_list("initiative_id", "barrier")
    )
    assessor = get_user_model().objects.filter(username="reviewer").first()
    rows = []
    for pk, external_id, code in candidates:
        rng = random.Random(f"{SEED}:{external_id}")
        if rng.random() < 0.33:
            continue
        bias = UNIT_BIAS.get(code, {})
        for barrier in Barrier.values:
            score = min(5, max(1, bias.get(barrier, 2) + rng.choice((-1, 0, 0, 1))))
            if (pk, barrier) in done:
                continue
            rows.append(
                BarrierAssessment(
                    initiative_id=pk,
                    barrier=barrier,
                    score=score,
                    note=NOTES[barrier] if score >= 4 else "",
                    assessed_by=assessor,
                )
            )
    BarrierAssessment.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
