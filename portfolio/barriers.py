"""Scaling-barrier assessments: the write (``barrier_assess``), the reads behind the
per-initiative form and the BU × barrier heatmap, and the coverage indicator.

Each initiative scores each of the six barriers 1–5 (5 = severe) with a note. The heatmap
averages the scores per owning business unit and barrier in one aggregate query, over the
initiatives the reader may see.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core import charts
from core.audit import record_event
from core.choices import Role
from core.permissions import has_any_role

from .choices import ENDED_STAGES, Barrier, Stage
from .metrics import MetricResult
from .models import BarrierAssessment, Initiative
from .permissions import can_edit_initiative
from .selectors import scope_initiatives

SCORES = range(1, 6)
SCORE_LABELS = {1: "minor", 2: "low", 3: "moderate", 4: "high", 5: "severe"}
# Besides the initiative's own editors, CoE staff assess barriers across business units.
BARRIER_ASSESSOR_ROLES = frozenset({Role.COE_REVIEWER, Role.COE_ADMIN, Role.ADMIN})

HEATMAP_DEFINITION = (
    "Average barrier score (1 = minor, 5 = severe) of the assessed initiatives each business "
    "unit owns, per barrier. Retired, rejected and merged initiatives are left out; an empty "
    "cell means no initiative of that unit has been assessed on that barrier."
)
COVERAGE_DEFINITION = (
    "Share of active initiatives past draft (not retired, rejected or merged) with a score "
    "on all six scaling barriers."
)


def can_assess_barriers(user, initiative: Initiative) -> bool:
    return can_edit_initiative(user, initiative) or has_any_role(user, BARRIER_ASSESSOR_ROLES)


# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------


def _validated(barrier, score) -> tuple[str, int]:
    if barrier not in Barrier.values:
        raise ValidationError({"barrier": f"Unknown barrier {barrier!r}."})
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise ValidationError({"score": "Score the barrier from 1 (minor) to 5 (severe)."})
    return barrier, score


def barrier_assess(
    *, actor, initiative: Initiative, barrier: str, score: int, note: str = ""
) -> BarrierAssessment:
    """Record (or change) the initiative's score and note on one barrier.

    Allowed to the initiative's editors and CoE staff. Writes one ``barrier.assessed`` audit
    event when something changed, none when the score and note are the same.
    """
    barrier, score = _validated(barrier, score)
    if not can_assess_barriers(actor, initiative):
        raise PermissionDenied("You cannot assess this initiative's scaling barriers.")
    note = (note or "").strip()
    with transaction.atomic():
        locked = _locked(initiative, barrier)
        if locked is None:
            try:
                with transaction.atomic():
                    created = BarrierAssessment.objects.create(
                        initiative=initiative,
                        barrier=barrier,
                        score=score,
                        note=note,
                        assessed_by=actor,
                    )
            except IntegrityError:
                # Someone assessed the same barrier meanwhile: change theirs instead.
                locked = _locked(initiative, barrier)
            else:
                _record(actor, created, before={}, after={"score": score, "note": note})
                return created
        if (locked.score, locked.note) == (score, note):
            return locked
        before = {"score": locked.score, "note": locked.note}
        locked.score, locked.note, locked.assessed_by = score, note, actor
        locked.save(update_fields=["score", "note", "assessed_by", "assessed_at"])
        _record(actor, locked, before=before, after={"score": score, "note": note})
        return locked


def barriers_assess(*, actor, initiative: Initiative, scores: dict) -> list[BarrierAssessment]:
    """Assess several barriers at once (the form's six rows), all or nothing.

    ``scores`` maps a barrier to ``(score, note)``; barriers left out are not touched.
    """
    with transaction.atomic():
        return [
            barrier_assess(actor=actor, initiative=initiative, barrier=barrier, score=s, note=n)
            for barrier, (s, n) in scores.items()
        ]


def _locked(initiative, barrier) -> BarrierAssessment | None:
    return (
        BarrierAssessment.objects.select_for_update()
        .filter(initiative=initiative, barrier=barrier)
        .first()
    )


def _record(actor, assessment: BarrierAssessment, *, before: dict, after: dict) -> None:
    record_event(
        actor=actor,
        action="barrier.assessed",
        target=assessment,
        before=before,
        after={"initiative": assessment.initiative_id, "barrier": assessment.barrier, **after},
    )


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


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


HEATMAP_TITLE = "Average scaling-barrier score by business unit"


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
    active = (
        initiatives.filter(merged_into__isnull=True)
        .exclude(stage__in=[*ENDED_STAGES, Stage.DRAFT])
        .annotate(
            barriers_assessed=Coalesce(Subquery(assessed, output_field=IntegerField()), Value(0))
        )
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
