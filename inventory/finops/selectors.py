"""Reads of the GPU chargeback and findings, scoped to what the user may see.

Organisation-wide readers (platform engineers, CoE, risk, executives, administrators) see
every business unit's figures, the orphaned, unattributed and separately kept amounts and the
grand total. Other users see only their own units' rows (their direct cost, shares,
adjustments and orphaned cost); organisation-level totals are not shown to them, since they
would reveal other units' figures. Every read is a constant number of aggregate queries.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404

from core.models import BusinessUnit
from core.periods import month_start
from core.permissions import visible_business_unit_ids
from inventory.finops.choices import OPEN_FINDING_STATUSES
from inventory.finops.models import ChargebackLine, ChargebackMonth, Finding
from inventory.usage.choices import CostCategory
from inventory.usage.models import CostRecord

Kind = ChargebackLine.Kind
ZERO = Decimal(0)
BU_COLUMNS = ("direct", "idle_share", "shared_share", "adjustments")


def chargeback_get(*, month: datetime.date) -> ChargebackMonth | None:
    """The month's chargeback row, or None when it was never computed (any signed-in user
    may see that a month exists; its figures are scoped by the functions below)."""
    return ChargebackMonth.objects.filter(month=month_start(month)).first()


def chargeback_by_bu(chargeback: ChargebackMonth, actor) -> dict:
    """Per unit: direct, idle share, shared share, adjustments, total (and orphaned, shown
    apart); plus, for organisation-wide readers, orphaned, unattributed and separately kept
    totals and the grand total (which reconciles with the imported cost)."""
    units = visible_business_unit_ids(actor)
    rows = (
        ChargebackLine.objects.filter(chargeback=chargeback)
        .values("business_unit", "kind")
        .annotate(total=Sum("amount"), hours=Sum("gpu_hours"))
        .order_by()
    )
    per_unit: dict[int, dict] = defaultdict(
        lambda: {**{name: ZERO for name in BU_COLUMNS}, "orphaned": ZERO, "gpu_hours": ZERO}
    )
    totals = {
        "orphaned": ZERO,
        "unattributed": ZERO,
        "unattributed_adjustments": ZERO,
        "idle_separate": ZERO,
        "shared_separate": ZERO,
        "grand_total": ZERO,
    }
    column = {
        Kind.DIRECT: "direct",
        Kind.IDLE_SHARE: "idle_share",
        Kind.SHARED_SHARE: "shared_share",
        Kind.ADJUSTMENT: "adjustments",
        Kind.ORPHANED: "orphaned",
    }
    for row in rows:
        unit, kind, amount = row["business_unit"], row["kind"], row["total"] or ZERO
        totals["grand_total"] += amount
        if kind == Kind.ORPHANED:
            totals["orphaned"] += amount
        if unit is None:
            if kind == Kind.ADJUSTMENT:
                totals["unattributed_adjustments"] += amount
            elif kind == Kind.IDLE:
                totals["idle_separate"] += amount
            elif kind == Kind.SHARED_SHARE:
                totals["shared_separate"] += amount
            elif kind != Kind.ORPHANED:
                totals["unattributed"] += amount
            continue
        if units is not None and unit not in units:
            continue
        entry = per_unit[unit]
        entry[column.get(kind, "adjustments")] += amount
        if kind in (Kind.DIRECT, Kind.ORPHANED):
            entry["gpu_hours"] += row["hours"] or ZERO
    names = BusinessUnit.objects.filter(pk__in=list(per_unit)).only("pk", "name", "code")
    table = []
    for business_unit in names:
        entry = per_unit[business_unit.pk]
        entry["total"] = sum((entry[name] for name in BU_COLUMNS), ZERO)
        table.append({"business_unit": business_unit, **entry})
    table.sort(key=lambda row: (row["business_unit"].name, row["business_unit"].pk))
    result = {
        "rows": table,
        "bu_total": sum((row["total"] for row in table), ZERO),
        "whole_organisation": units is None,
    }
    if units is None:
        result.update(totals)
    else:
        result["orphaned"] = sum((row["orphaned"] for row in table), ZERO)
    return result


def chargeback_summary(chargeback: ChargebackMonth, actor) -> dict | None:
    """Reconciliation for organisation-wide readers: imported GPU cost of the month (all but
    NON_GPU), rate-based cost, the NON_GPU records left out, and whether cost was imported
    after the figures were computed (an open month to recompute). None for others."""
    if visible_business_unit_ids(actor) is not None:
        return None
    records = CostRecord.objects.filter(month=chargeback.month)
    gpu = ~Q(category=CostCategory.NON_GPU)
    figures = records.aggregate(
        imported_gpu=Sum("effective_cost", filter=gpu, default=ZERO),
        billed_gpu=Sum("billed_cost", filter=gpu, default=ZERO),
        gpu_records=Count("pk", filter=gpu),
        non_gpu_total=Sum("effective_cost", filter=~gpu, default=ZERO),
        non_gpu_records=Count("pk", filter=~gpu),
    )
    figures["rate_based"] = ChargebackLine.objects.filter(
        chargeback=chargeback, source=ChargebackLine.Source.RATE
    ).aggregate(total=Sum("amount", default=ZERO))["total"]
    figures["expected_total"] = figures["imported_gpu"] + figures["rate_based"]
    figures["stale"] = bool(
        chargeback.computed_at
        and records.filter(batch__created_at__gt=chargeback.computed_at).exists()
    )
    return figures


def _unit_visible(actor, business_unit) -> bool:
    units = visible_business_unit_ids(actor)
    return units is None or business_unit.pk in units


def chargeback_drilldown(chargeback: ChargebackMonth, business_unit, actor) -> dict:
    """One unit's month: initiatives → allocations → lines, the lines of no initiative
    (business-unit-only cost, shares, adjustments), and the cost records behind them
    aggregated per allocation, resource and category. 404 for a unit the user cannot see."""
    if not _unit_visible(actor, business_unit):
        raise Http404("No such business unit.")
    lines = (
        ChargebackLine.objects.filter(chargeback=chargeback, business_unit=business_unit)
        .select_related("initiative", "allocation__pool__gpu_type", "pool")
        .order_by("initiative__reference", "allocation_id", "kind", "pk")
    )
    evidence = defaultdict(list)
    records = (
        CostRecord.objects.filter(month=chargeback.month)
        .exclude(category=CostCategory.NON_GPU)
        .filter(
            Q(allocation__business_unit=business_unit)
            | Q(allocation__isnull=True, initiative__business_unit=business_unit)
            | Q(allocation__isnull=True, initiative__isnull=True, business_unit=business_unit)
        )
        .values("allocation", "category", "resource_id", "service_name")
        .annotate(
            records=Count("pk"),
            effective=Sum("effective_cost"),
            billed=Sum("billed_cost"),
            gpu_hours=Sum("gpu_hours"),
        )
        .order_by("allocation", "category", "resource_id")
    )
    for row in records:
        evidence[row["allocation"]].append(row)

    initiatives: dict = {}
    unassigned = {"lines": [], "total": ZERO}
    total = ZERO
    orphaned = ZERO
    for line in lines:
        if line.kind == Kind.ORPHANED:
            orphaned += line.amount
        else:
            total += line.amount
        if line.initiative_id is None and line.allocation_id is None:
            unassigned["lines"].append(line)
            unassigned["total"] += line.amount
            continue
        group = initiatives.setdefault(
            line.initiative_id,
            {"initiative": line.initiative, "allocations": {}, "lines": [], "total": ZERO},
        )
        group["total"] += line.amount
        if line.allocation_id is None:
            group["lines"].append(line)
            continue
        allocation = group["allocations"].setdefault(
            line.allocation_id,
            {
                "allocation": line.allocation,
                "lines": [],
                "total": ZERO,
                "cost_records": evidence.get(line.allocation_id, []),
            },
        )
        allocation["lines"].append(line)
        allocation["total"] += line.amount
    groups = []
    for group in initiatives.values():
        group["allocations"] = list(group["allocations"].values())
        groups.append(group)
    return {
        "business_unit": business_unit,
        "initiatives": groups,
        "unassigned": unassigned,
        "unassigned_cost_records": evidence.get(None, []),
        "total": total,
        "orphaned": orphaned,
    }


def chargeback_export_rows(chargeback: ChargebackMonth, actor):
    """Header, then one row per line the user may see (their units' lines; everything for
    organisation-wide readers)."""
    units = visible_business_unit_ids(actor)
    lines = ChargebackLine.objects.filter(chargeback=chargeback).select_related(
        "business_unit", "initiative", "allocation", "pool"
    )
    if units is not None:
        lines = lines.filter(business_unit_id__in=units)
    yield (
        "Month",
        "Business unit",
        "Kind",
        "Source",
        "Initiative",
        "Allocation",
        "Pool",
        "GPU-hours",
        "Amount",
        "Currency",
    )
    for line in lines.order_by("business_unit__name", "kind", "pk").iterator(chunk_size=2000):
        yield (
            chargeback.month.strftime("%Y-%m"),
            line.business_unit.code if line.business_unit_id else "",
            line.get_kind_display(),
            line.get_source_display(),
            line.initiative.reference if line.initiative_id else "",
            line.allocation_id or "",
            line.pool.name if line.pool_id else "",
            float(line.gpu_hours),
            float(line.amount),
            chargeback.currency,
        )


def chargeback_line_list(
    chargeback: ChargebackMonth, actor, *, kinds=(), business_unit=None
) -> QuerySet[ChargebackLine]:
    """The month's lines the actor may see (organisation-wide readers: all, including those
    with no unit; others: their units' lines), of ``kinds`` (all when empty) and of
    ``business_unit`` (a pk) when given, largest first: the rows behind the dashboard's
    "Unused commitments" and "Orphaned GPU cost"."""
    queryset = ChargebackLine.objects.filter(chargeback=chargeback).select_related(
        "business_unit", "initiative", "pool", "allocation"
    )
    units = visible_business_unit_ids(actor)
    if units is not None:
        queryset = queryset.filter(business_unit_id__in=units)
    if kinds:
        queryset = queryset.filter(kind__in=list(kinds))
    if business_unit:
        queryset = queryset.filter(business_unit_id=business_unit)
    return queryset.order_by("-amount", "pk")


def amount_total(queryset, field: str = "amount") -> Decimal:
    """Σ ``field`` over ``queryset`` (one query): the "total" of a list's summary line."""
    return queryset.order_by().aggregate(total=Sum(field, default=ZERO))["total"]


# --- Findings ------------------------------------------------------------------------------


def scope_findings(queryset: QuerySet[Finding], user) -> QuerySet[Finding]:
    units = visible_business_unit_ids(user)
    if units is None:
        return queryset
    return queryset.filter(business_unit_id__in=units) if units else queryset.none()


def findings_list(actor, filters: dict | None = None) -> QuerySet[Finding]:
    """Visible findings, most waste first; ``filters`` may hold kind, status (or "active"
    for open and acknowledged) and business_unit (a pk)."""
    queryset = scope_findings(
        Finding.objects.select_related(
            "allocation__pool__gpu_type",
            "business_unit",
            "initiative",
            "pool",
            "device",
            "acted_by",
        ),
        actor,
    )
    filters = filters or {}
    if filters.get("kind"):
        queryset = queryset.filter(kind=filters["kind"])
    status = filters.get("status")
    if status == "active":
        queryset = queryset.filter(status__in=OPEN_FINDING_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if filters.get("business_unit"):
        queryset = queryset.filter(business_unit_id=filters["business_unit"])
    return queryset.order_by("-monthly_waste", "-pk")


def finding_get(actor, pk) -> Finding:
    return get_object_or_404(findings_list(actor), pk=pk)


def findings_waste_total(queryset: QuerySet[Finding]) -> Decimal:
    return queryset.filter(status__in=OPEN_FINDING_STATUSES).aggregate(
        total=Sum("monthly_waste", default=ZERO)
    )["total"]
