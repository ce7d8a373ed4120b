"""The enterprise scaling roadmap: default phases, activities and success indicators; the
registry of computed indicators and their daily recomputation; the roadmap's reads.

Computed indicators are functions registered under a key (``register_indicator``); a
:class:`SuccessIndicator` whose ``computed_by`` names a registered key gets one
:class:`IndicatorValue` per day from :func:`indicators_recompute`. The portfolio registers its
own scaling metrics below; higher apps register theirs at start-up (governance's
``governance/indicators.py``), so this module never imports them. An indicator whose function
is not registered (GPU utilisation until usage is recorded) simply has no data.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import record_event
from core.choices import Role
from core.permissions import has_any_role
from core.services import apply_changes, snapshot
from portfolio.initiatives.models import Initiative
from portfolio.roadmap.choices import IndicatorDirection
from portfolio.roadmap.models import IndicatorValue, RoadmapActivity, RoadmapPhase, SuccessIndicator
from portfolio.scaling import metrics
from portfolio.scaling.selectors import barrier_assessment_coverage

ROADMAP_ADMIN_ROLES = frozenset({Role.COE_ADMIN, Role.ADMIN})

PHASE_FIELDS = (
    "description",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "status",
)

ACTIVITY_FIELDS = ("title", "owner", "due_on", "status")

MANUAL_INDICATOR_FIELDS = ("name", "description", "unit", "target", "direction", "current_value")

COMPUTED_INDICATOR_FIELDS = ("target",)

# How far back the roadmap and scaling pages draw indicator trends.
HISTORY_DAYS = 180

CENT = Decimal("0.01")

# Computed-indicator keys (``SuccessIndicator.computed_by``).
OWNER_CURRENT_TIER = "owner-current-tier"  # registered by governance

GPU_UTILISATION = "gpu-utilisation"  # registered by inventory once GPU usage is recorded

BARRIER_COVERAGE = "barrier-assessment-coverage"


def can_manage_roadmap(user) -> bool:
    """CoE admins (and administrators) plan the roadmap and enter manual indicators."""
    return has_any_role(user, ROADMAP_ADMIN_ROLES)


def _require_manager(actor) -> None:
    if not can_manage_roadmap(actor):
        raise PermissionDenied("Only CoE admins can change the roadmap.")


@dataclass(frozen=True)
class DefaultIndicator:
    key: str
    name: str
    unit: str
    target: str | None
    direction: str = IndicatorDirection.HIGHER_IS_BETTER
    computed_by: str = ""
    description: str = ""


@dataclass(frozen=True)
class DefaultPhase:
    number: int
    name: str
    duration: str
    description: str
    activities: tuple[str, ...]
    indicators: tuple[DefaultIndicator, ...]


LOWER = IndicatorDirection.LOWER_IS_BETTER

DEFAULT_PHASES = (
    DefaultPhase(
        1,
        "Assessment & Strategy",
        "≈ 2–3 months",
        "Know what AI the organisation runs and what stops it scaling; agree the strategy, "
        "the first governance framework and the target architecture.",
        (
            "Inventory existing AI initiatives and infrastructure",
            "Assess scaling barriers across business units",
            "Define the AI strategy",
            "Set up the initial governance framework and operating model",
            "Design the target architecture",
        ),
        (
            DefaultIndicator(
                OWNER_CURRENT_TIER,
                "Initiatives with an accountable owner and a current risk tier",
                "%",
                "100",
                computed_by=OWNER_CURRENT_TIER,
                description="Of the active initiatives past draft, the share whose accountable "
                "owner is an active user and that have a current risk assessment with a tier.",
            ),
            DefaultIndicator(
                BARRIER_COVERAGE,
                "Initiatives assessed on all six scaling barriers",
                "%",
                "80",
                computed_by=BARRIER_COVERAGE,
                description="Share of active initiatives past draft (not retired, rejected or "
                "merged) with a score on all six scaling barriers.",
            ),
        ),
    ),
    DefaultPhase(
        2,
        "Foundation Building",
        "≈ 3–6 months",
        "Build the shared platform, standards and team that let use cases be reused.",
        (
            "Deliver core platform capabilities",
            "Publish API standards",
            "Staff the Centre of Excellence",
            "Start a reusable component library",
            "Put basic governance processes and tooling in place",
        ),
        (
            DefaultIndicator(
                metrics.MEDIAN_DAYS,
                "Median days from registration to production",
                "days",
                "180",
                direction=LOWER,
                computed_by=metrics.MEDIAN_DAYS,
                description=metrics.MEDIAN_DAYS_DEFINITION,
            ),
            DefaultIndicator(
                "reusable-components",
                "Reusable components in the library",
                "components",
                "10",
                description="Components published for reuse across business units.",
            ),
        ),
    ),
    DefaultPhase(
        3,
        "Initial Scale",
        "≈ 6–12 months",
        "Scale the first high-value use cases across business units and measure it.",
        (
            "Scale 2–3 high-value use cases across several business units",
            "Automate compliance checks and monitoring",
            "Run the AI training programme",
            "Establish the metrics framework",
        ),
        (
            DefaultIndicator(
                metrics.PRODUCTION_TWO_UNITS,
                "Initiatives in production in ≥ 2 business units",
                "initiatives",
                "3",
                computed_by=metrics.PRODUCTION_TWO_UNITS,
                description=metrics.PRODUCTION_TWO_UNITS_DEFINITION,
            ),
            DefaultIndicator(
                metrics.SCALING_GAP,
                "Scaling gap",
                "%",
                "60",
                direction=LOWER,
                computed_by=metrics.SCALING_GAP,
                description=metrics.SCALING_GAP_DEFINITION,
            ),
            DefaultIndicator(
                metrics.CONVERSION,
                "Pilot → production conversion",
                "%",
                "50",
                computed_by=metrics.CONVERSION,
                description=metrics.CONVERSION_DEFINITION,
            ),
            DefaultIndicator(
                "people-trained",
                "People trained on responsible AI",
                "people",
                "500",
                description="From the training programme's records.",
            ),
        ),
    ),
    DefaultPhase(
        4,
        "Enterprise Transformation",
        "≈ 12–24 months",
        "Make scaling routine: one platform for the full range of needs, advanced governance "
        "for high-risk cases, and self-service for business units.",
        (
            "Extend the platform to the full range of needs",
            "Industrialise scaling across business units",
            "Introduce advanced governance for high-risk cases",
            "Open self-service for business units",
        ),
        (
            DefaultIndicator(
                GPU_UTILISATION,
                "GPU utilisation vs 70 % target",
                "%",
                "70",
                computed_by=GPU_UTILISATION,
                description="Average GPU utilisation across allocations; computed once GPU "
                "usage is recorded in Keel.",
            ),
            DefaultIndicator(
                "self-service-share",
                "New initiatives delivered through self-service",
                "%",
                "50",
                description="Share of this quarter's new initiatives built on the "
                "self-service platform.",
            ),
        ),
    ),
)


def roadmap_install_defaults() -> dict[str, int]:
    """Create whichever of the four default phases is missing, with its activities and
    indicators; return what was created.

    Idempotent: a phase is keyed by its number and its children are created only with it, so
    activities or indicators a CoE admin removed are not brought back. Safe beside a
    concurrent run: a phase someone else just created is skipped. A run that creates
    anything writes one ``roadmap.installed`` audit event (a system write).
    """
    created = {"phases": 0, "activities": 0, "indicators": 0}
    existing = set(RoadmapPhase.objects.values_list("number", flat=True))
    with transaction.atomic():
        for default in DEFAULT_PHASES:
            if default.number in existing:
                continue
            try:
                with transaction.atomic():
                    _install_phase(default, created)
            except IntegrityError:
                continue
        if created["phases"]:
            record_event(
                actor=None,
                action="roadmap.installed",
                object_type="portfolio.roadmapphase",
                object_id="defaults",
                after=created,
            )
    return created


def _install_phase(default: DefaultPhase, created: dict) -> None:
    phase = RoadmapPhase.objects.create(
        number=default.number,
        name=default.name,
        description=default.description,
        indicative_duration=default.duration,
    )
    RoadmapActivity.objects.bulk_create(
        RoadmapActivity(phase=phase, title=title) for title in default.activities
    )
    taken = set(
        SuccessIndicator.objects.filter(
            key__in=[indicator.key for indicator in default.indicators]
        ).values_list("key", flat=True)
    )
    indicators = [
        SuccessIndicator(
            phase=phase,
            key=indicator.key,
            name=indicator.name,
            description=indicator.description,
            unit=indicator.unit,
            target=Decimal(indicator.target) if indicator.target is not None else None,
            direction=indicator.direction,
            computed_by=indicator.computed_by,
        )
        for indicator in default.indicators
        if indicator.key not in taken
    ]
    SuccessIndicator.objects.bulk_create(indicators)
    created["phases"] += 1
    created["activities"] += len(default.activities)
    created["indicators"] += len(indicators)


# key -> function(initiatives queryset) -> number | MetricResult | None
INDICATOR_FUNCTIONS: dict[str, Callable] = {}


def register_indicator(key: str, function: Callable) -> None:
    """Register ``function(initiatives)`` as the computation of indicators whose
    ``computed_by`` is ``key``. It receives every initiative of the organisation and returns
    a number, a :class:`~portfolio.metrics.MetricResult`, or ``None`` for "no data"."""
    INDICATOR_FUNCTIONS[key] = function


def is_registered(key: str) -> bool:
    return key in INDICATOR_FUNCTIONS


def _as_decimal(result) -> Decimal | None:
    value = getattr(result, "value", result)
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def indicators_recompute(*, today: date | None = None, actor=None) -> dict[str, Decimal | None]:
    """Compute every registered indicator over the whole organisation and store today's value.

    One :class:`IndicatorValue` per indicator per day (``update_or_create`` on
    ``(indicator, on_date)``): a second run the same day replaces the value, never adds one.
    ``current_value`` follows. ``actor`` is the CoE admin who asked (None for the nightly
    task); the run is audited once. Returns ``{indicator key: value}``.
    """
    if actor is not None:
        _require_manager(actor)
    today = today or timezone.localdate()
    indicators = list(SuccessIndicator.objects.filter(computed_by__in=list(INDICATOR_FUNCTIONS)))
    everything = Initiative.objects.all()
    computed: dict[str, Decimal | None] = {}
    for key in sorted({indicator.computed_by for indicator in indicators}):
        computed[key] = _as_decimal(INDICATOR_FUNCTIONS[key](everything))
    results = {}
    with transaction.atomic():
        for indicator in indicators:
            value = computed[indicator.computed_by]
            IndicatorValue.objects.update_or_create(
                indicator=indicator, on_date=today, defaults={"value": value}
            )
            SuccessIndicator.objects.filter(pk=indicator.pk).update(current_value=value)
            results[indicator.key] = value
        if results:
            record_event(
                actor=actor,
                action="roadmap.indicators_recomputed",
                object_type="portfolio.successindicator",
                object_id=today.isoformat(),
                after={
                    key: None if value is None else str(value) for key, value in results.items()
                },
            )
    return results


def _register_portfolio_indicators() -> None:
    register_indicator(metrics.PRODUCTION_TWO_UNITS, metrics.production_in_two_units)
    register_indicator(metrics.SCALING_GAP, metrics.scaling_gap)
    register_indicator(metrics.CONVERSION, metrics.pilot_to_production_conversion)
    register_indicator(metrics.MEDIAN_DAYS, metrics.median_days_to_production)
    register_indicator(BARRIER_COVERAGE, barrier_assessment_coverage)


_register_portfolio_indicators()


def roadmap_phase_update(*, actor, phase: RoadmapPhase, data: dict) -> RoadmapPhase:
    """Change a phase's dates, status or description."""
    _require_manager(actor)
    with transaction.atomic():
        locked = RoadmapPhase.objects.select_for_update().get(pk=phase.pk)
        before, after = apply_changes(locked, data, PHASE_FIELDS)
        locked.full_clean()
        _check_dates(locked.actual_start, locked.actual_end, "actual_end")
        if after:
            locked.save()
            record_event(
                actor=actor,
                action="roadmap.phase_updated",
                target=locked,
                before=before,
                after=after,
            )
    return locked


def _check_dates(start, end, field_name: str) -> None:
    if start and end and end < start:
        raise ValidationError({field_name: "The end cannot be before the start."})


def _validate_activity(activity: RoadmapActivity) -> None:
    activity.full_clean(exclude=["phase"])
    if (
        activity.owner_id
        and not get_user_model().objects.filter(pk=activity.owner_id, is_active=True).exists()
    ):
        raise ValidationError({"owner": "The owner must be an active user."})


def _initiative_ids(initiatives) -> list[int]:
    return sorted(initiative.pk for initiative in initiatives)


def roadmap_activity_create(*, actor, phase: RoadmapPhase, data: dict) -> RoadmapActivity:
    """Add an activity to a phase; ``data["initiatives"]`` (optional) links initiatives."""
    _require_manager(actor)
    activity = RoadmapActivity(
        phase=phase, **{name: data[name] for name in ACTIVITY_FIELDS if name in data}
    )
    _validate_activity(activity)
    with transaction.atomic():
        activity.save()
        linked = list(data.get("initiatives") or [])
        activity.initiatives.set(linked)
        record_event(
            actor=actor,
            action="roadmap.activity_created",
            target=activity,
            after={
                "phase": phase.number,
                **snapshot(activity, ACTIVITY_FIELDS),
                "initiatives": _initiative_ids(linked),
            },
        )
    return activity


def roadmap_activity_update(*, actor, activity: RoadmapActivity, data: dict) -> RoadmapActivity:
    """Change an activity's title, owner, due date, status or linked initiatives."""
    _require_manager(actor)
    with transaction.atomic():
        locked = RoadmapActivity.objects.select_for_update().get(pk=activity.pk)
        before, after = apply_changes(locked, data, ACTIVITY_FIELDS)
        _validate_activity(locked)
        if "initiatives" in data:
            old = sorted(locked.initiatives.values_list("pk", flat=True))
            new = _initiative_ids(data["initiatives"] or [])
            if old != new:
                locked.initiatives.set(new)
                before["initiatives"], after["initiatives"] = old, new
        if after:
            locked.save()
            record_event(
                actor=actor,
                action="roadmap.activity_updated",
                target=locked,
                before=before,
                after=after,
            )
    return locked


def roadmap_activity_delete(*, actor, activity: RoadmapActivity) -> None:
    _require_manager(actor)
    with transaction.atomic():
        locked = RoadmapActivity.objects.select_for_update().filter(pk=activity.pk).first()
        if locked is None:
            return
        before = {
            "phase": locked.phase_id,
            **snapshot(locked, ACTIVITY_FIELDS),
            "initiatives": sorted(locked.initiatives.values_list("pk", flat=True)),
        }
        record_event(actor=actor, action="roadmap.activity_deleted", target=locked, before=before)
        locked.delete()


def indicator_update(*, actor, indicator: SuccessIndicator, data: dict) -> SuccessIndicator:
    """Change an indicator. Computed ones only take a new target; manual ones also their
    name, unit, direction and current value, which is stored as today's value in the history.
    """
    _require_manager(actor)
    fields = COMPUTED_INDICATOR_FIELDS if indicator.computed_by else MANUAL_INDICATOR_FIELDS
    refused = sorted(set(data) - set(fields))
    if refused:
        raise ValidationError(
            {name: "Only the target of a computed indicator can be changed." for name in refused}
        )
    with transaction.atomic():
        locked = SuccessIndicator.objects.select_for_update().get(pk=indicator.pk)
        before, after = apply_changes(locked, data, fields)
        locked.full_clean()
        if after:
            locked.save()
            if "current_value" in after:
                IndicatorValue.objects.update_or_create(
                    indicator=locked,
                    on_date=timezone.localdate(),
                    defaults={"value": locked.current_value},
                )
            record_event(
                actor=actor,
                action="roadmap.indicator_updated",
                target=locked,
                before=before,
                after=after,
            )
    return locked
