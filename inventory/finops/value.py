"""Value against cost: each initiative's ROI and the portfolio's value and cost, in one place.

The one definition (shown on the dashboard's definitions page as ``ROI_DEFINITION``):

* **value** per year = the realised annual value when one is recorded, else the expected
  annual value; none of either: no value (ROI "no data");
* **cost** per year = the expected annual (run) cost, taken as the cost *other than* GPUs,
  plus the GPU chargeback of the last ``COST_MONTHS`` months (the current month included):
  every ``ChargebackLine`` attributed to the initiative — direct cost, credits, tax and
  corrections, and orphaned cost — in the initiative's currency. Shares of idle and shared
  cost belong to business units, not initiatives, and are not in it;
* **ROI** = (value − cost) / cost, as a percentage rounded half-up to 0.1; no cost (zero or
  nothing recorded): no ROI.

Readers who do not see the whole organisation see only their own units' chargeback lines
(as everywhere else in FinOps), so an initiative deployed to their unit counts only the GPU
cost their unit carries. Every read here is one query, whatever the number of initiatives.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.periods import month_start
from core.permissions import visible_business_unit_ids
from inventory.finops.models import ChargebackLine
from portfolio.initiatives.choices import ENDED_STAGES, Stage
from portfolio.initiatives.models import Initiative

COST_MONTHS = 12

ZERO = Decimal(0)

MONEY = DecimalField(max_digits=24, decimal_places=6)

# Stages whose initiatives count in the portfolio's value and cost (and the list of those
# with cost but no value evidence): not draft, retired or rejected; merged ones are left out.
INACTIVE_STAGES = (Stage.DRAFT, *sorted(ENDED_STAGES))

ROI_DEFINITION = (
    "ROI per initiative = (value − cost) ÷ cost, as a percentage rounded to 0.1. Value per "
    "year: the realised annual value when one is recorded (with the date it was measured and "
    "a link to the evidence), else the expected annual value. Cost per year: the expected "
    "annual run cost (everything but GPUs) plus the GPU chargeback of the last "
    f"{COST_MONTHS} months, the current month included — every chargeback line attributed "
    "to the initiative (direct cost, credits, tax and corrections, orphaned cost) in the "
    "initiative's currency; shares of idle and shared cost belong to business units and are "
    "not in it. No value or no cost (zero): no ROI. Business-unit readers count only their "
    "own units' chargeback lines."
)

VALUE_BY_DEFINITION = (
    "Active initiatives (not draft, retired, rejected or merged), per business unit and per "
    "roadmap phase: the sum of their value per year (realised, else expected) against the "
    "sum of their cost per year (expected run cost plus the GPU chargeback of the last "
    f"{COST_MONTHS} months), per currency, and ROI = (total value − total cost) ÷ total "
    "cost. Initiatives without a value count in the cost only. Without evidence: active "
    "initiatives with a cost but no realised value backed by an evidence link; the list of "
    "them is behind the link. " + ROI_DEFINITION
)


def cost_window_start(today: datetime.date) -> datetime.date:
    """The first day of the oldest chargeback month counted (``COST_MONTHS`` months ending
    with the current one)."""
    year, month = today.year, today.month - (COST_MONTHS - 1)
    while month <= 0:
        month += 12
        year -= 1
    return datetime.date(year, month, 1)


def roi_percent(value: Decimal | None, cost: Decimal | None) -> Decimal | None:
    """(value − cost) / cost as a percentage, 0.1 half-up; None without a value or a cost."""
    if value is None or cost is None or cost <= 0:
        return None
    return ((value - cost) * 100 / cost).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _gpu_cost(*, user, today: datetime.date) -> Coalesce:
    lines = ChargebackLine.objects.filter(
        initiative=OuterRef("pk"),
        chargeback__month__gte=cost_window_start(today),
        chargeback__month__lte=month_start(today),
        chargeback__currency=OuterRef("currency"),
    )
    units = visible_business_unit_ids(user)
    if units is not None:
        lines = lines.filter(business_unit_id__in=units)
    total = lines.order_by().values("initiative").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_value(queryset: QuerySet[Initiative], *, user, today=None) -> QuerySet[Initiative]:
    """``queryset`` annotated with ``gpu_cost``, ``value`` (realised, else expected) and
    ``cost`` (expected run cost + GPU chargeback), all per year, as defined above."""
    today = today or timezone.localdate()
    return queryset.annotate(
        gpu_cost=_gpu_cost(user=user, today=today),
        value=Coalesce(F("realised_value"), F("expected_annual_value"), output_field=MONEY),
        cost=ExpressionWrapper(
            Coalesce(F("expected_annual_cost"), Value(ZERO), output_field=MONEY) + F("gpu_cost"),
            output_field=MONEY,
        ),
    )


def active(queryset: QuerySet[Initiative]) -> QuerySet[Initiative]:
    return queryset.exclude(stage__in=INACTIVE_STAGES).filter(merged_into__isnull=True)


WITHOUT_EVIDENCE = Q(realised_value__isnull=True) | Q(value_evidence_url="")


@dataclass(frozen=True)
class InitiativeValue:
    """One initiative's value, cost and ROI per year (see the module docstring)."""

    currency: str
    value: Decimal | None
    basis: str  # "realised", "expected" or "" (no value)
    realised_as_of: datetime.date | None
    evidence_url: str
    run_cost: Decimal | None  # the expected annual cost as entered
    gpu_cost: Decimal  # chargeback of the last COST_MONTHS months
    cost: Decimal
    roi: Decimal | None  # percent
    window_start: datetime.date

    @property
    def net(self) -> Decimal | None:
        return None if self.value is None else self.value - self.cost

    @property
    def has_evidence(self) -> bool:
        return self.basis == "realised" and bool(self.evidence_url)


def initiative_value(initiative: Initiative, *, user, today=None) -> InitiativeValue:
    """The ROI of one initiative the caller has already resolved through a scoped selector
    (one query: its GPU chargeback, masked to the reader's units)."""
    today = today or timezone.localdate()
    gpu_cost = (
        with_value(Initiative.objects.filter(pk=initiative.pk), user=user, today=today)
        .values_list("gpu_cost", flat=True)
        .first()
    ) or ZERO
    gpu_cost = Decimal(gpu_cost).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if initiative.realised_value is not None:
        value, basis = initiative.realised_value, "realised"
    elif initiative.expected_annual_value is not None:
        value, basis = initiative.expected_annual_value, "expected"
    else:
        value, basis = None, ""
    cost = (initiative.expected_annual_cost or ZERO) + gpu_cost
    return InitiativeValue(
        currency=initiative.currency,
        value=value,
        basis=basis,
        realised_as_of=initiative.realised_value_as_of,
        evidence_url=initiative.value_evidence_url,
        run_cost=initiative.expected_annual_cost,
        gpu_cost=gpu_cost,
        cost=cost,
        roi=roi_percent(value, cost),
        window_start=cost_window_start(today),
    )


def value_totals(queryset: QuerySet[Initiative], *, user, today=None) -> list[dict]:
    """Active initiatives of ``queryset`` (already scoped) grouped by business unit, roadmap
    phase and currency: ``initiatives``, ``value``, ``run_cost``, ``gpu_cost``, ``cost`` and
    ``without_evidence`` (with a cost but no evidenced realised value). One query."""
    rows = (
        with_value(active(queryset), user=user, today=today)
        .order_by()
        .values("business_unit", "business_unit__name", "roadmap_phase", "currency")
        .annotate(
            initiatives=Count("pk"),
            value_total=Coalesce(Sum("value"), Value(ZERO), output_field=MONEY),
            run_cost_total=Coalesce(Sum("expected_annual_cost"), Value(ZERO), output_field=MONEY),
            gpu_cost_total=Sum("gpu_cost"),
            cost_total=Sum("cost"),
            without_evidence=Count("pk", filter=WITHOUT_EVIDENCE & Q(cost__gt=0)),
        )
    )
    return [
        {
            "business_unit": row["business_unit"],
            "unit_name": row["business_unit__name"],
            "roadmap_phase": row["roadmap_phase"],
            "currency": row["currency"],
            "initiatives": row["initiatives"],
            "value": Decimal(row["value_total"]),
            "run_cost": Decimal(row["run_cost_total"]),
            "gpu_cost": Decimal(row["gpu_cost_total"] or ZERO),
            "cost": Decimal(row["cost_total"] or ZERO),
            "without_evidence": row["without_evidence"],
        }
        for row in rows
    ]


def without_value_evidence(queryset: QuerySet[Initiative], *, user, today=None):
    """Active initiatives of ``queryset`` (already scoped) that cost something (run cost or
    GPU chargeback) but have no realised value with an evidence link, costliest first."""
    return (
        with_value(active(queryset), user=user, today=today)
        .filter(WITHOUT_EVIDENCE, cost__gt=0)
        .select_related("business_unit", "accountable_owner")
        .order_by("-cost", "reference")
    )
