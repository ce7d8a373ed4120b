"""Scaling metrics of the portfolio, defined once in words and once in SQL.

Every metric takes an initiative queryset *already scoped* to the reader (so a BU lead sees
their units' figures) and returns a :class:`MetricResult`: the value, and the numerator and
denominator it was computed from. Counting is done by the database (conditional aggregates
over annotated subqueries); no metric loops over initiatives in Python. A metric with an
empty denominator has the value ``None`` ("no data"), never a division by zero.

The written definitions (``*_DEFINITION``) are shown beside the numbers in the UI and the
API; ``tests/portfolio/scaling/test_metrics.py`` checks each against hand-built data.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from portfolio.initiatives.choices import DeploymentStatus, Stage
from portfolio.initiatives.models import Deployment, Initiative, StageChange

PILOT_OR_BEYOND = (Stage.PILOT, Stage.PRODUCTION, Stage.SCALED)
PRODUCTION_OR_BEYOND = (Stage.PRODUCTION, Stage.SCALED)

COMMON_NOTE = "Initiatives merged into another are not counted: the survivor stands for them."

PRODUCTION_TWO_UNITS_DEFINITION = (
    "Initiatives live in production in at least two business units. A business unit counts "
    "when the initiative has a deployment there with status Production; the owning business "
    "unit also counts when the initiative's own stage is Production or Scaled. Shown as a "
    "count out of all initiatives in view."
)
SCALING_GAP_DEFINITION = (
    "Of the initiatives that ever reached pilot (moved to pilot or beyond at any time, or "
    "have a pilot start or production date), the share that are not in production in at "
    "least two business units today. Lower is better; 100 % means no pilot has scaled."
)
CONVERSION_DEFINITION = (
    "Of the initiatives that ever reached pilot, the share that ever reached production "
    "(moved to Production or Scaled at any time, or have a production date), including "
    "those since paused or retired."
)
MEDIAN_DAYS_DEFINITION = (
    "The median number of days from an initiative's registration in Keel to its production "
    "date, over the initiatives that reached production and have a production date on or "
    "after their registration day (initiatives registered after they went live, such as "
    "imported ones, are left out). With an even count, the mean of the two middle values. "
    "Lower is better."
)

HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class MetricResult:
    """A metric's value with what it was computed from.

    ``value`` is ``None`` when the denominator is empty. For shares, ``value`` is a
    percentage 0–100; for the median, ``numerator`` is ``None`` and ``denominator`` is the
    number of initiatives the median is taken over.
    """

    value: Decimal | None
    numerator: int | None
    denominator: int

    @property
    def has_data(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    name: str
    unit: str
    definition: str
    lower_is_better: bool
    numerator_label: str
    denominator_label: str


# --------------------------------------------------------------------------------------------
# SQL building blocks
# --------------------------------------------------------------------------------------------


class DaysBetween(Func):
    """Whole days from date ``start`` to date ``end`` (negative when ``end`` is earlier)."""

    output_field = IntegerField()
    arity = 2
    # SQLite (and the generic fallback) stores dates as ISO text: subtract Julian days.
    template = "CAST(julianday(%(end)s) - julianday(%(start)s) AS INTEGER)"
    # date - date is a whole number of days in PostgreSQL.
    postgresql_template = "(%(end)s - %(start)s)"

    def as_sql(self, compiler, connection, template=None, **extra_context):
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        sql = (template or self.template) % {"start": start_sql, "end": end_sql}
        # ``end`` comes first in both templates.
        return sql, (*end_params, *start_params)

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template=self.postgresql_template)


class PercentileMedian(Aggregate):
    """PostgreSQL's continuous median: ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileMedian"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def production_unit_count():
    """Distinct business units where the initiative is in production (see the definition).

    Deployments are unique per (initiative, unit), so counting rows counts units. The owning
    unit counts once, whether through its stage or a production deployment of its own.
    """
    production = Deployment.objects.filter(
        initiative=OuterRef("pk"), status=DeploymentStatus.PRODUCTION
    )
    other_units = (
        production.exclude(business_unit=OuterRef("business_unit"))
        .order_by()
        .values("initiative")
        .annotate(units=Count("pk"))
        .values("units")
    )
    own_unit = production.filter(business_unit=OuterRef("business_unit"))
    owner_live = Case(
        When(Q(stage__in=PRODUCTION_OR_BEYOND) | Q(Exists(own_unit)), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return Coalesce(Subquery(other_units, output_field=IntegerField()), Value(0)) + owner_live


def _reached(stages, *date_fields) -> ExpressionWrapper:
    """True when the initiative is in, or ever moved to, one of ``stages``, or has a date."""
    moved = StageChange.objects.filter(initiative=OuterRef("pk"), to_stage__in=stages)
    condition = Q(stage__in=stages) | Q(Exists(moved))
    for name in date_fields:
        condition |= Q(**{f"{name}__isnull": False})
    return ExpressionWrapper(condition, output_field=BooleanField())


def with_scaling_facts(initiatives: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Annotate ``production_units``, ``reached_pilot``, ``reached_production`` and
    ``days_to_production`` (``None`` without a production date), leaving out merged ones."""
    return initiatives.filter(merged_into__isnull=True).annotate(
        production_units=production_unit_count(),
        reached_pilot=_reached(PILOT_OR_BEYOND, "pilot_started_on", "production_on"),
        reached_production=_reached(PRODUCTION_OR_BEYOND, "production_on"),
        days_to_production=DaysBetween(TruncDate("created_at"), F("production_on")),
    )


# The sets behind each figure, as filters on ``with_scaling_facts`` querysets.
# Scaled means in production in at least this many business units: the one definition the
# metrics, the dashboard and the selectors share.
SCALED_UNIT_COUNT = 2
IN_TWO_UNITS = Q(production_units__gte=SCALED_UNIT_COUNT)
REACHED_PILOT = Q(reached_pilot=True)
REACHED_PRODUCTION = Q(reached_production=True)
MEDIAN_SAMPLE = Q(reached_production=True, production_on__isnull=False, days_to_production__gte=0)


def share(numerator: int, denominator: int) -> Decimal | None:
    """``numerator`` as a percentage of ``denominator``, to the hundredth; None over zero."""
    if not denominator:
        return None
    return (Decimal(100) * numerator / denominator).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def metric_counts(initiatives: QuerySet[Initiative], **extra_aggregates) -> dict[str, int]:
    """Every count the share metrics need, in one query; ``extra_aggregates`` are computed
    in the same query (the dashboard adds its per-stage, per-tier and trend counts)."""
    return with_scaling_facts(initiatives).aggregate(
        # Aliases differ from the annotations they count (Django refuses the clash).
        total=Count("pk"),
        in_two_units_count=Count("pk", filter=IN_TWO_UNITS),
        reached_pilot_count=Count("pk", filter=REACHED_PILOT),
        pilot_not_scaled_count=Count("pk", filter=REACHED_PILOT & ~IN_TWO_UNITS),
        pilot_to_production_count=Count("pk", filter=REACHED_PILOT & REACHED_PRODUCTION),
        **extra_aggregates,
    )


# --------------------------------------------------------------------------------------------
# The metrics
# --------------------------------------------------------------------------------------------


def production_in_two_units(
    initiatives: QuerySet[Initiative], *, counts: dict | None = None
) -> MetricResult:
    counts = counts or metric_counts(initiatives)
    total = counts["total"]
    value = Decimal(counts["in_two_units_count"]) if total else None
    return MetricResult(value, counts["in_two_units_count"], total)


def scaling_gap(initiatives: QuerySet[Initiative], *, counts: dict | None = None) -> MetricResult:
    counts = counts or metric_counts(initiatives)
    numerator, denominator = counts["pilot_not_scaled_count"], counts["reached_pilot_count"]
    return MetricResult(share(numerator, denominator), numerator, denominator)


def pilot_to_production_conversion(
    initiatives: QuerySet[Initiative], *, counts: dict | None = None
) -> MetricResult:
    counts = counts or metric_counts(initiatives)
    numerator, denominator = counts["pilot_to_production_count"], counts["reached_pilot_count"]
    return MetricResult(share(numerator, denominator), numerator, denominator)


def median_days_to_production(initiatives: QuerySet[Initiative]) -> MetricResult:
    """PostgreSQL computes ``percentile_cont`` in one query; elsewhere the database counts
    the sample and returns only its one or two middle values (ordered, with OFFSET)."""
    sample = with_scaling_facts(initiatives).filter(MEDIAN_SAMPLE)
    if connection.vendor == "postgresql":
        result = sample.aggregate(size=Count("pk"), median=PercentileMedian("days_to_production"))
        size, median = result["size"], result["median"]
    else:
        size = sample.count()
        median = None
        if size:
            low = (size - 1) // 2
            high = size // 2
            middle = list(
                sample.order_by("days_to_production", "pk").values_list(
                    "days_to_production", flat=True
                )[low : high + 1]
            )
            median = sum(middle) / len(middle)
    if not size or median is None:
        return MetricResult(None, None, size or 0)
    value = Decimal(str(median)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return MetricResult(value, None, size)


# --------------------------------------------------------------------------------------------
# The catalogue: what the scaling page, the API and the roadmap indicators show
# --------------------------------------------------------------------------------------------

PRODUCTION_TWO_UNITS = "production-two-units"
SCALING_GAP = "scaling-gap"
CONVERSION = "pilot-to-production"
MEDIAN_DAYS = "median-days-to-production"

METRICS: dict[str, MetricDefinition] = {
    PRODUCTION_TWO_UNITS: MetricDefinition(
        PRODUCTION_TWO_UNITS,
        "Initiatives in production in ≥ 2 business units",
        "initiatives",
        PRODUCTION_TWO_UNITS_DEFINITION,
        lower_is_better=False,
        numerator_label="in production in ≥ 2 units",
        denominator_label="initiatives",
    ),
    SCALING_GAP: MetricDefinition(
        SCALING_GAP,
        "Scaling gap",
        "%",
        SCALING_GAP_DEFINITION,
        lower_is_better=True,
        numerator_label="reached pilot, not in production in ≥ 2 units",
        denominator_label="reached pilot",
    ),
    CONVERSION: MetricDefinition(
        CONVERSION,
        "Pilot → production conversion",
        "%",
        CONVERSION_DEFINITION,
        lower_is_better=False,
        numerator_label="reached pilot and production",
        denominator_label="reached pilot",
    ),
    MEDIAN_DAYS: MetricDefinition(
        MEDIAN_DAYS,
        "Median days from registration to production",
        "days",
        MEDIAN_DAYS_DEFINITION,
        lower_is_better=True,
        numerator_label="",
        denominator_label="initiatives in production",
    ),
}

# The sets a drill-down lists: (numerator, denominator) filters per metric.
MEMBERS: dict[str, tuple[Q | None, Q]] = {
    PRODUCTION_TWO_UNITS: (IN_TWO_UNITS, Q()),
    SCALING_GAP: (REACHED_PILOT & ~IN_TWO_UNITS, REACHED_PILOT),
    CONVERSION: (REACHED_PILOT & REACHED_PRODUCTION, REACHED_PILOT),
    MEDIAN_DAYS: (None, MEDIAN_SAMPLE),
}


def scaling_metrics(initiatives: QuerySet[Initiative]) -> dict[str, MetricResult]:
    """All four metrics for the scaling page and the API: two or three queries in all."""
    counts = metric_counts(initiatives)
    return {
        PRODUCTION_TWO_UNITS: production_in_two_units(initiatives, counts=counts),
        SCALING_GAP: scaling_gap(initiatives, counts=counts),
        CONVERSION: pilot_to_production_conversion(initiatives, counts=counts),
        MEDIAN_DAYS: median_days_to_production(initiatives),
    }


def metric_members(
    initiatives: QuerySet[Initiative], *, key: str, part: str
) -> QuerySet[Initiative]:
    """The initiatives counted in a metric's ``part`` ("numerator" or "denominator").

    Raises ``KeyError`` for an unknown metric or a part the metric does not have.
    """
    numerator, denominator = MEMBERS[key]
    condition = {"numerator": numerator, "denominator": denominator}[part]
    if condition is None:
        raise KeyError(part)
    return with_scaling_facts(initiatives).filter(condition)
