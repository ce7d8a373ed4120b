"""Reads of scaling: per-initiative barrier rows, the barrier heatmap, assessment coverage,
and the production-unit count behind "scaled"."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core import charts
from portfolio.initiatives.choices import ENDED_STAGES
from portfolio.initiatives.models import Initiative
from portfolio.initiatives.selectors import initiative_list, live_initiatives, scope_initiatives
from portfolio.scaling.choices import Barrier
from portfolio.scaling.metrics import SCALED_UNIT_COUNT, MetricResult, production_unit_count
from portfolio.scaling.models import BarrierAssessment
from portfolio.scaling.services import HEATMAP_DEFINITION, HEATMAP_TITLE


def barrier_assessment_list(*, user) -> QuerySet[BarrierAssessment]:
    """Assessments of the initiatives the user may see."""
    visible = scope_initiatives(Initiative.objects.all(), user)
    return BarrierAssessment.objects.filter(initiative__in=visible.values("pk")).select_related(
        "initiative", "initiative__business_unit", "assessed_by"
    )


@dataclass(frozen=True)
class BarrierRow:
    barrier: str
    label: str
    assessment: BarrierAssessment | None


def initiative_barrier_rows(*, initiative: Initiative) -> list[BarrierRow]:
    """The six barriers in their fixed order, each with the initiative's assessment or None."""
    found = {
        assessment.barrier: assessment
        for assessment in initiative.barriers.select_related("assessed_by")
    }
    return [BarrierRow(value, label, found.get(value)) for value, label in Barrier.choices]


@dataclass
class HeatmapRow:
    unit_id: int | None
    name: str
    code: str
    cells: list = field(default_factory=list)  # one HeatmapCell per barrier, in Barrier order


@dataclass(frozen=True)
class HeatmapCell:
    average: Decimal | None
    assessments: int
    initiatives: int


@dataclass
class Heatmap:
    barriers: list[tuple[str, str]]
    rows: list[HeatmapRow]
    overall: HeatmapRow

    @property
    def is_empty(self) -> bool:
        return not self.rows


def heatmap_chart(heatmap: Heatmap, *, title: str = HEATMAP_TITLE):
    """The heatmap as SVG (one row per unit, then all units), for the barrier page, the
    dashboard and the board pack; ``None`` when nothing has been assessed."""
    if heatmap.is_empty:
        return None
    rows = [*heatmap.rows, heatmap.overall]
    return charts.heatmap(
        title=title,
        rows=[row.name for row in rows],
        columns=[label for _, label in heatmap.barriers],
        values=[[cell.average for cell in row.cells] for row in rows],
        notes=[
            [
                f"{cell.assessments} assessment{'s' if cell.assessments != 1 else ''}"
                for cell in row.cells
            ]
            for row in rows
        ],
        legend="1 = minor barrier, 5 = severe",
        description=HEATMAP_DEFINITION,
    )


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def barrier_heatmap(*, user, business_unit=None) -> Heatmap:
    """Average score per owning business unit × barrier over the initiatives the user may
    see (only those ``business_unit`` owns, when given), plus an all-units row; one
    aggregate query."""
    visible = scope_initiatives(Initiative.objects.all(), user).filter(merged_into__isnull=True)
    if business_unit is not None:
        visible = visible.filter(business_unit_id=getattr(business_unit, "pk", business_unit))
    grouped = (
        BarrierAssessment.objects.filter(initiative__in=visible.values("pk"))
        .exclude(initiative__stage__in=ENDED_STAGES)
        .values(
            "initiative__business_unit_id",
            "initiative__business_unit__name",
            "initiative__business_unit__code",
            "barrier",
        )
        .annotate(
            total=Sum("score"),
            assessments=Count("pk"),
            initiatives=Count("initiative", distinct=True),
        )
        .order_by("initiative__business_unit__name", "initiative__business_unit_id")
    )
    barriers = list(Barrier.choices)
    rows: dict[int, HeatmapRow] = {}
    sums = {value: [0, 0, 0] for value, _ in barriers}  # total, assessments, initiatives
    cells: dict[tuple[int, str], HeatmapCell] = {}
    for group in grouped:
        unit_id = group["initiative__business_unit_id"]
        if unit_id not in rows:
            rows[unit_id] = HeatmapRow(
                unit_id,
                group["initiative__business_unit__name"],
                group["initiative__business_unit__code"],
            )
        cells[unit_id, group["barrier"]] = HeatmapCell(
            _average(group["total"], group["assessments"]),
            group["assessments"],
            group["initiatives"],
        )
        running = sums[group["barrier"]]
        running[0] += group["total"]
        running[1] += group["assessments"]
        running[2] += group["initiatives"]
    empty = HeatmapCell(None, 0, 0)
    for unit_id, row in rows.items():
        row.cells = [cells.get((unit_id, value), empty) for value, _ in barriers]
    # Over the rows shown: a business-unit reader's own units, not the organisation.
    overall = HeatmapRow(None, "All units shown", "ALL")
    overall.cells = [
        HeatmapCell(_average(total, count), count, initiatives)
        for total, count, initiatives in (sums[value] for value, _ in barriers)
    ]
    return Heatmap(barriers=barriers, rows=list(rows.values()), overall=overall)


def barrier_assessment_coverage(initiatives: QuerySet[Initiative]) -> MetricResult:
    """The coverage indicator (see ``COVERAGE_DEFINITION``), in one aggregate query."""
    assessed = (
        BarrierAssessment.objects.filter(initiative=OuterRef("pk"))
        .order_by()
        .values("initiative")
        .annotate(barriers=Count("barrier", distinct=True))
        .values("barriers")
    )
    active = live_initiatives(initiatives).annotate(
        barriers_assessed=Coalesce(Subquery(assessed, output_field=IntegerField()), Value(0))
    )
    counts = active.aggregate(
        total=Count("pk"),
        covered=Count("pk", filter=Q(barriers_assessed__gte=len(Barrier.values))),
    )
    total, covered = counts["total"], counts["covered"]
    value = (
        (Decimal(100) * covered / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        if total
        else None
    )
    return MetricResult(value, covered, total)


def with_production_unit_count(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Annotate ``production_units``: how many business units run the initiative in
    production, by the one definition the scaling metrics use
    (``metrics.production_unit_count``)."""
    return queryset.annotate(production_units=production_unit_count())


def initiatives_in_production_in_units(
    *, user, minimum: int = SCALED_UNIT_COUNT
) -> QuerySet[Initiative]:
    """Visible initiatives in production in at least ``minimum`` business units."""
    return with_production_unit_count(initiative_list(user=user)).filter(
        production_units__gte=minimum
    )
